"""Batch throughput against the scripted local LLM server with a fixed reply delay (run by hand:
python bench/bench_batch.py [N] [DELAY_S] [CONCURRENCY]). Prints figures; asserts nothing.
Also re-runs the same batch to show that a fully cached run makes no model call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3
    concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    from grader.rubric.bank import Bank
    from tests.fake_llm import FakeLLM, Scripted, judge_reply, question_id_of

    bank = Bank.load()
    rubrics = [r for r in bank.rubrics.values() if r.code_check is None]
    server = FakeLLM().start()
    with tempfile.TemporaryDirectory() as tmp:
        rows, answers = [], {}
        for i in range(n):
            r = rubrics[i % len(rubrics)]
            answer = f"({i}) " + r.reference_answer.zh
            rows.append({"question_id": r.id, "answer": answer})
            answers[r.id] = answer
        src = Path(tmp) / "answers.jsonl"
        src.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in rows), encoding="utf-8")

        def respond(payload):
            rubric = bank.get(question_id_of(payload))
            quote = rubric.reference_answer.zh.split("。")[0][:20]
            return Scripted(content=judge_reply(rubric, quotes={c.id: [quote] for c in rubric.criteria}), delay=delay)

        server.responder = respond
        env = dict(os.environ, GRADER_DB=str(Path(tmp) / "bench.db"), GRADER_LLM_MODEL="bench",
                   GRADER_LLM_BASE_URL=server.base_url, GRADER_LLM_RETRIES="0", GRADER_CONFIG=str(Path(tmp) / "none.toml"))
        cmd = [sys.executable, "-m", "grader", "batch", str(src), "--judge", "llm", "-c", str(concurrency),
               "--report", str(Path(tmp) / "r.json"), "--json"]
        started = time.perf_counter()
        first = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        s = json.loads(first.stdout)["summary"]
        requests_first = len(server.requests)
        # time of the grading itself, from the first judge request to the last reply
        span = max(server.request_times) - min(server.request_times) + delay
        ideal = n * delay / concurrency
        print(f"{n} answers, {delay * 1000:.0f} ms per reply, --concurrency {concurrency}: ideal {ideal:.2f} s")
        print(f"  grading span (first request to last reply) {span:.2f} s = {span / ideal:.2f}x ideal; "
              f"whole command {wall:.2f} s (start-up, reading, reports included); {s['graded']} graded, {requests_first} requests")
        started = time.perf_counter()
        again = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall2 = time.perf_counter() - started
        s2 = json.loads(again.stdout)["summary"]
        print(f"  cached re-run: {wall2:.2f} s, {len(server.requests) - requests_first} model calls, "
              f"{s2['from_store']} of {s2['graded']} from the store")
    server.stop()


if __name__ == "__main__":
    main()
