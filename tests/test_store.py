"""The store: migrations, the cache, and two processes writing at once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

from grader.grading.service import Grader
from grader.judges.offline import OfflineJudge
from grader.store.db import MIGRATIONS, Store

ANSWER = "训练时用 batch 的均值和方差，推理时用 running mean 和 running var，测试时不更新，调用 model.eval()。"


def test_migrations_on_an_empty_database(tmp_path):
    store = Store(tmp_path / "new.db")
    assert store.schema_version == len(MIGRATIONS)
    cols = {r[1] for r in store.conn.execute("PRAGMA table_info(gradings)")}
    assert {"cache_key", "source", "answer", "result", "rubric_hash", "prompt_hash"} <= cols


def test_migrations_upgrade_an_older_database_and_keep_its_rows(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO gradings (created_at, question_id, rubric_version, rubric_hash, judge_kind, judge_model, "
        "judge_settings, answer, status, max_score, result) VALUES ('2026-01-01', 'bn-inference', 1, 'h', "
        "'offline', 'm', '{}', 'old answer', 'graded', 11, '{}')"
    )
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.schema_version == len(MIGRATIONS)
    rows = store.conn.execute("SELECT answer, cache_key FROM gradings").fetchall()
    assert [(r["answer"], r["cache_key"]) for r in rows] == [("old answer", None)]


def test_a_newer_database_is_refused(tmp_path):
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    try:
        Store(path)
    except Exception as exc:  # noqa: BLE001
        assert "newer than this grader" in str(exc)
    else:
        raise AssertionError("a store from a newer grader must be refused")


def test_identical_request_is_served_from_the_store(tmp_path, bank):
    store = Store(tmp_path / "c.db")
    rubric = bank.get("bn-inference")
    grader = Grader(OfflineJudge(), store)
    first = grader.grade(rubric, ANSWER)
    second = grader.grade(rubric, ANSWER)
    assert not first.grading.cached and second.grading.cached
    assert second.grading_id == first.grading_id
    assert second.grading.score == first.grading.score
    assert store.count() == 1
    third = Grader(OfflineJudge(), store, use_cache=False).grade(rubric, ANSWER)
    assert not third.grading.cached and store.count() == 2
    other = grader.grade(rubric, ANSWER + " 另外可以折叠进卷积。")
    assert not other.grading.cached and store.count() == 3


def test_every_grading_stores_answer_result_and_hashes(tmp_path, bank):
    store = Store(tmp_path / "s.db")
    rubric = bank.get("bn-inference")
    out = Grader(OfflineJudge(), store, source="test").grade(rubric, ANSWER)
    row = store.get(out.grading_id)
    assert row["answer"] == ANSWER
    assert row["rubric_hash"] == rubric.content_hash()
    assert row["judge_kind"] == "offline" and row["source"] == "test" and row["category"] == "normalization"
    assert '"criteria"' in row["result"] and row["score"] == out.grading.score


WRITER = textwrap.dedent(
    """
    import sys
    from grader.grading.models import Grading, JudgeInfo
    from grader.store.db import Store
    store = Store(sys.argv[1])
    for i in range(int(sys.argv[3])):
        g = Grading(question_id="q", rubric_version=1, rubric_hash="h", judge=JudgeInfo(kind="offline", model="m"),
                    status="graded", score=1, max_score=2, percent=50)
        store.save(g, f"{sys.argv[2]}-{i}", "normalization", None, sys.argv[2])
    """
)


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "shared.db"
    Store(path).close()
    n = 150
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(n)]) for name in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    store = Store(path)
    answers = {r[0] for r in store.conn.execute("SELECT answer FROM gradings")}
    assert len(answers) == 2 * n
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
