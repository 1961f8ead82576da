"""The grading result: the same structure from every judge, serialisable to JSON."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Verdict = Literal["met", "partial", "missed"]
VERDICT_FRACTION: dict[str, float] = {"met": 1.0, "partial": 0.5, "missed": 0.0}


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evidence(Model):
    """A span of the candidate's answer; offsets are into the original answer text."""

    quote: str
    start: int | None = None
    end: int | None = None
    verified: bool = False


class CriterionGrade(Model):
    id: str
    verdict: Verdict
    points: float
    max_points: float
    evidence: list[Evidence] = Field(default_factory=list)
    evidence_verified: bool = False
    rationale: str = ""
    # Agreement between samples (LLM judge) or the margin from a verdict boundary (offline
    # judge); None when a single LLM sample gives no measure of it.
    confidence: float | None = Field(default=None, ge=0, le=1)
    # e.g. "evidence_not_found" (credit withdrawn), "borderline", "code_tests", "keyword_list"
    flags: list[str] = Field(default_factory=list)
    needs_review: bool = False


class MisconceptionHit(Model):
    """A wrong claim the answer makes: one of the rubric's listed misconceptions (`id` is the
    misconception's), or a criterion's relation turned round or its whole point denied (`id` is
    the criterion's)."""

    id: str
    claim: str
    correction: str
    penalty: float
    evidence: list[Evidence] = Field(default_factory=list)
    kind: Literal["listed", "turned", "denied"] = "listed"


class Feedback(Model):
    summary: str = ""
    missing: list[str] = Field(default_factory=list)
    fix: list[str] = Field(default_factory=list)
    follow_up: str = ""


class JudgeInfo(Model):
    kind: Literal["offline", "llm"]
    model: str
    endpoint: str | None = None
    prompt_hash: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    samples: int = 1

    @property
    def label(self) -> str:
        if self.kind == "offline":
            return f"offline judge ({self.model}; no LLM)"
        return f"LLM judge ({self.model})"


class Usage(Model):
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0


class CodeSummary(Model):
    """What running the candidate's code showed (coding questions only)."""

    status: str
    message: str
    passed: int = 0
    total: int = 0


class Grading(Model):
    question_id: str
    rubric_version: int
    rubric_hash: str
    judge: JudgeInfo
    status: Literal["graded", "unscored"]
    reason: str | None = None  # why unscored
    score: float | None = None
    max_score: float
    percent: float | None = None
    criteria: list[CriterionGrade] = Field(default_factory=list)
    misconceptions: list[MisconceptionHit] = Field(default_factory=list)
    feedback: Feedback = Field(default_factory=Feedback)
    code: CodeSummary | None = None
    usage: Usage = Field(default_factory=Usage)
    raw_replies: list[str] = Field(default_factory=list)  # kept when the judge's output was unusable
    notes: list[str] = Field(default_factory=list)  # what the checks changed, e.g. dropped quotes
    created_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    cached: bool = False

    @property
    def needs_review(self) -> bool:
        return any(c.needs_review for c in self.criteria)

    @property
    def listed_misconception_ids(self) -> list[str]:
        """The rubric's misconceptions the answer asserts (points turned round or denied left out)."""
        return [m.id for m in self.misconceptions if m.kind == "listed"]


# A wrong claim costs its penalty, but all penalties together take at most this share of the
# points earned: a partly correct answer keeps at least a quarter of what it got right.
PENALTY_SHARE = 0.75
# A claim that turns a criterion's relation round (roles swapped, order or direction reversed) is
# a wrong claim like a listed misconception: besides earning nothing for the point, it costs this
# share of the point's value.
TURNED_SHARE = 0.5


def turned_penalty(points: float) -> float:
    """What a claim that turns round a criterion worth `points` costs."""
    return round(TURNED_SHARE * points, 2)


def penalty_applied(criteria: list[CriterionGrade], misconceptions: list[MisconceptionHit]) -> float:
    """What the wrong claims cost: the sum of their penalties, capped at PENALTY_SHARE of the
    points earned."""
    earned = sum(c.points for c in criteria)
    return round(min(sum(m.penalty for m in misconceptions), PENALTY_SHARE * earned), 2)


def total_score(criteria: list[CriterionGrade], misconceptions: list[MisconceptionHit], max_score: float) -> float:
    """Awarded points minus the (capped) penalties, clamped to [0, max]."""
    raw = sum(c.points for c in criteria) - penalty_applied(criteria, misconceptions)
    return round(min(max(raw, 0.0), max_score), 2)


def _penalty_note(criteria: list[CriterionGrade], misconceptions: list[MisconceptionHit]) -> list[str]:
    full = sum(m.penalty for m in misconceptions)
    applied = penalty_applied(criteria, misconceptions)
    if applied >= full or applied <= 0:
        return []  # nothing capped, or nothing earned for a penalty to take
    return [f"penalties {full:g} capped at {applied:g} ({PENALTY_SHARE:g} of the {sum(c.points for c in criteria):g} points earned)"]


def _identity(rubric) -> dict:
    """What every grading records about the rubric it used."""
    return {
        "question_id": rubric.id,
        "rubric_version": rubric.version,
        "rubric_hash": rubric.content_hash(),
        "max_score": rubric.max_points,
    }


def graded(rubric, judge: JudgeInfo, criteria: list[CriterionGrade], misconceptions: list[MisconceptionHit],
           feedback: Feedback, **extra) -> Grading:
    """A graded result: the score follows from the criteria and penalties, never set apart."""
    score = total_score(criteria, misconceptions, rubric.max_points)
    notes = [*extra.pop("notes", []), *_penalty_note(criteria, misconceptions)]
    return Grading(
        **_identity(rubric),
        judge=judge,
        status="graded",
        score=score,
        percent=round(100 * score / rubric.max_points, 1),
        criteria=criteria,
        misconceptions=misconceptions,
        feedback=feedback,
        notes=notes,
        **extra,
    )


def rescore(grading: Grading, max_score: float) -> None:
    """Recompute score and percent after criteria or penalties changed."""
    grading.score = total_score(grading.criteria, grading.misconceptions, max_score)
    grading.percent = round(100 * grading.score / max_score, 1)
    grading.notes = [n for n in grading.notes if not n.startswith("penalties ")]
    grading.notes.extend(_penalty_note(grading.criteria, grading.misconceptions))


def unscored(rubric, judge: JudgeInfo, reason: str, raw: list[str] | None = None, usage: Usage | None = None) -> Grading:
    return Grading(
        **_identity(rubric),
        judge=judge,
        status="unscored",
        reason=reason,
        raw_replies=raw or [],
        usage=usage or Usage(),
    )
