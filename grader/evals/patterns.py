"""How well each misconception's patterns do on the golden sets: answers that assert it and are
caught or missed, and answers that do not assert it but are flagged (false alarms)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PatternReport(BaseModel):
    question_id: str
    misconception: str
    expected: int
    caught: int
    missed: list[str] = Field(default_factory=list)  # golden answer ids
    false_alarms: list[str] = Field(default_factory=list)


def pattern_reports(bank, golden: dict) -> list[PatternReport]:
    from grader.judges.offline import OfflineJudge

    judge = OfflineJudge()
    out: list[PatternReport] = []
    for qid, gs in golden.items():
        rubric = bank.get(qid)
        found = {a.id: set(judge.grade(rubric, a.text).listed_misconception_ids) for a in gs.answers}
        for mis in rubric.misconceptions:
            asserting = [a.id for a in gs.answers if mis.id in a.expected.misconceptions]
            out.append(
                PatternReport(
                    question_id=qid,
                    misconception=mis.id,
                    expected=len(asserting),
                    caught=sum(1 for a in asserting if mis.id in found[a]),
                    missed=[a for a in asserting if mis.id not in found[a]],
                    false_alarms=[a.id for a in gs.answers if mis.id in found[a.id] and a.id not in asserting],
                )
            )
    return out
