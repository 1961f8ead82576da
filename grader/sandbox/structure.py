"""Static checks of the code (a rubric's StructureCheck regexes), used instead of running it when
a module the tests need (e.g. torch) is not installed."""

from __future__ import annotations

import importlib.util
import re

from grader.rubric.models import CodeCheck
from grader.sandbox import messages
from grader.sandbox.report import CaseResult, CodeReport


def missing_modules(check: CodeCheck) -> list[str]:
    """Required modules that cannot be imported here (found without importing them)."""
    missing = []
    for name in check.requires:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def structural_report(check: CodeCheck, code: str, missing: list[str], duration_s: float) -> CodeReport:
    cases = []
    for i, s in enumerate(check.structure):
        found = re.search(s.pattern, code, flags=re.MULTILINE) is not None
        what = s.description.en
        text = f"static check passed: {what}" if found else f"static check failed: {what} (not found in the code)"
        cases.append(CaseResult(name=f"structure-{i + 1}", criterion=s.criterion, passed=found, message=text, kind="structure"))
    return CodeReport(status="structural", message=messages.status_structural(missing), cases=cases, duration_s=duration_s)
