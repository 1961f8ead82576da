"""Human grades of stored gradings, and pairing them with the judge's for agreement figures."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from grader.grading.models import VERDICT_FRACTION


def add_review(store, grading_id: int, percent: float, verdicts: dict[str, str], reviewer: str | None, note: str | None) -> int:
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO reviews (grading_id, created_at, reviewer, percent, verdicts, note) VALUES (?,?,?,?,?,?)",
            (grading_id, datetime.now(timezone.utc).isoformat(), reviewer, percent, json.dumps(verdicts), note),
        )
        return int(cur.lastrowid)


def percent_from_verdicts(result: dict, verdicts: dict[str, str]) -> float:
    """The human's score when only verdicts are given (no penalties), as a percent."""
    awarded = sum(c["max_points"] * VERDICT_FRACTION[verdicts.get(c["id"], c["verdict"])] for c in result["criteria"])
    return round(100 * awarded / result["max_score"], 1)


def reviewed_pairs(store) -> list[dict]:
    rows = store.conn.execute(
        """SELECT g.percent AS judge_percent, g.result AS result, r.percent AS human_percent, r.verdicts AS verdicts
           FROM reviews r JOIN gradings g ON g.id = r.grading_id
           WHERE r.id IN (SELECT MAX(id) FROM reviews GROUP BY grading_id) AND g.status = 'graded'
           ORDER BY r.grading_id"""
    ).fetchall()
    out = []
    for row in rows:
        result = json.loads(row["result"])
        human = json.loads(row["verdicts"])
        judge = {c["id"]: c["verdict"] for c in result["criteria"]}
        out.append(
            {
                "judge_percent": row["judge_percent"],
                "human_percent": row["human_percent"],
                "verdicts": [(human[c], judge[c]) for c in human if c in judge],
            }
        )
    return out


def needing_review(store, limit: int = 20):
    """Graded, flagged for review by the judge, and not yet reviewed by a person."""
    rows = store.conn.execute(
        """SELECT id, created_at, question_id, percent, result FROM gradings g
           WHERE status = 'graded' AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.grading_id = g.id)
           ORDER BY id DESC"""
    ).fetchall()
    flagged = [r for r in rows if any(c.get("needs_review") for c in json.loads(r["result"])["criteria"])]
    return flagged[:limit]
