"""Eval runs in the store: saving a run with every case, finding a run by id or baseline name."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from grader.evals.runner import CaseResult, RunMetrics


def save_run(store, judge, bank_hash: str, questions: list[str], m: RunMetrics, results: list[CaseResult],
             baseline: str | None = None) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            """INSERT INTO eval_runs (created_at, baseline, judge_kind, judge_model, prompt_hash, judge_settings,
               bank_hash, questions, metrics, passed) VALUES (?,?,?,?,?,?,?,?,?,?)""",
            (
                datetime.now(timezone.utc).isoformat(),
                baseline,
                judge.kind,
                judge.model,
                judge.prompt_hash,
                json.dumps(judge.params, sort_keys=True),
                bank_hash,
                json.dumps(questions),
                m.model_dump_json(),
                int(not m.failures),
            ),
        )
        run_id = int(cur.lastrowid)
        conn.executemany(
            "INSERT INTO eval_results (run_id, question_id, case_id, kind, rubric_hash, data, passed) VALUES (?,?,?,?,?,?,?)",
            [(run_id, r.question_id, r.case_id, r.kind, r.rubric_hash, r.model_dump_json(), int(r.passed)) for r in results],
        )
    return run_id


def find_run(store, ref: str):
    """A run by its id, or the latest run saved as baseline `ref`."""
    if ref.isdigit():
        row = store.conn.execute("SELECT * FROM eval_runs WHERE id = ?", (int(ref),)).fetchone()
    else:
        row = store.conn.execute(
            "SELECT * FROM eval_runs WHERE baseline = ? ORDER BY id DESC LIMIT 1", (ref,)
        ).fetchone()
    return row


def run_results(store, run_id: int) -> list[CaseResult]:
    rows = store.conn.execute("SELECT data FROM eval_results WHERE run_id = ? ORDER BY rowid", (run_id,)).fetchall()
    return [CaseResult.model_validate_json(r["data"]) for r in rows]


def list_runs(store, limit: int = 20):
    return store.conn.execute("SELECT * FROM eval_runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
