"""Every coding rubric's own reference implementation passes its tests in the sandbox, and the
ResNet unit is checked by running it (torch installed) or structurally (torch missing)."""

from __future__ import annotations

import importlib.util

import pytest

from grader.sandbox import criterion_verdicts, run_code_check

CODING = ["hanoi", "max-subarray", "rearrange-string-k", "miou", "bn-forward-code", "roialign", "rotated-iou", "resnet-block-code"]

BASIC_BLOCK = '''
import torch
from torch import nn

class Bottleneck(nn.Module):
    expansion = 1

    def __init__(self, in_channels, width, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + x)
'''


def test_every_coding_question_has_a_code_check(bank):
    assert sorted(r.id for r in bank.rubrics.values() if r.type == "coding") == sorted(CODING)


@pytest.mark.parametrize("qid", CODING)
def test_reference_implementation_passes_its_own_tests(bank, qid):
    rubric = bank.get(qid)
    if qid == "resnet-block-code" and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed: the ResNet unit can only be checked structurally (see the next test)")
    report = run_code_check(rubric.code_check, rubric.code_check.reference)
    assert report.status == "ok", report.message
    assert report.passed == report.total > 0, [c.message for c in report.cases if not c.passed]
    verdicts = criterion_verdicts(rubric, report)
    assert verdicts and all(v.verdict == "met" for v in verdicts.values())


def test_resnet_unit_is_checked_structurally_without_torch(bank):
    check = bank.get("resnet-block-code").code_check
    missing = check.model_copy(update={"requires": ["a_module_that_is_not_installed"]})
    good = run_code_check(missing, check.reference)
    assert good.status == "structural"
    assert good.passed == good.total == len(check.structure)
    basic = run_code_check(missing, BASIC_BLOCK)
    assert basic.status == "structural"
    assert basic.passed < basic.total  # the BasicBlock is not a ResNet-50 unit


def test_resnet_basicblock_fails_when_run(bank):
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed: running the ResNet unit needs it (CI installs torch==2.13.0)")
    rubric = bank.get("resnet-block-code")
    report = run_code_check(rubric.code_check, BASIC_BLOCK)
    assert report.status == "ok"
    assert report.passed < report.total
    verdicts = criterion_verdicts(rubric, report)
    assert any(v.verdict != "met" for v in verdicts.values())
