"""`pytest evals/`: one test per golden answer and per canary, so rubric authors see failures in
their usual runner. `--grader-judge llm` grades with the configured LLM judge instead of offline."""

from __future__ import annotations

import pytest


def pytest_addoption(parser):
    parser.addoption("--grader-judge", default="offline", choices=("offline", "llm"), help="judge for the golden sets")
    parser.addoption("--grader-questions", default="", help="comma-separated question ids (default: all)")


@pytest.fixture(scope="session")
def grader_judge(request):
    from grader.grading.service import make_judge

    return make_judge(request.config.getoption("--grader-judge"))
