"""Per-check overhead of the code sandbox (run by hand: python bench/bench_sandbox.py [RUNS]).

For a trivial check (one test, `return 1`) the whole wall time is overhead: starting the checker
and numpy, bubblewrap's namespaces and mounts, the seccomp filter, the candidate's interpreter
and numpy inside the sandbox, and collecting the result. Then the four coding rubrics'
references, whose time adds their own tests. Prints seconds per run (median, min, max), the part
spent inside the candidate's process once it was ready (run_s), and the layers in force."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from grader.rubric.loader import load_file
from grader.rubric.models import CodeCheck
from grader.sandbox import run_code_check

ROOT = Path(__file__).resolve().parent.parent
RUBRICS = [
    "rubrics/coding-algorithms/hanoi.yaml",
    "rubrics/coding-algorithms/max-subarray.yaml",
    "rubrics/coding-algorithms/rearrange-string-k.yaml",
    "rubrics/segmentation/miou.yaml",
]


def measure(check: CodeCheck, code: str, runs: int) -> tuple[list[float], list[float], str]:
    walls, inside, status = [], [], ""
    for _ in range(runs):
        started = time.perf_counter()
        report = run_code_check(check, code)
        walls.append(time.perf_counter() - started)
        inside.append(report.run_s or 0.0)
        status = f"{report.status} {report.passed}/{report.total}"
    return walls, inside, status


def line(name: str, walls: list[float], inside: list[float], status: str) -> str:
    return (
        f"{name:<28} {statistics.median(walls):6.3f} s/run  (min {min(walls):.3f}, max {max(walls):.3f}; "
        f"candidate process {statistics.median(inside):.3f} s)  {status}"
    )


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    trivial = CodeCheck(
        entry="f", signature="def f() -> int", reference="def f():\n    return 1\n",
        tests=[{"name": "t", "call": "f()", "expect": "1", "criterion": "c"}],
    )
    warm = run_code_check(trivial, "def f():\n    return 1\n")  # warm the page cache and the package probe
    print(f"{runs} runs each; isolation: {warm.isolation.get('sandbox', 'none')}, seccomp: {warm.isolation.get('seccomp', '-')}")
    if warm.status != "ok":
        print(f"not running: {warm.message}")
        return
    print(line("trivial check (overhead)", *measure(trivial, "def f():\n    return 1\n", runs)))
    for rel in RUBRICS:
        rubric, problems = load_file(ROOT / rel)
        if rubric is None or rubric.code_check is None:
            print(f"{rel}: cannot load ({'; '.join(map(str, problems))})")
            continue
        n = max(3, runs // 4)
        print(line(f"{rubric.id} reference", *measure(rubric.code_check, rubric.code_check.reference, n)))


if __name__ == "__main__":
    main()
