"""How long the offline judge takes on a 20 KB adversarial answer, for every shipped rubric.

The answers are built to make misconception patterns and key-term matching work hardest: the
literal fragments of the rubric's own patterns and key terms, repeated without sentence breaks,
once separated by spaces and once run together. Prints the slowest of the two per rubric, the
slowest pattern seen, and the worst rubric overall. The target is under 2 s per answer.

    python bench/bench_adversarial.py [--only ID] [--size 20000] [--patterns-only]

--patterns-only times only the misconception patterns (all of a rubric's patterns over the whole
answer), without the rest of the offline judge.
"""

from __future__ import annotations

import argparse
import re._constants as C
import re._parser as P
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _literals(pattern: str) -> list[str]:
    """Runs of literal characters in a pattern (alternatives included)."""
    out: list[str] = []

    def walk(items) -> None:
        run = ""
        for op, av in items:
            if op is C.LITERAL:
                run += chr(av)
                continue
            if run:
                out.append(run)
                run = ""
            if op is C.SUBPATTERN:
                walk(av[3])
            elif op is C.BRANCH:
                for b in av[1]:
                    walk(b)
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
                walk(av[2])
        if run:
            out.append(run)

    try:
        walk(P.parse(pattern))
    except Exception:  # noqa: BLE001 - a bench, not a validator
        pass
    return out


def adversarial(rubric, size: int, sep: str) -> str:
    pieces: list[str] = []
    for m in rubric.misconceptions:
        for p in m.patterns:
            pieces.extend(_literals(p))
    for c in rubric.criteria:
        for g in c.key_terms:
            pieces.extend(g[:5])
    pieces = [p for p in pieces if p.strip()] or ["a"]
    text = sep.join(pieces)
    return (text + sep) * (size // max(1, len(text) + 1) + 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only")
    ap.add_argument("--size", type=int, default=20_000)
    ap.add_argument("--patterns-only", action="store_true")
    args = ap.parse_args()

    from grader.judges.offline import OfflineJudge
    from grader.rubric.bank import Bank
    from grader.text.normalize import normalize
    from grader.text.terms import find_claim, pattern_timeouts

    bank = Bank.load()
    judge = None if args.patterns_only else OfflineJudge()
    if judge:
        judge.grade(bank.get("bn-inference"), "warm-up: 训练时用 batch 统计量。")  # model load, not timed
    rows = []
    for rubric in sorted(bank.rubrics.values(), key=lambda r: r.id):
        if args.only and rubric.id != args.only:
            continue
        worst = (0.0, "")
        slow_pattern = (0.0, "")
        all_patterns = 0.0
        for sep in (" ", ""):
            answer = adversarial(rubric, args.size, sep)[: args.size]
            with pattern_timeouts() as timed_out:
                started = time.perf_counter()
                if judge:
                    judge.grade(rubric, answer)
                took = time.perf_counter() - started
            if took > worst[0]:
                worst = (took, "spaced" if sep else "run together")
            norm = normalize(answer)
            t_all = time.perf_counter()
            for m in rubric.misconceptions:
                for p in m.patterns:
                    t = time.perf_counter()
                    find_claim([p], norm)
                    dt = time.perf_counter() - t
                    if dt > slow_pattern[0]:
                        slow_pattern = (dt, p)
            all_patterns = max(all_patterns, time.perf_counter() - t_all)
            if timed_out:
                worst = (worst[0], worst[1] + f", {len(timed_out)} pattern timeout(s)")
        rows.append((worst[0], rubric.id, worst[1], slow_pattern, all_patterns))
        print(f"{rubric.id:32s} {worst[0]:6.2f} s ({worst[1]}); all patterns {all_patterns * 1000:7.1f} ms, "
              f"slowest {slow_pattern[0] * 1000:6.1f} ms", flush=True)
    rows.sort(reverse=True)
    if rows:
        took, qid, how, _, _ = rows[0]
        if judge:
            print(f"\nworst: {qid} {took:.2f} s ({how}); {sum(r[0] >= 2 for r in rows)} of {len(rows)} rubrics at 2 s or more")
        print(f"all patterns of one rubric, worst: {max(r[4] for r in rows) * 1000:.1f} ms; "
              f"slowest single pattern: {max(r[3][0] for r in rows) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
