"""The golden-set gate's speed, and proof that the batched path gives the same results as
grading answer by answer (run by hand: python bench/bench_evals.py [QUESTIONS|all] [--verify]).
QUESTIONS is a comma-separated list of ids, or a number (the first N questions of the bank).
Prints figures; with --verify, exits 1 when any case differs between the two paths."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    verify = "--verify" in sys.argv
    started = time.perf_counter()
    from grader.evals.runner import (
        compute_metrics,
        load_config,
        load_golden_sets,
        run_cases,
    )
    from grader.grading.service import Grader
    from grader.judges.offline import OfflineJudge
    from grader.rubric.bank import Bank
    from grader.text import embed

    bank = Bank.load()
    which = args[0] if args else "all"
    ids = list(bank.rubrics)
    if which.isdigit():
        ids = ids[: int(which)]
    elif which != "all":
        ids = which.split(",")
    sets = load_golden_sets(bank, ids)
    embed.encode(["warm up"])
    setup = time.perf_counter() - started
    grader = Grader(OfflineJudge(), None)
    thresholds = load_config().thresholds

    started = time.perf_counter()
    fast = run_cases(bank, grader, ids, sets)
    t_fast = time.perf_counter() - started
    m = compute_metrics(fast, thresholds)
    print(f"{len(ids)} questions, {m.golden_answers} golden answers, {m.canaries} canaries; start-up and "
          f"loading {setup:.1f} s; batched run {t_fast:.1f} s")
    if not verify:
        return 0
    embed.encode_cached.cache_clear()
    started = time.perf_counter()
    slow = run_cases(bank, grader, ids, sets, batched=False)
    t_slow = time.perf_counter() - started
    print(f"answer-by-answer run {t_slow:.1f} s ({t_slow / t_fast:.1f}x the batched run)")
    diffs = [(a.question_id, a.case_id) for a, b in zip(fast, slow) if a.model_dump() != b.model_dump()]
    same_metrics = compute_metrics(slow, thresholds).model_dump() == m.model_dump()
    print(f"cases that differ: {len(diffs)} of {len(fast)} {diffs[:10]}; metrics identical: {same_metrics}")
    return 0 if not diffs and same_metrics and len(fast) == len(slow) else 1


if __name__ == "__main__":
    sys.exit(main())
