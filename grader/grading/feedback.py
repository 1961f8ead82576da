"""Feedback a candidate can act on: what to add, what to fix, what an interviewer asks next."""

from __future__ import annotations

import re

from grader.grading.models import CriterionGrade, Feedback, MisconceptionHit
from grader.rubric.models import Rubric

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
        summary = "没有作答。先看参考答案，再用自己的话复述一遍。" if lang == "zh" else (
            "No answer given. Read the reference answer, then explain it in your own words."
        )
    elif lang == "zh":
        summary = f"答到了 {met}/{len(criteria)} 个要点" + (f"，有 {len(fix)} 处错误说法" if fix else "") + "。"
    else:
        summary = f"Covered {met}/{len(criteria)} key points" + (f"; {len(fix)} wrong claim(s)" if fix else "") + "."
    follow_up = getattr(rubric.follow_ups[0], lang) if rubric.follow_ups else ""
    return Feedback(summary=summary, missing=missing, fix=fix, follow_up=follow_up)
