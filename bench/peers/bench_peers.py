"""The same answers graded through an LLM by grader, promptfoo (`llm-rubric`) and Inspect AI
(`model_graded_qa`), against the project's scripted OpenAI-compatible server, at the same
concurrency. Prints wall time, requests and requests per second side by side; asserts nothing.

Set-up, once (neither tool becomes a dependency of grader):
  cd bench/peers && npm install                      # promptfoo, into bench/peers/node_modules
  python -m venv bench/peers/.venv && bench/peers/.venv/bin/pip install inspect-ai openai

Run: python bench/peers/bench_peers.py [N] [DELAY_S] [CONCURRENCY]   (200 answers, 0.3 s, 16)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

PROMPTFOO = HERE / "node_modules" / ".bin" / "promptfoo"
INSPECT_PYTHON = Path(os.environ.get("INSPECT_PYTHON", HERE / ".venv" / "bin" / "python"))

INSPECT_TASK = '''
import json
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput
from inspect_ai.scorer import model_graded_qa
from inspect_ai.solver import solver


@solver
def recorded_answer():
    """The candidate's answer is already written: no generation, only the grading."""
    async def solve(state, generate):
        state.output = ModelOutput.from_content("recorded", state.metadata["answer"])
        return state
    return solve


@task
def graded_answers():
    rows = [json.loads(line) for line in open(ANSWERS, encoding="utf-8")]
    samples = [Sample(input=r["question"], target=r["rubric"], metadata={"answer": r["answer"]}) for r in rows]
    return Task(dataset=samples, solver=recorded_answer(), scorer=model_graded_qa())
'''


def answers(n: int) -> list[dict]:
    from grader.rubric.bank import Bank

    bank = Bank.load()
    rubrics = [r for r in bank.rubrics.values() if r.code_check is None]
    rows = []
    for i in range(n):
        r = rubrics[i % len(rubrics)]
        rubric_text = "\n".join(f"- {c.statement.en} ({c.points:g} points)" for c in r.criteria)
        rows.append({"question_id": r.id, "question": r.question.en, "rubric": rubric_text,
                     "answer": f"({i}) " + r.reference_answer.zh})
    return rows


def start_server(delay: float):
    from grader.rubric.bank import Bank
    from tests.fake_llm import FakeLLM, Scripted, judge_reply, question_id_of

    bank = Bank.load()
    server = FakeLLM().start()

    def respond(payload):
        text = json.dumps(payload, ensure_ascii=False)
        qid = question_id_of(payload) if len(payload.get("messages", [])) > 1 else ""
        if qid:  # grader's judge prompt
            return Scripted(content=judge_reply(bank.get(qid), default_verdict="missed"), delay=delay)
        if "GRADE:" in text:  # Inspect's model_graded_qa
            return Scripted(content="The answer covers the criteria.\nGRADE: C", delay=delay)
        return Scripted(content=json.dumps({"reason": "covers the rubric", "pass": True, "score": 1}), delay=delay)  # promptfoo

    server.responder = respond
    return server


def timed(cmd: list[str], env: dict, cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, out


def run_grader(rows, tmp: Path, server, concurrency: int) -> tuple[float, subprocess.CompletedProcess]:
    src = tmp / "answers.jsonl"
    src.write_text("\n".join(json.dumps({"question_id": r["question_id"], "answer": r["answer"]}, ensure_ascii=False)
                             for r in rows), encoding="utf-8")
    (tmp / "empty.toml").write_text("", encoding="utf-8")
    env = dict(os.environ, GRADER_DB=str(tmp / "grader.db"), GRADER_LLM_MODEL="bench", GRADER_LLM_BASE_URL=server.base_url,
               GRADER_LLM_RETRIES="0", GRADER_CONFIG=str(tmp / "empty.toml"), GRADER_CACHE_DIR=str(tmp / "cache"))
    return timed([sys.executable, "-m", "grader", "batch", str(src), "--judge", "llm", "-c", str(concurrency),
                  "--report", str(tmp / "r.json"), "--json"], env)


def run_promptfoo(rows, tmp: Path, server, concurrency: int) -> tuple[float, subprocess.CompletedProcess]:
    tests = [{"vars": {"answer": r["answer"]}, "assert": [{"type": "llm-rubric", "value": f"Question: {r['question']}\n"
                                                           f"Grade the answer against:\n{r['rubric']}"}]} for r in rows]
    config = {
        "description": "grader peer bench",
        "prompts": ["{{answer}}"],
        "providers": ["echo"],  # the output under test is the recorded answer itself
        "defaultTest": {"options": {"provider": {"id": "openai:chat:bench", "config": {
            "apiBaseUrl": server.base_url, "apiKey": "bench"}}}},
        "tests": tests,
    }
    (tmp / "promptfooconfig.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ, PROMPTFOO_CONFIG_DIR=str(tmp / "promptfoo-home"), PROMPTFOO_DISABLE_TELEMETRY="1",
               PROMPTFOO_DISABLE_UPDATE="1", PROMPTFOO_CACHE_ENABLED="false", OPENAI_API_KEY="bench")
    return timed([str(PROMPTFOO), "eval", "-c", str(tmp / "promptfooconfig.json"), "-j", str(concurrency),
                  "--no-cache", "--no-progress-bar", "--no-table", "-o", str(tmp / "promptfoo.json")], env, cwd=tmp)


def run_inspect(rows, tmp: Path, server, concurrency: int) -> tuple[float, subprocess.CompletedProcess]:
    data = tmp / "inspect.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    task = tmp / "inspect_task.py"
    task.write_text(f"ANSWERS = {str(data)!r}\n" + INSPECT_TASK, encoding="utf-8")
    env = dict(os.environ, OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="bench", INSPECT_LOG_DIR=str(tmp / "logs"),
               INSPECT_DISPLAY="none")
    inspect = INSPECT_PYTHON.parent / "inspect"
    return timed([str(inspect), "eval", task.name, "--model", "openai/bench", "-M", "responses_api=false", "--max-connections", str(concurrency),
                  "--max-samples", str(concurrency), "--no-log-samples", "--display", "none"], env, cwd=tmp)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.3
    concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    rows = answers(n)
    server = start_server(delay)
    tools = [("grader batch", run_grader, True), ("promptfoo llm-rubric", run_promptfoo, PROMPTFOO.exists()),
             ("Inspect model_graded_qa", run_inspect, INSPECT_PYTHON.exists())]
    print(f"{n} answers, {delay * 1000:.0f} ms per reply, concurrency {concurrency}: ideal {n * delay / concurrency:.2f} s "
          f"of grading")
    print(f"{'tool':<26} {'wall':>8} {'requests':>9} {'req/s':>7} {'span':>7}  (span: first request to last reply)")
    try:
        for name, run, available in tools:
            if not available:
                print(f"{name:<26} not installed (see the set-up at the top of this file)")
                continue
            before = len(server.requests)
            with tempfile.TemporaryDirectory() as tmp:
                wall, out = run(rows, Path(tmp), server, concurrency)
            times = server.request_times[before:]
            made = len(times)
            span = (max(times) - min(times) + delay) if times else 0.0
            note = "" if out.returncode == 0 else f"  exit {out.returncode}: {(out.stderr or out.stdout).strip()[-200:]}"
            print(f"{name:<26} {wall:7.2f}s {made:9d} {made / wall:7.1f} {span:6.2f}s{note}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
