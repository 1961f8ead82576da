"""What a report about one transcript says, computed once for every output format: overall and
per-category scores, each question with its grading, and what to study next."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

from grader.batch.models import BatchItem, TranscriptResult
from grader.rubric.categories import CATEGORIES


class CriterionView(BaseModel):
    id: str
    statement: str
    verdict: str
    points: float
    max_points: float
    evidence: list[tuple[int, int, str]] = Field(default_factory=list)  # (start, end, quote) in the answer
    rationale: str = ""
    needs_review: bool = False


class ItemView(BaseModel):
    index: int
    question: str  # as asked in the interview
    bank_question: str | None = None
    question_id: str | None = None
    category: str | None = None
    category_name: str | None = None
    match_confidence: float = 0.0
    status: str
    reason: str | None = None
    answer: str
    score: float | None = None
    max_score: float | None = None
    percent: float | None = None
    criteria: list[CriterionView] = Field(default_factory=list)
    misconceptions: list[dict] = Field(default_factory=list)  # claim, correction, penalty, quote
    feedback_missing: list[str] = Field(default_factory=list)
    follow_up: str = ""
    judge: str = ""


class CategoryScore(BaseModel):
    category: str
    name: str
    questions: int
    score: float
    max_score: float
    percent: float


class TranscriptReport(BaseModel):
    title: str
    path: str
    format: str
    lang: str
    judge: str
    overall_score: float
    overall_max: float
    overall_percent: float | None
    categories: list[CategoryScore]
    items: list[ItemView]
    skipped: list[dict]
    warnings: list[str]
    study_next: list[str]


def _item_view(item: BatchItem, bank, lang: str) -> ItemView:
    rubric = bank.rubrics.get(item.question_id) if item.question_id else None
    view = ItemView(
        index=item.index,
        question=item.question,
        bank_question=getattr(rubric.question, lang) if rubric else None,
        question_id=item.question_id,
        category=rubric.category if rubric else None,
        category_name=rubric.category_name if rubric else None,
        match_confidence=item.match_confidence,
        status=item.status,
        reason=item.error,
        answer=item.answer,
    )
    g = item.grading
    if g is None or rubric is None:
        return view
    statements = {c.id: getattr(c.statement, lang) for c in rubric.criteria}
    view.judge = g.judge.label
    view.score, view.max_score, view.percent = g.score, g.max_score, g.percent
    for c in g.criteria:
        view.criteria.append(
            CriterionView(
                id=c.id,
                statement=statements.get(c.id, c.id),
                verdict=c.verdict,
                points=c.points,
                max_points=c.max_points,
                evidence=[(e.start, e.end, e.quote) for e in c.evidence if e.verified and e.start is not None],
                rationale=c.rationale,
                needs_review=c.needs_review,
            )
        )
    view.misconceptions = [
        {"claim": m.claim, "correction": m.correction, "penalty": m.penalty, "quote": m.evidence[0].quote if m.evidence else ""}
        for m in g.misconceptions
    ]
    view.feedback_missing = g.feedback.missing
    view.follow_up = g.feedback.follow_up
    return view


def build_report(result: TranscriptResult, bank, lang: str = "zh") -> TranscriptReport:
    items = [_item_view(i, bank, lang) for i in result.items]
    scored = [v for v in items if v.status == "graded" and v.score is not None]
    by_cat: dict[str, list[ItemView]] = defaultdict(list)
    for v in scored:
        by_cat[v.category or "unknown"].append(v)
    categories = [
        CategoryScore(
            category=cat,
            name=CATEGORIES.get(cat, (cat,))[0],
            questions=len(vs),
            score=round(sum(v.score for v in vs), 2),
            max_score=round(sum(v.max_score for v in vs), 2),
            percent=round(100 * sum(v.score for v in vs) / sum(v.max_score for v in vs), 1),
        )
        for cat, vs in sorted(by_cat.items(), key=lambda kv: list(CATEGORIES).index(kv[0]) if kv[0] in CATEGORIES else 99)
    ]
    total = sum(v.score for v in scored)
    total_max = sum(v.max_score for v in scored)
    judges = sorted({v.judge for v in scored if v.judge})
    return TranscriptReport(
        title=result.path.rsplit("/", 1)[-1],
        path=result.path,
        format=result.format,
        lang=lang,
        judge=", ".join(judges) or "—",
        overall_score=round(total, 2),
        overall_max=round(total_max, 2),
        overall_percent=round(100 * total / total_max, 1) if total_max else None,
        categories=categories,
        items=items,
        skipped=[{"text": s.text, "reason": s.reason, "where": str(s.source)} for s in result.skipped],
        warnings=result.warnings + ([result.error] if result.error else []),
        study_next=_study_next(scored, lang),
    )


def _study_next(scored: list[ItemView], lang: str) -> list[str]:
    """Wrong claims first (they cost points twice), then the heaviest missed points."""
    out: list[str] = []
    for v in scored:
        for m in v.misconceptions:
            out.append(f"{v.question_id}: {m['correction']}")
    missed = sorted(
        ((c.max_points - c.points, v.question_id, c.statement) for v in scored for c in v.criteria if c.verdict != "met"),
        key=lambda t: -t[0],
    )
    out.extend(f"{qid}: {statement}" for _, qid, statement in missed)
    return out[:8]
