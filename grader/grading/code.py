"""Coding questions: the candidate's code is run against the rubric's tests in the sandbox; the
test results decide the criteria they feed, and the judge grades the rest (the explanation).

An answer with no code at all (a spoken or pseudo-code answer) runs nothing: the judge grades
every criterion on what the answer says. When the sandbox, its checker or its result channel
fails, or the code was not run for want of isolation, the tested criteria get no credit, are
marked for review, and a note says why: they are never handed to the judge instead."""

from __future__ import annotations

from grader.grading.feedback import answer_language, build_feedback
from grader.grading.models import CodeSummary, CriterionGrade, Evidence, Grading, rescore
from grader.rubric.models import Rubric

NO_CODE_NOTE = "no code was found in the answer, so nothing was run; every criterion was graded on what the answer says"


def grade_coding_answer(judge, rubric: Rubric, answer: str) -> Grading:
    from grader.sandbox import criterion_verdicts, run_code_check, split_answer

    _explanation, code = split_answer(answer)
    if code is None:
        grading = judge.grade(rubric, answer)
        if grading.status == "graded":
            grading.notes.append(NO_CODE_NOTE)
            grading.code = CodeSummary(status="no_code", message=NO_CODE_NOTE)
        return grading
    report = run_code_check(rubric.code_check, code)
    grading = judge.grade(rubric, answer)  # code comments and names are part of the explanation
    if grading.status != "graded":
        return grading
    failed = report.sandbox_error is not None or report.status == "not_run"
    from_tests = criterion_verdicts(rubric, report)
    by_id = {c.id: c for c in rubric.criteria}
    criteria: list[CriterionGrade] = []
    for g in grading.criteria:
        v = from_tests.get(g.id)
        if v is None:
            criteria.append(g)
            continue
        flags = ["code_tests"] + (["code_not_run" if report.status == "not_run" else "sandbox_failed"] if failed else [])
        criteria.append(
            CriterionGrade(
                id=g.id,
                verdict=v.verdict,
                points=round(by_id[g.id].points * v.points_fraction, 2),
                max_points=g.max_points,
                evidence=[Evidence(quote=e, verified=True) for e in v.evidence],
                evidence_verified=True,
                rationale=v.rationale,
                confidence=None if failed else 1.0,
                flags=flags,
                needs_review=failed,
            )
        )
    grading.criteria = criteria
    # What the tests decide, they decide alone: a sentence read as turning that point round or
    # denying it costs nothing.
    grading.misconceptions = [m for m in grading.misconceptions if not (m.kind != "listed" and m.id in from_tests)]
    if report.status == "not_run":
        grading.notes.append(f"{report.message} The criteria its tests decide get no credit; marked for review.")
    elif report.sandbox_error:
        grading.notes.append(
            f"the code's test results are missing or cannot be trusted ({report.sandbox_error}); "
            "the criteria its tests decide get no credit and the grading is marked for review"
        )
    if report.isolation and report.status != "not_run":  # for the record: the layers in force
        grading.notes.append("code isolation: " + "; ".join(f"{k} {v}" for k, v in report.isolation.items() if k != "filesystem"))
    grading.code = CodeSummary(status=report.status, message=report.message, passed=report.passed, total=report.total)
    rescore(grading, rubric.max_points)
    lang = answer_language(answer)
    rebuilt = build_feedback(rubric, criteria, grading.misconceptions, lang)
    grading.feedback.missing = rebuilt.missing
    grading.feedback.fix = rebuilt.fix
    grading.feedback.summary = rebuilt.summary
    return grading


def allow_unsandboxed_code(flag: bool) -> None:
    """--allow-unsandboxed-code, or the config key `allow_unsandboxed_code`: run candidates' code
    even where bubblewrap cannot isolate it (see README: what the sandbox cannot enforce)."""
    from grader.config import ConfigError, load_settings
    from grader.sandbox import policy

    if not flag:
        try:
            flag = load_settings().allow_unsandboxed_code
        except ConfigError:  # reported by whoever loads the settings for the judge
            flag = False
    policy.allow_unsandboxed(flag)
