"""Each golden answer must score inside its expected band; each canary must hold."""

from __future__ import annotations

import os

import pytest

from grader.evals.canaries import canaries_for
from grader.evals.runner import load_golden_sets
from grader.grading.service import Grader
from grader.rubric.bank import Bank

BANK = Bank.load()
_WANTED = [q for q in os.environ.get("GRADER_EVAL_QUESTIONS", "").split(",") if q] or None
GOLDEN = load_golden_sets(BANK, _WANTED)
CASES = [(qid, a) for qid, gs in GOLDEN.items() for a in gs.answers]
CANARIES = [(r.id, c) for r in BANK.rubrics.values() if _WANTED is None or r.id in _WANTED for c in canaries_for(r, BANK)]


def _selected(config, qid: str) -> bool:
    wanted = [q for q in config.getoption("--grader-questions").split(",") if q]
    return not wanted or qid in wanted


@pytest.mark.parametrize("qid, answer", CASES, ids=[f"{q}/{a.id}" for q, a in CASES])
def test_golden_answer(qid, answer, grader_judge, request):
    if not _selected(request.config, qid):
        pytest.skip("not in --grader-questions")
    g = Grader(grader_judge).grade(BANK.get(qid), answer.text).grading
    assert g.status == "graded", g.reason
    lo, hi = answer.expected.band
    diffs = [f"{c.id}: {c.verdict} (expected {answer.expected.verdicts[c.id]})" for c in g.criteria
             if c.verdict != answer.expected.verdicts.get(c.id)]
    assert lo <= g.percent <= hi, f"scored {g.percent}%, expected {lo:g}-{hi:g}%; " + "; ".join(diffs)


@pytest.mark.parametrize("qid, canary", CANARIES, ids=[f"{q}/{c.id}" for q, c in CANARIES])
def test_canary(qid, canary, grader_judge, request):
    if not _selected(request.config, qid):
        pytest.skip("not in --grader-questions")
    rubric = BANK.get(qid)
    grader = Grader(grader_judge)
    reference = grader.grade(rubric, rubric.reference_answer.zh).grading
    g = grader.grade(rubric, canary.text).grading
    failure = canary.check(g, reference)
    assert failure is None, failure
