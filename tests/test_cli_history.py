"""Whose gradings `history` and `progress` show: the user's own by default, a coach's batch
gradings per candidate on request."""

from __future__ import annotations

import json
import sqlite3

from grader.cli.app import app
from grader.grading.models import Feedback, JudgeInfo, graded
from grader.store.db import MIGRATIONS, Store


def fake_grading(bank, qid: str, fraction: float):
    """A stored grading with a chosen score, without running a judge."""
    from grader.grading.models import CriterionGrade

    rubric = bank.get(qid)
    criteria = [
        CriterionGrade(id=c.id, verdict="met" if fraction >= 0.5 else "missed", points=c.points * (fraction >= 0.5),
                       max_points=c.points)
        for c in rubric.criteria
    ]
    return rubric, graded(rubric, JudgeInfo(kind="offline", model="test"), criteria, [], Feedback(summary="s"))


def fill(store: Store, bank) -> None:
    for qid, frac, source in [
        ("bn-inference", 1.0, "practice"),
        ("relu-vs-sigmoid", 0.0, "grade"),
        ("bn-inference", 0.0, "batch:examples/alice.srt#1"),
        ("l1-vs-l2", 1.0, "batch:examples/alice.srt#2"),
        ("l1-vs-l2", 0.0, "batch:examples/bob_notes.txt#1"),
    ]:
        rubric, g = fake_grading(bank, qid, frac)
        store.save(g, "answer", rubric.category, None, source)


def test_default_view_is_your_own_work(runner, bank, tmp_path):
    store = Store(tmp_path / "grader.db")
    fill(store, bank)
    store.close()
    rows = json.loads(runner.invoke(app, ["history", "--json"]).stdout)
    assert [(r["question_id"], r["source"]) for r in rows] == [("relu-vs-sigmoid", "grade"), ("bn-inference", "practice")]
    progress = json.loads(runner.invoke(app, ["progress", "--json"]).stdout)
    assert sorted((p["category"], p["average"]) for p in progress) == [("activations-optimisation", 0.0), ("normalization", 100.0)]
    only_practice = json.loads(runner.invoke(app, ["history", "--source", "practice", "--json"]).stdout)
    assert [r["source"] for r in only_practice] == ["practice"]


def test_batch_gradings_by_candidate(runner, bank, tmp_path):
    store = Store(tmp_path / "grader.db")
    fill(store, bank)
    store.close()
    alice = json.loads(runner.invoke(app, ["history", "--candidate", "alice", "--json"]).stdout)
    assert [(r["question_id"], r["candidate"]) for r in alice] == [
        ("l1-vs-l2", "examples/alice.srt"), ("bn-inference", "examples/alice.srt"),
    ]
    by_file = json.loads(runner.invoke(app, ["history", "--candidate", "bob_notes.txt", "--json"]).stdout)
    assert [r["candidate"] for r in by_file] == ["examples/bob_notes.txt"]
    progress = json.loads(runner.invoke(app, ["progress", "--candidate", "examples/alice.srt", "--json"]).stdout)
    assert sorted((p["category"], p["average"]) for p in progress) == [("classical-ml", 100.0), ("normalization", 0.0)]
    every = json.loads(runner.invoke(app, ["history", "--source", "all", "--json"]).stdout)
    assert len(every) == 5
    table = runner.invoke(app, ["history", "--source", "batch"]).stdout
    assert "batch: alice.srt" in table and "batch: bob_notes.txt" in table


def test_unknown_candidate_source_and_question_fail(runner, bank, tmp_path):
    store = Store(tmp_path / "grader.db")
    fill(store, bank)
    store.close()
    nobody = runner.invoke(app, ["progress", "--candidate", "carol"])
    assert nobody.exit_code == 1
    assert nobody.stderr == "error: no batch gradings for candidate 'carol'; known: examples/alice.srt, examples/bob_notes.txt\n"
    bad = runner.invoke(app, ["history", "--source", "coach"])
    assert bad.exit_code == 1 and bad.stderr.startswith("error: unknown source 'coach'; choose one of: practice, grade")
    typo = runner.invoke(app, ["history", "-q", "bn-inferenc"])
    assert typo.exit_code == 1 and "did you mean bn-inference" in typo.stderr
    as_json = runner.invoke(app, ["history", "--id", "77", "--json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stderr) == {"error": "no stored grading with id 77", "exit_code": 1}


def test_old_stores_are_migrated(tmp_path):
    """A store from before gradings named their candidate: 'cli' becomes 'grade' and
    'batch:<transcript>#<n>' becomes source 'batch' with the transcript as candidate."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:4]:
        conn.executescript(script)
    conn.execute("PRAGMA user_version = 4")
    row = ("2026-01-01T00:00:00", "q", "c", 1, "h", "offline", "m", "{}", "a", "graded", 1, 2, 50, "{}")
    for source in ("cli", "batch:mock/tom#2.srt#12", "practice"):
        conn.execute(
            "INSERT INTO gradings (created_at, question_id, category, rubric_version, rubric_hash, judge_kind, "
            "judge_model, judge_settings, answer, status, score, max_score, percent, result, source) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (*row, source),
        )
    conn.commit()
    conn.close()
    store = Store(path)
    got = [tuple(r) for r in store.conn.execute("SELECT source, candidate FROM gradings ORDER BY id")]
    assert got == [("grade", None), ("batch", "mock/tom#2.srt"), ("practice", None)]
    assert store.schema_version >= 5
