"""From a CodeReport to per-criterion verdicts: the criteria a rubric's tests feed are decided by
running the code; every other criterion (the explanation, the complexity) is left to the judge."""

from __future__ import annotations

from typing import Literal, NamedTuple

from grader.rubric.models import Rubric
from grader.sandbox.report import CodeReport

MAX_EVIDENCE = 5


class CriterionVerdict(NamedTuple):
    verdict: Literal["met", "partial", "missed"]
    points_fraction: float  # of the criterion's points: 1, passed/total, or 0
    rationale: str
    evidence: list[str]  # the failing cases' messages (what was called, returned, expected)


def criterion_verdicts(rubric: Rubric, report: CodeReport) -> dict[str, CriterionVerdict]:
    """criterion id -> verdict, for each criterion that has tests (static checks when the report
    is structural). All passed: met; some: partial (fraction passed/total); none: missed.
    Fail closed: when the sandbox, the checker or the result channel failed, or the code was not
    run for want of isolation, every tested criterion is missed (no credit, never handed to the
    judge). Empty when the rubric has no code_check, or when the answer has no code at all (a
    spoken answer: the judge grades what it describes)."""
    check = rubric.code_check
    if check is None or report.status == "no_code":
        return {}
    if report.sandbox_error is not None or report.status == "not_run":
        return {
            cid: CriterionVerdict("missed", 0.0, f"The tests for this point were not run or cannot be trusted. {report.message}", [])
            for cid in dict.fromkeys(t.criterion for t in check.tests)
        }
    structural = report.status == "structural"
    if structural:
        planned = [(f"structure-{i + 1}", s.criterion) for i, s in enumerate(check.structure)]
    else:
        planned = [(t.name, t.criterion) for t in check.tests]
    by_name = {c.name: c for c in report.cases}
    out: dict[str, CriterionVerdict] = {}
    for crit in rubric.criteria:
        names = [name for name, cid in planned if cid == crit.id]
        if not names:
            continue
        cases = [by_name.get(n) for n in names]
        passed = sum(1 for c in cases if c is not None and c.passed)
        failing = [c.message if c is not None else f"{n}: no result ({report.message})" for n, c in zip(names, cases) if c is None or not c.passed]
        evidence = list(dict.fromkeys(failing))[:MAX_EVIDENCE]
        out[crit.id] = _verdict(passed, len(names), structural, report, evidence)
    return out


def _verdict(passed: int, total: int, structural: bool, report: CodeReport, evidence: list[str]) -> CriterionVerdict:
    unit = "static checks" if structural else "tests"
    note = f" {report.message}" if report.status not in ("ok", "structural") else ""
    if structural:
        note = f" Checked statically, not run: {report.message}"
    if passed == total:
        return CriterionVerdict("met", 1.0, f"All {total} {unit} for this point passed.{note}", [])
    if passed == 0:
        return CriterionVerdict("missed", 0.0, f"None of the {total} {unit} for this point passed.{note}", evidence)
    return CriterionVerdict("partial", passed / total, f"{passed} of {total} {unit} for this point passed.{note}", evidence)
