"""How fast commands start (run by hand: python bench/bench_startup.py): `grader --help`,
`grader questions`, and `grader grade` from the command to the printed grading (offline judge:
model load included). Prints the median wall time of several runs of each, each a fresh process."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

RUNS = 7
ANSWER = "训练时用 batch 的均值和方差，推理时用 running mean 和 running var，测试时不更新。"
COMMANDS = [["--help"], ["questions"], ["questions", "--json"], ["show", "bn-inference"],
            ["grade", "bn-inference", "--answer", ANSWER, "--no-cache"]]


def main() -> None:
    exe = shutil.which("grader")
    base = [exe] if exe else [sys.executable, "-m", "grader"]
    import os
    import tempfile

    tmp = tempfile.mkdtemp()
    os.environ["GRADER_DB"] = os.path.join(tmp, "bench.db")  # never the user's own store
    for args in COMMANDS:
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            subprocess.run(base + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - started)
        print(f"grader {' '.join(args)[:30]:<30} median {statistics.median(times) * 1000:6.0f} ms   min {min(times) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
