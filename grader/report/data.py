"""What a report about one transcript says, computed once for every output format: overall and
per-category scores, each question with its grading, and what to study next. Everything a
reader sees is in the report's one language; the judges' diagnostics (per-criterion rationale)
stay out of reports."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

from grader.batch.models import BatchItem, TranscriptResult
from grader.rubric.categories import CATEGORIES

# The transcript readers' reasons for skipping text, in Chinese; anything else is shown as is.
SKIP_REASONS_ZH = {
    "speech before the first named speaker": "第一个说话人之前的内容",
    "text before the first speaker label": "第一个说话人标签之前的内容",
    "not a technical question": "不是技术问题",
    "candidate speech with no question before it": "候选人发言之前没有问题",
    "interviewer said nothing that asks a question": "面试官没有提出问题",
    "small talk": "寒暄",
    "project introduction": "项目介绍",
}


class CriterionView(BaseModel):
    id: str
    statement: str
    verdict: str
    points: float
    max_points: float
    evidence: list[tuple[int, int, str]] = Field(default_factory=list)  # (start, end, quote) in the answer
    needs_review: bool = False
    human_verdict: str | None = None  # from `grader review`


class ReviewView(BaseModel):
    """The latest human grade recorded with `grader review`."""

    percent: float
    reviewer: str | None = None
    note: str | None = None
    verdicts: dict[str, str] = Field(default_factory=dict)


class ItemView(BaseModel):
    index: int
    question: str  # as asked in the interview
    bank_question: str | None = None  # the matched bank question, in the report's language
    question_id: str | None = None
    question_type: str | None = None  # concept, derivation or coding
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
    misconceptions: list[dict] = Field(default_factory=list)  # claim, correction, penalty, quote, start, end
    feedback_missing: list[str] = Field(default_factory=list)
    follow_up: str = ""
    judge: str = ""
    grading_id: int | None = None
    review: ReviewView | None = None


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


def category_name(slug: str | None, lang: str) -> str | None:
    if slug in CATEGORIES:
        return CATEGORIES[slug][1 if lang == "zh" else 0]
    return slug


def short_title(text: str, n: int = 22) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _unmatched_reason(item: BatchItem, bank, lang: str) -> str:
    """Why an interview question was not graded, in words a coach reads."""
    best = item.candidates[0] if item.candidates else None
    rubric = bank.rubrics.get(best[0]) if best else None
    if item.error and "is not in the bank" in item.error:
        return item.error
    if rubric is None:
        return "题库里没有可以比较的题目。" if lang == "zh" else "There is no bank question to compare it with."
    title = short_title(getattr(rubric.question, lang))
    second = bank.rubrics.get(item.candidates[1][0]) if len(item.candidates) > 1 else None
    if item.error and item.error.startswith("matches bank questions") and second is not None:
        other = short_title(getattr(second.question, lang))
        if lang == "zh":
            return f"这道题与题库中的「{title}」和「{other}」同样接近，无法确定是哪一道，没有评分；在记录里注明题目 id 即可评分。"
        return f"It fits the bank questions “{title}” and “{other}” about equally well, so it was not graded; give its question id to grade it."
    if lang == "zh":
        return f"题库中最接近的是「{title}」，但匹配度只有 {best[1]:.2f}，为免用错评分标准，没有评分。"
    return f"The closest bank question, “{title}”, matches with confidence {best[1]:.2f} only; not graded, to avoid using the wrong rubric."


def _item_view(item: BatchItem, bank, lang: str, reviews: dict[int, ReviewView]) -> ItemView:
    from grader.grading.feedback import localized_feedback, localized_misconceptions

    rubric = bank.rubrics.get(item.question_id) if item.question_id else None
    view = ItemView(
        index=item.index,
        question=item.question,
        bank_question=getattr(rubric.question, lang) if rubric else None,
        question_id=item.question_id,
        question_type=rubric.type if rubric else None,
        category=rubric.category if rubric else None,
        category_name=category_name(rubric.category, lang) if rubric else None,
        match_confidence=item.match_confidence,
        status=item.status,
        reason=_unmatched_reason(item, bank, lang) if item.status == "unmatched" else item.error,
        answer=item.answer,
        grading_id=item.grading_id,
    )
    g = item.grading
    if g is None or rubric is None:
        return view
    review = reviews.get(item.grading_id) if item.grading_id is not None else None
    statements = {c.id: getattr(c.statement, lang) for c in rubric.criteria}
    from grader.report.terminal import judge_label

    view.judge = judge_label(g.judge, lang)
    view.review = review
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
                needs_review=c.needs_review,
                human_verdict=review.verdicts.get(c.id) if review else None,
            )
        )
    for m in localized_misconceptions(g, rubric, lang):
        ev = next((e for e in m.evidence if e.verified and e.start is not None), None)
        view.misconceptions.append(
            {
                "id": m.id, "claim": m.claim, "correction": m.correction, "penalty": m.penalty,
                "quote": m.evidence[0].quote if m.evidence else "",
                "start": ev.start if ev else None, "end": ev.end if ev else None,
            }
        )
    fb = localized_feedback(g, rubric, lang)
    view.feedback_missing = fb.missing
    view.follow_up = fb.follow_up
    return view


def report_language(result: TranscriptResult) -> str:
    """With no --lang and no configured language, the candidate's answers decide."""
    from grader.grading.feedback import answer_language

    return answer_language("\n".join(i.answer for i in result.items)) if result.items else "zh"


def build_report(result: TranscriptResult, bank, lang: str | None = None, reviews: dict[int, ReviewView] | None = None) -> TranscriptReport:
    lang = lang or report_language(result)
    items = [_item_view(i, bank, lang, reviews or {}) for i in result.items]
    scored = [v for v in items if v.status == "graded" and v.score is not None]
    by_cat: dict[str, list[ItemView]] = defaultdict(list)
    for v in scored:
        by_cat[v.category or "unknown"].append(v)
    categories = [
        CategoryScore(
            category=cat,
            name=category_name(cat, lang) or cat,
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
        skipped=[
            {"text": s.text, "reason": SKIP_REASONS_ZH.get(s.reason, s.reason) if lang == "zh" else s.reason, "where": str(s.source)}
            for s in result.skipped
        ],
        warnings=result.warnings + ([result.error] if result.error else []),
        study_next=_study_next(scored, lang),
    )


def _study_next(scored: list[ItemView], lang: str) -> list[str]:
    """Wrong claims first (they cost points twice), then the heaviest missed points; each names
    its question by the question's words, not by an id."""
    n = 24 if lang == "zh" else 48

    def tag(v: ItemView) -> str:
        title = short_title(v.bank_question or v.question, n)
        return f"（Q{v.index} {title}）" if lang == "zh" else f" (Q{v.index}: {title})"

    out: list[str] = []
    for v in scored:
        for m in v.misconceptions:
            out.append(f"{m['correction']}{tag(v)}")
    missed = sorted(
        ((c.max_points - c.points, v, c.statement) for v in scored for c in v.criteria if c.verdict != "met"),
        key=lambda t: -t[0],
    )
    out.extend(f"{statement}{tag(v)}" for _, v, statement in missed)
    return out[:8]


def load_reviews(store, grading_ids: list[int]) -> dict[int, ReviewView]:
    """The latest human grade of each of these gradings."""
    import json

    ids = sorted({i for i in grading_ids if i is not None})
    out: dict[int, ReviewView] = {}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        marks = ",".join("?" * len(chunk))
        rows = store.conn.execute(
            f"SELECT grading_id, percent, reviewer, note, verdicts FROM reviews WHERE id IN "
            f"(SELECT MAX(id) FROM reviews WHERE grading_id IN ({marks}) GROUP BY grading_id)",
            chunk,
        ).fetchall()
        for r in rows:
            out[r["grading_id"]] = ReviewView(percent=r["percent"], reviewer=r["reviewer"], note=r["note"], verdicts=json.loads(r["verdicts"]))
    return out
