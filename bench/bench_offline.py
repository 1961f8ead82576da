"""Offline judge speed and memory, and the LLM judge's own overhead against the scripted local
server (run by hand: python bench/bench_offline.py). Prints figures; asserts nothing."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def answers(bank) -> list[tuple[object, str]]:
    """Each rubric's reference answer, its first half, and another question's answer."""
    rubrics = list(bank.rubrics.values())
    out = []
    for i, r in enumerate(rubrics):
        ref = r.reference_answer.zh
        out += [(r, ref), (r, ref[: len(ref) // 2]), (r, rubrics[(i + 7) % len(rubrics)].reference_answer.zh[:250])]
    return out


def bench_offline(bank) -> None:
    from grader.judges.offline import OfflineJudge
    from grader.text import embed

    started = time.perf_counter()
    embed.encode(["warm up"])
    load = time.perf_counter() - started
    judge = OfflineJudge()
    work = answers(bank)
    for r, a in work:  # a first pass fills the per-rubric caches (embedded statements)
        judge.grade(r, a)
    started = time.perf_counter()
    for r, a in work:
        judge.grade(r, a)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    chars = sum(len(a) for _, a in work) / len(work)
    print(f"offline judge: model load {load:.2f} s; {len(work)} answers (mean {chars:.0f} characters) in "
          f"{elapsed:.2f} s = {len(work) / elapsed:.0f} answers/s; peak RSS {peak_mb:.0f} MB")


def bench_llm_overhead(bank) -> None:
    from grader.config import LLMSettings
    from grader.judges.llm import LLMJudge
    from tests.fake_llm import FakeLLM, judge_reply

    server = FakeLLM().start()
    try:
        rubric = bank.get("bn-inference")
        answer = rubric.reference_answer.zh
        first = answer.split("。")[0]
        server.default = None
        settings = LLMSettings(model="bench", base_url=server.base_url, max_retries=0, timeout_s=10)
        judge = LLMJudge(settings)
        n = 50
        for _ in range(n + 1):
            server.push(judge_reply(rubric, quotes={c.id: [first] for c in rubric.criteria}))
        judge.grade(rubric, answer)  # warm-up: client construction, imports
        started = time.perf_counter()
        for _ in range(n):
            judge.grade(rubric, answer)
        per = (time.perf_counter() - started) / n
        print(f"LLM judge overhead (prompt, HTTP round trip on loopback, parsing, evidence check): "
              f"{per * 1000:.1f} ms per grading, server reply time 0")
    finally:
        server.stop()


if __name__ == "__main__":
    from grader.rubric.bank import Bank

    bank = Bank.load()
    bench_offline(bank)
    bench_llm_overhead(bank)
