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


BN_CORRECT = '''
import numpy as np

def bn_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        n = x.size // x.shape[1]
        running_mean[:] = (1 - momentum) * running_mean + momentum * mean
        running_var[:] = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return gamma.reshape(shape) * x_hat + beta.reshape(shape)
'''

BN_MUTANTS = {
    # per-sample statistics instead of per-channel over (N, H, W)
    "wrong-axis": ("axes = (0,) if x.ndim == 2 else (0, 2, 3)", "axes = (1,) if x.ndim == 2 else (1, 2, 3)"),
    # divides by the variance, not the standard deviation
    "variance-not-std": ("np.sqrt(var.reshape(shape) + eps)", "(var.reshape(shape) + eps)"),
    # no epsilon
    "no-epsilon": ("np.sqrt(var.reshape(shape) + eps)", "np.sqrt(var.reshape(shape))"),
    # biased variance in the running update
    "biased-running-var": ("momentum * var * n / (n - 1)", "momentum * var"),
}
BN_EXPECTED = {
    "wrong-axis": {"per-channel-stats": "missed"},
    "variance-not-std": {"normalize-std-eps": "missed"},
    "no-epsilon": {"normalize-std-eps": "missed"},
    "biased-running-var": {"running-stats-update": "partial"},
}


def test_bn_forward_correct_solution_meets_every_tested_point(bank):
    rubric = bank.get("bn-forward-code")
    verdicts = criterion_verdicts(rubric, run_code_check(rubric.code_check, BN_CORRECT))
    assert {k: v.verdict for k, v in verdicts.items()} == {
        "per-channel-stats": "met", "normalize-std-eps": "met", "running-stats-update": "met", "eval-branch": "met",
    }


@pytest.mark.parametrize("mutant", sorted(BN_MUTANTS))
def test_bn_forward_subtle_bugs_are_caught(bank, mutant):
    rubric = bank.get("bn-forward-code")
    old, new = BN_MUTANTS[mutant]
    assert old in BN_CORRECT
    report = run_code_check(rubric.code_check, BN_CORRECT.replace(old, new))
    assert report.status == "ok", report.message
    verdicts = {k: v.verdict for k, v in criterion_verdicts(rubric, report).items()}
    for criterion, verdict in BN_EXPECTED[mutant].items():
        assert verdicts[criterion] == verdict, (mutant, verdicts)
    failing = [c.message for c in report.cases if not c.passed]
    assert failing and all(len(m) > 20 for m in failing)  # each failure explained to the candidate
