"""How fast `grader --help` and `grader questions` start (run by hand: python bench/bench_startup.py).
Prints the median wall time of several runs of each command in a fresh process."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

RUNS = 7
COMMANDS = [["--help"], ["questions"], ["questions", "--json"], ["show", "bn-inference"]]


def main() -> None:
    exe = shutil.which("grader")
    base = [exe] if exe else [sys.executable, "-m", "grader"]
    for args in COMMANDS:
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            subprocess.run(base + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - started)
        print(f"grader {' '.join(args):<22} median {statistics.median(times) * 1000:6.0f} ms   min {min(times) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
