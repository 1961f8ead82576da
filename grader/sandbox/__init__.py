"""Running the code in a candidate's answer against a coding rubric's tests, safely.

Public API (everything else in this package is internal):

    extract_code(answer: str) -> str | None
        The Python code in an answer (```python blocks first, then untagged blocks that look like
        Python, then bare code: the whole answer or a clear trailing part of it).
    split_answer(answer: str) -> tuple[str, str | None]
        (explanation, code): the explanation is the answer without the extracted code, so the
        judge can still grade it.
    run_code_check(check: CodeCheck, code: str | None, *, allow_unsandboxed=None) -> CodeReport
        Runs the rubric's tests on the code under bubblewrap and seccomp; never raises for
        anything the code does. CodeReport.status is one of ok, no_code, syntax_error,
        missing_entry, timeout, memory_limit, output_limit, crashed, blocked, structural,
        not_run (no OS isolation here, and running without it not allowed); `sandbox_error` is
        set when the sandbox, the checker or the result channel failed. Each CaseResult has a
        message the candidate can read ("max_subarray([-1]) returned 0, expected -1").
    criterion_verdicts(rubric: Rubric, report: CodeReport) -> dict[str, CriterionVerdict]
        criterion id -> (verdict met|partial|missed, points_fraction, rationale, evidence) for
        the criteria the tests feed (all missed when the sandbox failed or did not run: fail
        closed); the other criteria are left to the judge, and all of them when there is no code.
    allow_unsandboxed(flag: bool)
        --allow-unsandboxed-code: run code even where bubblewrap cannot isolate it.

Typical use:

    explanation, code = split_answer(answer)
    report = run_code_check(rubric.code_check, code)
    verdicts = criterion_verdicts(rubric, report)

The CodeCheck contract (grader/rubric/models.py) as the runner reads it:
* `entry` is looked up in the candidate's module; a LeetCode-style `class Solution` method, or a
  name differing only in case and underscores (maxSubArray for max_subarray), is accepted too.
  The candidate's module gets typing's List/Dict/... for free (LeetCode signatures use them).
* `setup` runs afresh before each test, in the candidate's process for the call and in the
  checking process for `expect`, the reference and `check` (whose validator is defined there).
* `time_limit_s` bounds the candidate's whole run (loading plus all tests), wall clock; CPU is
  capped a second or two above. `memory_limit_mb` is address space on top of Python and numpy.
* Results must be plain values (numbers, str, bytes, None, list, tuple, dict, set, numpy arrays
  and scalars, torch tensors): compared with `tolerance` for numbers and arrays (recursively; a
  list and a tuple are interchangeable), exactly otherwise.
* `requires` modules missing here: no run; the `structure` regexes are checked instead
  (status structural).

Importing this package is cheap: the submodules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.sandbox.extract import extract_code, split_answer
    from grader.sandbox.policy import allow_unsandboxed
    from grader.sandbox.report import CaseResult, CodeReport
    from grader.sandbox.runner import run_code_check
    from grader.sandbox.verdicts import CriterionVerdict, criterion_verdicts

__all__ = [
    "extract_code", "split_answer", "run_code_check", "criterion_verdicts", "allow_unsandboxed",
    "CodeReport", "CaseResult", "CriterionVerdict",
]

_WHERE = {
    "extract_code": "extract", "split_answer": "extract", "run_code_check": "runner",
    "criterion_verdicts": "verdicts", "allow_unsandboxed": "policy", "CriterionVerdict": "verdicts", "CodeReport": "report", "CaseResult": "report",
}


def __getattr__(name: str) -> Any:
    # Lazy: the sandbox harness imports sibling modules of this package and must not pull in
    # pydantic and the rubric models on every run.
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"grader.sandbox.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'grader.sandbox' has no attribute {name!r}")
