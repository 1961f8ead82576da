"""Feedback a candidate can act on: what to add, what to fix, what an interviewer asks next."""

from __future__ import annotations

import re

from grader.grading.models import CriterionGrade, Feedback, MisconceptionHit
from grader.rubric.models import Criterion, Rubric

_CJK = re.compile(r"[\u3400-\u9fff]")


def answer_language(answer: str) -> str:
    """zh when a fair share of the letters are Chinese characters, else en."""
    letters = re.findall(r"[A-Za-z]+|[\u3400-\u9fff]", answer)
    if not letters:
        return "zh"
    cjk = sum(1 for t in letters if _CJK.match(t))
    return "zh" if cjk / len(letters) >= 0.3 else "en"


def build_feedback(
    rubric: Rubric,
    criteria: list[CriterionGrade],
    misconceptions: list[MisconceptionHit],
    lang: str,
    idk: bool = False,
) -> Feedback:
    by_id = {c.id: c for c in rubric.criteria}
    missing = [
        ("（部分）" if lang == "zh" else "(partly) ") * (g.verdict == "partial")
        + getattr(by_id[g.id].statement, lang)
        for g in sorted(criteria, key=lambda g: -g.max_points)
        if g.verdict != "met" and g.id in by_id
    ]
    fix = [m.correction for m in misconceptions]
    met = sum(1 for g in criteria if g.verdict == "met")
    if idk:
        summary = IDK_SUMMARY[lang]
    elif lang == "zh":
        summary = f"答到了 {met}/{len(criteria)} 个要点" + (f"，有 {len(fix)} 处错误说法" if fix else "") + "。"
    else:
        summary = f"Covered {met}/{len(criteria)} key points" + (f"; {len(fix)} wrong claim(s)" if fix else "") + "."
    follow_up = getattr(rubric.follow_ups[0], lang) if rubric.follow_ups else ""
    return Feedback(summary=summary, missing=missing, fix=fix, follow_up=follow_up)


IDK_SUMMARY = {
    "zh": "没有作答。先看参考答案，再用自己的话复述一遍。",
    "en": "No answer given. Read the reference answer, then explain it in your own words.",
}


def _text_language(texts: list[str]) -> str | None:
    joined = " ".join(t for t in texts if t)
    return answer_language(joined) if joined.strip() else None


def localized_feedback(grading, rubric: Rubric, lang: str) -> Feedback:
    """The grading's feedback in one language: kept as the judge wrote it when it already is in
    `lang`, otherwise rebuilt from the rubric's own wording in `lang` (statements, corrections,
    follow-ups), so that no screen or report mixes languages."""
    fb = grading.feedback
    if _text_language([*fb.missing, *fb.fix, fb.follow_up]) in (lang, None) and _text_language([fb.summary]) in (lang, None):
        return fb
    hits = localized_misconceptions(grading, rubric, lang)
    idk = fb.summary in IDK_SUMMARY.values()
    return build_feedback(rubric, grading.criteria, hits, lang, idk=idk)


_TURNED = {
    "binds": ("角色对调", "roles swapped"),
    "order": ("先后顺序颠倒", "order reversed"),
    "direction": ("变化方向说反", "direction reversed"),
    "ratio": ("分子分母颠倒", "fraction upside down"),
}


def wrong_point_claim(crit: Criterion, kind: str, lang: str) -> str:
    """What a claim that turns a criterion's relations round, or denies its point, is called in
    the feedback."""
    if kind == "denied":
        return "这一点被否定了（说成了不成立）" if lang == "zh" else "This point is denied (said not to hold)"
    kinds = dict.fromkeys(_TURNED[r.kind][lang != "zh"] for r in crit.relations)
    return f"这一点说反了（{'、'.join(kinds)}）" if lang == "zh" else f"This point is turned round ({', '.join(kinds)})"


def localized_misconceptions(grading, rubric: Rubric, lang: str) -> list[MisconceptionHit]:
    """Wrong claims with the rubric's claim and correction in `lang` (the quote stays verbatim)."""
    by_id = {m.id: m for m in rubric.misconceptions}
    crits = {c.id: c for c in rubric.criteria}
    out = []
    for m in grading.misconceptions:
        if m.kind == "listed" and m.id in by_id:
            m = m.model_copy(update={"correction": getattr(by_id[m.id].correction, lang), "claim": getattr(by_id[m.id].claim, lang)})
        elif m.kind in ("turned", "denied") and m.id in crits:
            crit = crits[m.id]
            m = m.model_copy(update={"correction": getattr(crit.statement, lang), "claim": wrong_point_claim(crit, m.kind, lang)})
        out.append(m)
    return out
