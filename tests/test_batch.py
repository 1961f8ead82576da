"""Batch grading of transcripts: every format, failures, interruption and resumption, reports."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from grader.cli.app import app
from tests.fake_llm import Scripted, judge_reply, question_id_of

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


ROWS = [
    {"question_id": "bn-inference", "answer": "训练时用 batch 统计量，推理时用 running mean 和 running var，测试时不更新。"},
    {"question_id": "relu-vs-sigmoid", "answer": "sigmoid 两侧饱和导数最大 0.25，ReLU 正区间导数为 1，计算简单。"},
    {"question_id": "l1-vs-l2", "answer": "L1 是绝对值之和，产生稀疏解；L2 是平方和，让权重变小。"},
    {"question_id": "bn-position", "answer": "原论文放在激活之前，实践中放在之后也可以。"},
]


def test_examples_are_graded_offline_with_reports(runner, tmp_path):
    out = tmp_path / "reports"
    result = runner.invoke(app, ["batch", str(EXAMPLES), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    s = data["summary"]
    assert s["transcripts"] == 8
    assert s["failed"] == 0 and s["unscored"] == 0 and s["pending"] == 0
    assert s["graded"] >= 20 and s["judge_calls"] == 0
    by_file = {Path(t["path"]).name: t for t in data["transcripts"]}
    zh = by_file["mock_interview_zh.md"]
    statuses = {i["question_id"] or i["question"][:8]: i["status"] for i in zh["items"]}
    assert statuses["bn-inference"] == "graded" and statuses["relu-vs-sigmoid"] == "graded"
    optical = [i for i in zh["items"] if "光流" in i["question"]][0]
    assert optical["status"] == "unmatched" and optical["error"].startswith("closest bank question")
    assert any(s["reason"] == "not a technical question" for s in zh["skipped"])
    names = sorted(p.name for p in out.iterdir())
    assert "summary.csv" in names and "report-mock_interview_zh_md.md" in names and "report-answers_jsonl.json" in names
    assert "report-mock_interview_srt.html" in names and "report-mock_interview_vtt.html" in names
    assert len(names) == 2 + 3 * 8  # html, md and json for each transcript, one csv, the index page
    assert "index.html" in names
    csv_lines = (out / "summary.csv").read_text(encoding="utf-8").splitlines()
    assert csv_lines[0].startswith("transcript,index,question,question_id")
    assert len(csv_lines) == 1 + s["items"]


def test_dry_run_calls_nothing_and_estimates(runner, tmp_path, fake_llm, monkeypatch):
    monkeypatch.setenv("GRADER_LLM_MODEL", "fake-judge")
    monkeypatch.setenv("GRADER_LLM_BASE_URL", fake_llm.base_url)
    src = write_jsonl(tmp_path / "a.jsonl", ROWS)
    result = runner.invoke(app, ["batch", str(src), "--dry-run", "--judge", "llm", "--samples", "3", "--json"])
    assert result.exit_code == 0, result.output
    est = json.loads(result.stdout)
    assert est["matched"] == 4 and est["llm_calls"] == 12 and est["input_tokens"] > 1000
    assert fake_llm.requests == []
    assert json.loads(runner.invoke(app, ["history", "--json"]).stdout) == []


def _responder(fail_ids: set[str], bank):
    def respond(payload):
        qid = question_id_of(payload)
        if qid in fail_ids:
            return Scripted(status=500, body='{"error": {"message": "boom"}}', headers={"Retry-After": "0"})
        rubric = bank.get(qid)
        answer = next(r["answer"] for r in ROWS if r["question_id"] == qid)
        first = answer.split("，")[0]
        # One clause cannot be evidence for every criterion: it is cited for the first only.
        verdicts = {c.id: "missed" for c in rubric.criteria[1:]}
        return Scripted(content=judge_reply(rubric, verdicts=verdicts, quotes={rubric.criteria[0].id: [first]}))

    return respond


def test_failing_items_are_recorded_and_rerun_resumes(runner, tmp_path, fake_llm, monkeypatch, bank):
    monkeypatch.setenv("GRADER_LLM_MODEL", "fake-judge")
    monkeypatch.setenv("GRADER_LLM_BASE_URL", fake_llm.base_url)
    monkeypatch.setenv("GRADER_LLM_RETRIES", "0")
    src = write_jsonl(tmp_path / "a.jsonl", ROWS)
    fake_llm.responder = _responder({"l1-vs-l2"}, bank)
    first = runner.invoke(app, ["batch", str(src), "--judge", "llm", "-c", "4", "--report", str(tmp_path / "r.json"), "--json"])
    assert first.exit_code == 1
    s = json.loads(first.stdout)["summary"]
    assert (s["graded"], s["unscored"], s["judge_calls"]) == (3, 1, 3)
    items = json.loads(first.stdout)["transcripts"][0]["items"]
    failed = [i for i in items if i["status"] == "unscored"]
    assert [i["question_id"] for i in failed] == ["l1-vs-l2"]
    assert failed[0]["error"] == "the judge's endpoint answered HTTP 500"
    assert len(fake_llm.requests) == 4

    fake_llm.responder = _responder(set(), bank)
    second = runner.invoke(app, ["batch", str(src), "--judge", "llm", "--report", str(tmp_path / "r.json"), "--json"])
    assert second.exit_code == 0, second.output
    s2 = json.loads(second.stdout)["summary"]
    assert (s2["graded"], s2["from_store"], s2["judge_calls"]) == (4, 3, 1)
    assert len(fake_llm.requests) == 5  # only the failed item went to the judge again


def test_interrupted_run_loses_nothing_and_regrades_nothing(tmp_path, fake_llm, bank, runner, monkeypatch):
    from grader.batch.matching import QuestionMatcher
    from grader.batch.runner import load_transcripts, run_items
    from grader.config import LLMSettings
    from grader.grading.service import Grader
    from grader.judges.llm import LLMJudge
    from grader.store.db import Store

    src = write_jsonl(tmp_path / "a.jsonl", ROWS)
    fake_llm.responder = _responder(set(), bank)
    settings = LLMSettings(model="fake-judge", base_url=fake_llm.base_url, max_retries=0)
    store = Store(tmp_path / "grader.db")  # the same store GRADER_DB names
    results = load_transcripts([src], QuestionMatcher(bank), 0.6)
    items = results[0].items

    async def interrupted_run():
        stop = asyncio.Event()
        done = []

        def on_done(item):
            done.append(item)
            if len(done) == 2:
                stop.set()  # what the first Ctrl-C does

        await run_items(items, Grader(LLMJudge(settings), store), bank, concurrency=1, on_done=on_done, stop=stop)

    asyncio.run(interrupted_run())
    assert [i.status for i in items] == ["graded", "graded", "pending", "pending"]
    assert store.count() == 2 and len(fake_llm.requests) == 2
    store.close()

    monkeypatch.setenv("GRADER_LLM_MODEL", "fake-judge")
    monkeypatch.setenv("GRADER_LLM_BASE_URL", fake_llm.base_url)
    again = runner.invoke(app, ["batch", str(src), "--judge", "llm", "--report", str(tmp_path / "r.json"), "--json"])
    assert again.exit_code == 0, again.output
    s = json.loads(again.stdout)["summary"]
    assert (s["graded"], s["from_store"], s["judge_calls"]) == (4, 2, 2)
    assert len(fake_llm.requests) == 4  # two before the interruption, two after: none twice


def test_unknown_question_id_and_unreadable_file(runner, tmp_path):
    src = write_jsonl(tmp_path / "a.jsonl", [{"question_id": "bn-infrence", "answer": "用 running mean。"}])
    binary = tmp_path / "b.srt"
    binary.write_bytes(b"\x00\x01\x02\x03" * 100)
    result = runner.invoke(app, ["batch", str(src), str(binary), "--report", str(tmp_path / "r.json"), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    item = data["transcripts"][0]["items"][0]
    assert item["status"] == "unmatched"
    assert item["error"].startswith("question id 'bn-infrence' is not in the bank; did you mean bn-inference")
    assert data["transcripts"][1]["error"].startswith(str(binary))
    warnings = [json.loads(line)["warning"] for line in result.stderr.splitlines()]  # JSON under --json
    assert any(w.startswith(str(binary)) for w in warnings)


@pytest.mark.parametrize(
    "args, message",
    [
        (["no/such/file.srt"], "error: no/such/file.srt: no such file or directory\n"),
        (["examples/*.doc"], "error: examples/*.doc: no file matches\n"),
        (["examples", "--report", "out.pdf"], "error: --report out.pdf: the file name must end in .html, .md, .json or .csv\n"),
        (["examples", "--label", "考官"], "error: --label expects LABEL=ROLE (role: interviewer, candidate or unknown), not '考官'\n"),
    ],
)
def test_bad_batch_input(runner, args, message, monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)
    result = runner.invoke(app, ["batch", *args])
    assert result.exit_code == 1
    assert result.stderr == message


def test_claims_in_the_store_expire_and_belong_to_one_holder(tmp_path):
    from grader.store.db import Store

    store, other = Store(tmp_path / "g.db"), Store(tmp_path / "g.db")
    assert store.claim("k1", "a", 60) and not other.claim("k1", "b", 60)
    assert store.claim("k1", "a", 60)  # the holder may take it again
    other.release("k1", "b")  # not b's: nothing happens
    assert not other.claim("k1", "b", 60)
    store.release("k1", "a")
    assert other.claim("k1", "b", 60)
    assert store.claim("k2", "crashed", -1)  # a lease that has run out, as a dead process leaves it
    assert other.claim("k2", "b", 60)
    store.close(), other.close()


@pytest.mark.parametrize("processes", [2, 4])
def test_concurrent_batches_grade_each_answer_once(tmp_path, fake_llm, bank, processes):
    """Real processes on one store and one input: every answer is graded, and the judge is
    called once per answer in total (claims in the store), whatever the interleaving."""
    import os
    import subprocess
    import sys

    rubrics = [r for r in bank.rubrics.values() if r.code_check is None][:40]
    rows = [{"question_id": r.id, "answer": f"（{i}）" + r.reference_answer.zh.split("。")[0] + "。"} for i, r in enumerate(rubrics)]
    src = write_jsonl(tmp_path / "answers.jsonl", rows)
    # Every criterion missed, no quotes: a valid grading whatever the evidence check requires.
    fake_llm.responder = lambda payload: Scripted(
        content=judge_reply(bank.get(question_id_of(payload)), default_verdict="missed"), delay=0.05
    )
    env = dict(os.environ, GRADER_DB=str(tmp_path / "shared.db"), GRADER_LLM_MODEL="fake-judge",
               GRADER_LLM_BASE_URL=fake_llm.base_url, GRADER_LLM_RETRIES="0")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "grader", "batch", str(src), "--judge", "llm", "-c", "4", "--json",
             "--report", str(tmp_path / f"r{n}.json")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n in range(processes)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
    summaries = [json.loads(out)["summary"] for out, _ in outputs]
    assert all(s["graded"] == 40 and s["failed"] == 0 for s in summaries)
    assert len(fake_llm.requests) == 40
    assert sorted(question_id_of(r) for r in fake_llm.requests) == sorted(r.id for r in rubrics)
    assert sum(s["judge_calls"] for s in summaries) == 40
    assert sum(s["from_store"] for s in summaries) == 40 * (processes - 1)


def test_offline_batch_stores_every_grading_and_matches_in_one_pass(runner, tmp_path, bank):
    from grader.batch.matching import QuestionMatcher
    from grader.store.db import Store

    questions = ["讲一下 BN 在推理的时候是怎么工作的", "ReLU 和 sigmoid 有什么区别？", "介绍一下你最近的项目", "  "]
    matcher = QuestionMatcher(bank)
    together = matcher.match_many([(q, None) for q in questions] + [("", "bn-infrence")])
    alone = [matcher.match(q) for q in questions] + [matcher.match("", "bn-infrence")]
    assert [(m.question_id, m.method) for m in together] == [(m.question_id, m.method) for m in alone]
    assert [m.confidence for m in together] == pytest.approx([m.confidence for m in alone], abs=1e-3)
    assert together[0].question_id == "bn-inference" and together[3].question_id is None
    assert together[4].method == "none" and together[4].candidates[0][0] == "bn-inference"

    src = write_jsonl(tmp_path / "a.jsonl", ROWS)
    first = runner.invoke(app, ["batch", str(src), "--report", str(tmp_path / "r.json"), "--json"])
    assert first.exit_code == 0, first.output
    items = json.loads(first.stdout)["transcripts"][0]["items"]
    store = Store(tmp_path / "grader.db")
    rows = {r["id"]: r for r in store.conn.execute("SELECT id, question_id, percent FROM gradings").fetchall()}
    assert sorted(i["grading_id"] for i in items) == sorted(rows)
    assert all(rows[i["grading_id"]]["question_id"] == i["question_id"] for i in items)
    assert all(rows[i["grading_id"]]["percent"] == i["grading"]["percent"] for i in items)
    store.close()
    again = runner.invoke(app, ["batch", str(src), "--report", str(tmp_path / "r.json"), "--json"])
    s = json.loads(again.stdout)["summary"]
    assert (s["graded"], s["from_store"]) == (4, 4)


def test_prefilled_embeddings_give_the_same_gradings(bank):
    from grader.judges.offline import OfflineJudge
    from grader.text import embed

    judge = OfflineJudge()
    work = [(bank.get(r["question_id"]), r["answer"]) for r in ROWS] + [(bank.get("bn-inference"), bank.get("bn-inference").reference_answer.zh)]
    alone = [judge.grade(r, a) for r, a in work]
    with embed.prefilled(a for _, a in work) as embedded:
        assert embedded > len(work)
        together = [judge.grade(r, a) for r, a in work]
    assert not embed._cache  # dropped after the block
    for a, b in zip(alone, together):
        assert [(c.id, c.verdict, c.points) for c in a.criteria] == [(c.id, c.verdict, c.points) for c in b.criteria]
        assert a.percent == b.percent


def test_english_stemming_from_several_threads_gives_each_word_its_own_stem():
    # An eval run grades coding answers in a thread pool beside the main thread; a stemmer shared
    # between them mixed up the words they worked on (wrong stems, or an IndexError).
    import itertools
    from concurrent.futures import ThreadPoolExecutor

    from grader.text import terms

    words = ["".join(p) + end for p in itertools.product("abcdefg", repeat=4) for end in ("ational", "izations", "fulness", "ing")]
    terms.stem_en.cache_clear()
    alone = [terms._stemmer().stemWord(w) for w in words]
    with ThreadPoolExecutor(4) as pool:
        stemmers = set(pool.map(lambda _: id(terms._stemmer()), range(4)))
        terms.stem_en.cache_clear()
        together = list(pool.map(lambda chunk: [terms.stem_en(w) for w in chunk], [words] * 4))
    terms.stem_en.cache_clear()
    assert all(run == alone for run in together)
    assert id(terms._stemmer()) not in stemmers  # the main thread's stemmer is its own
    assert alone[:4] == ["aaaaation", "aaaaizat", "aaaaful", "aaaa"]
