"""Question matching speed (run by hand: python bench/bench_matching.py [N]): N interview questions
(bank phrasings with spoken additions, and questions the bank does not have) matched in one call,
as `grader batch` does, against matching them one at a time. Prints figures; asserts nothing."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PREFIXES = ["", "那我问一下，", "嗯，", "OK, next one: ", "能不能讲讲", "Could you explain "]
UNKNOWN = ["光流估计的经典方法有哪些？", "介绍一下你最近的项目", "How does a B-tree split a node?", "Transformer 的位置编码怎么做？"]


def questions(bank, n: int) -> list[str]:
    phrasings = [p for r in bank.rubrics.values() for p in (r.question.zh, r.question.en, *r.aliases)]
    out = []
    for i in range(n):
        base = UNKNOWN[i % len(UNKNOWN)] if i % 10 == 9 else phrasings[i % len(phrasings)]
        out.append(f"{PREFIXES[i % len(PREFIXES)]}{base}（第{i}题）")
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    from grader.batch.matching import QuestionMatcher
    from grader.rubric.bank import Bank
    from grader.text import embed

    bank = Bank.load()
    embed.encode(["warm up"])  # the model load is start-up, not matching
    matcher = QuestionMatcher(bank)
    matcher._phrasing_vectors()
    qs = questions(bank, n)
    started = time.perf_counter()
    many = matcher.match_many([(q, None) for q in qs])
    batched = time.perf_counter() - started
    one = min(n, 50)
    started = time.perf_counter()
    singles = [matcher.match_many([(q, None)])[0] for q in qs[:one]]
    per = (time.perf_counter() - started) / one
    same = sum(a.question_id == b.question_id for a, b in zip(many, singles))
    print(f"{n} questions matched in one call: {batched:.2f} s ({batched / n * 1000:.1f} ms each); "
          f"one at a time: {per * 1000:.0f} ms each, {per * n:.1f} s for {n}; "
          f"same bank question for {same} of the {one} compared")


if __name__ == "__main__":
    main()
