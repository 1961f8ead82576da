"""Batch throughput (run by hand; prints figures, asserts nothing):

  python bench/bench_batch.py offline [N]                 offline judge: the Python API, then
      `grader batch` at -c 1 and at the default concurrency, on the same N answers (2,000), each a
      whole fresh process, so start-up and the model load count on both sides
  python bench/bench_batch.py llm [N] [DELAY_S] [CONCURRENCY]   LLM judge against the scripted
      local server with a fixed reply delay, then a cached re-run (no model call)
  python bench/bench_batch.py                             both, with the defaults"""

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


API_SCRIPT = """
import json, pathlib, sys, time
started = time.perf_counter()
from grader.judges.offline import OfflineJudge
from grader.rubric.bank import Bank
bank = Bank.load()
judge = OfflineJudge()
rows = [json.loads(line) for p in sorted(pathlib.Path(sys.argv[1]).glob("*.jsonl")) for line in open(p, encoding="utf-8")]
for row in rows:
    judge.grade(bank.get(row["question_id"]), row["answer"])
print(time.perf_counter() - started)
"""


def offline_answers(n: int) -> list[dict]:
    """N different answers: the golden answers of the non-coding questions, each sentence tagged
    with the answer's number so that no sentence repeats across answers (as in real batches)."""
    from grader.evals.runner import load_golden_sets
    from grader.rubric.bank import Bank

    bank = Bank.load()
    ids = [r.id for r in bank.rubrics.values() if r.code_check is None]
    sets = load_golden_sets(bank, ids)
    pool = [(q, a.text) for q in ids if q in sets for a in sets[q].answers]
    rows = []
    for i in range(n):
        qid, text = pool[i % len(pool)]
        parts = [p for p in text.replace("\n", "").split("。") if p.strip()]
        rows.append({"question_id": qid, "answer": "。".join(f"{p}（{i}）" for p in parts) + "。"})
    return rows


def bench_offline(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "answers"  # files of 500 answers (a file holds at most 1,000 pairs)
        src.mkdir()
        rows = offline_answers(n)
        for k in range(0, n, 500):
            (src / f"part-{k // 500:03d}.jsonl").write_text(
                "\n".join(json.dumps(r, ensure_ascii=False) for r in rows[k : k + 500]), encoding="utf-8")
        (Path(tmp) / "empty.toml").write_text("", encoding="utf-8")  # no user settings
        env = dict(os.environ, GRADER_CONFIG=str(Path(tmp) / "empty.toml"), GRADER_CACHE_DIR=str(Path(tmp) / "cache"))
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", API_SCRIPT, str(src)], env=env, check=True, capture_output=True)
        api = time.perf_counter() - started
        print(f"offline judge, {n} answers, each command a fresh process:")
        print(f"  Python API (OfflineJudge.grade in a loop)        {api:7.1f} s")
        for label, extra in (("grader batch -c 1", ["-c", "1"]), ("grader batch (default concurrency)", [])):
            db = Path(tmp) / f"{len(extra)}.db"
            cmd = [sys.executable, "-m", "grader", "batch", str(src), "--judge", "offline", "--report",
                   str(Path(tmp) / "r.json"), "--json", *extra]
            started = time.perf_counter()
            out = subprocess.run(cmd, env=dict(env, GRADER_DB=str(db)), capture_output=True, text=True, check=False)
            wall = time.perf_counter() - started
            if not out.stdout.strip():
                sys.exit(f"{label} failed: {out.stderr.strip()[-300:]}")
            s = json.loads(out.stdout)["summary"]
            print(f"  {label:<48} {wall:7.1f} s = {wall / api:.2f}x the API; {s['graded']} graded and stored")


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "both"
    if what in ("offline", "both"):
        bench_offline(int(sys.argv[2]) if what == "offline" and len(sys.argv) > 2 else 2000)
    if what in ("llm", "both"):
        args = sys.argv[2:] if what == "llm" else []
        bench_llm(*args)


def bench_llm(n: str | int = 200, delay: str | float = 0.3, concurrency: str | int = 16) -> None:
    n, delay, concurrency = int(n), float(delay), int(concurrency)
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
        (Path(tmp) / "empty.toml").write_text("", encoding="utf-8")

        def respond(payload):
            # Every criterion missed, no quotes: a valid grading whatever the evidence check asks.
            rubric = bank.get(question_id_of(payload))
            return Scripted(content=judge_reply(rubric, default_verdict="missed"), delay=delay)

        server.responder = respond
        env = dict(os.environ, GRADER_DB=str(Path(tmp) / "bench.db"), GRADER_LLM_MODEL="bench",
                   GRADER_LLM_BASE_URL=server.base_url, GRADER_LLM_RETRIES="0", GRADER_CONFIG=str(Path(tmp) / "empty.toml"))
        cmd = [sys.executable, "-m", "grader", "batch", str(src), "--judge", "llm", "-c", str(concurrency),
               "--report", str(Path(tmp) / "r.json"), "--json"]
        started = time.perf_counter()
        first = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
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
        again = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        wall2 = time.perf_counter() - started
        s2 = json.loads(again.stdout)["summary"]
        print(f"  cached re-run: {wall2:.2f} s, {len(server.requests) - requests_first} model calls, "
              f"{s2['from_store']} of {s2['graded']} from the store")
    server.stop()


if __name__ == "__main__":
    main()
