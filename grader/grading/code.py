"""Coding questions: the candidate's code is run against the rubric's tests in the sandbox; the
test results decide the criteria they feed, and the judge grades the rest (the explanation)."""

from __future__ import annotations

from grader.grading.feedback import answer_language, build_feedback
from grader.grading.models import CodeSummary, CriterionGrade, Evidence, Grading, rescore
from grader.rubric.models import Rubric


def grade_coding_answer(judge, rubric: Rubric, answer: str) -> Grading:
    from grader.sandbox import criterion_verdicts, run_code_check, split_answer

    _explanation, code = split_answer(answer)
    report = run_code_check(rubric.code_check, code)
    grading = judge.grade(rubric, answer)  # code comments and names are part of the explanation
    if grading.status != "graded":
        return grading
    from_tests = criterion_verdicts(rubric, report)
    by_id = {c.id: c for c in rubric.criteria}
    criteria: list[CriterionGrade] = []
    for g in grading.criteria:
        v = from_tests.get(g.id)
        if v is None:
            criteria.append(g)
            continue
        criteria.append(
            CriterionGrade(
                id=g.id,
                verdict=v.verdict,
                points=round(by_id[g.id].points * v.points_fraction, 2),
                max_points=g.max_points,
                evidence=[Evidence(quote=e, verified=True) for e in v.evidence],
                evidence_verified=True,
                rationale=v.rationale,
                confidence=1.0,
                flags=["code_tests"],
            )
        )
    grading.criteria = criteria
    if report.sandbox_error:
        grading.notes.append(f"the code could not be run ({report.sandbox_error}); the judge graded every criterion")
    grading.code = CodeSummary(status=report.status, message=report.message, passed=report.passed, total=report.total)
    rescore(grading, rubric.max_points)
    lang = answer_language(answer)
    rebuilt = build_feedback(rubric, criteria, grading.misconceptions, lang)
    grading.feedback.missing = rebuilt.missing
    grading.feedback.summary = rebuilt.summary
    return grading
