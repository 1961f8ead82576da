"""The code sandbox (grader/sandbox): finding code in answers, grading the four coding rubrics with
correct and subtly wrong solutions, hostile submissions (each contained and reported, with the
test process alive afterwards), the OS layers on their own (audit hook off), and verdicts. The
attacks from outside the answer format are in test_sandbox_attacks.py.

Every run here starts a real sandboxed subprocess; time limits are lowered where a test waits for
one, so the whole file stays well under a minute on two cores."""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from grader.rubric.loader import load_file
from grader.rubric.models import CodeCheck, Rubric, StructureCheck
from grader.sandbox import criterion_verdicts, extract_code, run_code_check, split_answer
from grader.sandbox.report import CaseResult, CodeReport
from grader.sandbox.runner import _run
from grader.sandbox.values import same
from grader.text.normalize import normalize
from grader.text.terms import find_claim

REPO = Path(__file__).resolve().parent.parent
RUBRICS = {
    "hanoi": REPO / "rubrics/coding-algorithms/hanoi.yaml",
    "max-subarray": REPO / "rubrics/coding-algorithms/max-subarray.yaml",
    "rearrange-string-k": REPO / "rubrics/coding-algorithms/rearrange-string-k.yaml",
    "miou": REPO / "rubrics/segmentation/miou.yaml",
}


def load(rid: str) -> Rubric:
    rubric, problems = load_file(RUBRICS[rid])
    assert not problems, [str(p) for p in problems]
    return rubric


def verdict_table(rubric: Rubric, report: CodeReport) -> dict[str, tuple[str, float]]:
    return {cid: (v.verdict, round(v.points_fraction, 2)) for cid, v in criterion_verdicts(rubric, report).items()}


def failing(report: CodeReport) -> dict[str, str]:
    return {c.name: c.message for c in report.cases if not c.passed}


def tiny(time_limit: float = 1.0, memory: int = 128, tests: list[dict] | None = None) -> CodeCheck:
    """A one-function check for the hostile submissions."""
    return CodeCheck(
        entry="f", signature="def f() -> int", reference="def f():\n    return 1\n",
        tests=tests or [{"name": "t", "call": "f()", "expect": "1", "criterion": "works"}],
        time_limit_s=time_limit, memory_limit_mb=memory,
    )


def tiny_rubric(check: CodeCheck | None = None) -> Rubric:
    """A one-criterion coding rubric around tiny(): for the verdicts and the full grading."""
    base = load("max-subarray")
    crit = base.criteria[0].model_copy(update={"id": "works"})
    explain = base.criteria[-1]
    return base.model_copy(update={"criteria": [crit, explain], "code_check": check or tiny(), "misconceptions": []})


def blocked_message(what: str, label: str | None = "f()") -> str:
    where = f" in `{label}`" if label else ""
    return f"The code tried to {what}{where}, which is not allowed while grading; the run was stopped."


# ---- extraction --------------------------------------------------------------------------------


def test_extract_prefers_python_blocks_and_joins_them():
    answer = (
        "思路：Kadane。\n```text\n6\n```\n```python\ndef helper(x):\n    return x\n```\n说明\n"
        "```py\ndef max_subarray(nums):\n    return helper(max(nums))\n```\n时间复杂度 O(n)。"
    )
    assert extract_code(answer) == (
        "def helper(x):\n    return x\n\ndef max_subarray(nums):\n    return helper(max(nums))\n"
    )
    explanation, code = split_answer(answer)
    assert code == extract_code(answer)
    assert explanation == "思路：Kadane。\n```text\n6\n```\n说明\n时间复杂度 O(n)。"


def test_extract_untagged_block_tilde_fence_and_indented_fence():
    assert extract_code("代码如下\n~~~\nimport heapq\nx = 1\n~~~\n") == "import heapq\nx = 1\n"
    listed = "1. 实现：\n   ```\n   def f(a):\n       return a\n   ```\n"
    assert extract_code(listed) == "def f(a):\n    return a\n"


def test_extract_ignores_other_languages_and_prose_blocks():
    assert extract_code("```cpp\nint main() { return 0; }\n```") is None
    assert extract_code("```\n输出是 6\n```") is None
    assert split_answer("```cpp\nint f();\n```\n解释") == ("```cpp\nint f();\n```\n解释", None)


def test_extract_untagged_block_with_syntax_error_is_still_code():
    assert extract_code("```\ndef f(:\n    return 1\n```") == "def f(:\n    return 1\n"


def test_extract_bare_code_whole_answer_and_trailing_part():
    whole = "import math\n\ndef f(x):\n    return math.sqrt(x)\n"
    assert extract_code(whole) == whole
    answer = (
        "用动态规划，dp[i] 表示以 i 结尾的最大和。\n"
        "def max_subarray(nums):\n    best = cur = nums[0]\n    for v in nums[1:]:\n"
        "        cur = max(v, cur + v)\n        best = max(best, cur)\n    return best\n"
        "时间复杂度 O(n)，空间 O(1)。"
    )
    explanation, code = split_answer(answer)
    assert code is not None and code.startswith("def max_subarray(nums):") and code.endswith("    return best\n")
    assert explanation == "用动态规划，dp[i] 表示以 i 结尾的最大和。\n时间复杂度 O(n)，空间 O(1)。"


def test_extract_no_code():
    assert extract_code("BN 训练时用 batch 统计量，推理时用 running 统计量。") is None
    assert extract_code("") is None
    assert split_answer("只有解释") == ("只有解释", None)


# ---- the four coding rubrics: reference, correct and subtly wrong solutions ------------------------


@pytest.mark.parametrize("rid", sorted(RUBRICS))
def test_reference_passes_every_test_of_its_rubric(rid):
    rubric = load(rid)
    report = run_code_check(rubric.code_check, rubric.code_check.reference)
    assert report.status == "ok", report.message
    assert failing(report) == {}
    assert report.message == f"Ran {len(rubric.code_check.tests)} tests: {len(rubric.code_check.tests)} passed, 0 failed."
    tested = {t.criterion for t in rubric.code_check.tests}
    assert verdict_table(rubric, report) == {cid: ("met", 1.0) for cid in tested}
    # the explanation criteria are left to the judge
    assert set(criterion_verdicts(rubric, report)) < {c.id for c in rubric.criteria}


MAX_SEED = '''class Solution:
    def maxSubArray(self, nums: List[int]) -> int:
        dp = [0] * len(nums)
        dp[0] = nums[0]
        for i in range(1,len(nums)):
            if dp[i-1] <= 0:
                dp[i] = nums[i]
            else:
                dp[i] = dp[i-1] + nums[i]
        return max(dp)
'''
MAX_ZERO_INIT = '''def max_subarray(nums):
    best = cur = 0
    for v in nums:
        cur = max(0, cur + v)
        best = max(best, cur)
    return best
'''
MAX_OFF_BY_ONE = '''def max_subarray(nums):
    best = cur = nums[0]
    for i in range(1, len(nums) - 1):
        cur = max(nums[i], cur + nums[i])
        best = max(best, cur)
    return best
'''
HANOI_BASE_ONE = '''def hanoi(n, src="A", aux="B", dst="C"):
    if n == 1:
        return [(1, src, dst)]
    return hanoi(n - 1, src, dst, aux) + [(n, src, dst)] + hanoi(n - 1, aux, src, dst)
'''
HANOI_SWAPPED = '''def hanoi(n, src="A", aux="B", dst="C"):
    if n == 0:
        return []
    return hanoi(n - 1, src, aux, dst) + [(n, src, dst)] + hanoi(n - 1, aux, dst, src)
'''
HANOI_HARDCODED = '''def hanoi(n, src="A", aux="B", dst="C"):
    def go(k, a, b, c):
        if k == 0:
            return []
        return go(k - 1, a, c, b) + [(k, a, c)] + go(k - 1, b, a, c)
    return go(n, "A", "B", "C")
'''
HANOI_PRINTS = '''def hanoi(n, src="A", aux="B", dst="C"):
    if n == 1:
        print("move 1 from", src, "to", dst)
        return
    hanoi(n - 1, src, dst, aux)
    print("move", n, "from", src, "to", dst)
    hanoi(n - 1, aux, src, dst)
'''
REARRANGE_SEED = '''class Solution:
    def rearrangeString(self, s: str, k: int) -> str:
        from collections import Counter
        import heapq
        if k <= 1: return s
        c = Counter(s)
        n = len(s)
        heap = [(-v, k) for k, v in c.items()]
        heapq.heapify(heap)
        res = ""
        while heap:
            tmp = []
            for _ in range(k):
                if not heap:return res if len(res) == n else ""
                num, alp = heapq.heappop(heap)
                num += 1
                res += alp
                if num != 0:
                    tmp.append((num, alp))
            for t in tmp:
                heapq.heappush(heap, t)
        return res
'''
REARRANGE_ADJACENT_ONLY = '''import heapq
from collections import Counter

def rearrange_string(s, k):
    heap = [(-c, ch) for ch, c in Counter(s).items()]
    heapq.heapify(heap)
    out, prev = [], None
    while heap:
        c, ch = heapq.heappop(heap)
        out.append(ch)
        if prev:
            heapq.heappush(heap, prev)
        prev = (c + 1, ch) if c + 1 < 0 else None
    return "".join(out) if len(out) == len(s) else ""
'''
REARRANGE_FULL_ROUNDS = '''import heapq
from collections import Counter

def rearrange_string(s, k):
    if k <= 1:
        return s
    heap = [(-c, ch) for ch, c in Counter(s).items()]
    heapq.heapify(heap)
    out = []
    while heap:
        tmp = []
        for _ in range(k):
            if not heap:
                return ""  # wrong when everything has been placed already
            c, ch = heapq.heappop(heap)
            out.append(ch)
            if c + 1 < 0:
                tmp.append((c + 1, ch))
        for t in tmp:
            heapq.heappush(heap, t)
    return "".join(out)
'''
MIOU_COUNTS_IGNORE = '''import numpy as np

def miou(pred, gt, num_classes, ignore_index=255):
    ious = []
    for c in range(num_classes):
        p, g = pred == c, gt == c
        union = (p | g).sum()
        if union > 0:
            ious.append((p & g).sum() / union)
    return float(np.mean(ious))
'''
MIOU_ABSENT_AS_ZERO = '''import numpy as np

def miou(pred, gt, num_classes, ignore_index=255):
    keep = gt != ignore_index
    pred, gt = pred[keep].astype(np.int64), gt[keep].astype(np.int64)
    k = num_classes
    hist = np.bincount(k * gt + pred, minlength=k * k).reshape(k, k)
    tp = np.diag(hist)
    union = hist.sum(0) + hist.sum(1) - tp
    return float(np.where(union > 0, tp / np.maximum(union, 1), 0.0).mean())
'''
MIOU_PER_IMAGE = '''import numpy as np

def one(pred, gt, k, ignore):
    keep = gt != ignore
    hist = np.bincount(k * gt[keep].astype(np.int64) + pred[keep], minlength=k * k).reshape(k, k)
    tp = np.diag(hist)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nanmean(tp / (hist.sum(0) + hist.sum(1) - tp))

def miou(pred, gt, num_classes, ignore_index=255):
    if pred.ndim == 2:
        return float(one(pred, gt, num_classes, ignore_index))
    return float(np.mean([one(p, g, num_classes, ignore_index) for p, g in zip(pred, gt)]))
'''
MIOU_UINT8_OVERFLOW = '''import numpy as np

def miou(pred, gt, num_classes, ignore_index=255):
    keep = gt != ignore_index
    k = num_classes
    hist = np.bincount(k * gt[keep] + pred[keep], minlength=k * k)[: k * k].reshape(k, k)
    tp = np.diag(hist)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.nanmean(tp / (hist.sum(0) + hist.sum(1) - tp)))
'''
MIOU_GT_CLASSES_ONLY = '''import numpy as np

def miou(pred, gt, num_classes, ignore_index=255):
    keep = gt != ignore_index
    pred, gt = pred[keep], gt[keep]
    ious = [((pred == c) & (gt == c)).sum() / ((pred == c) | (gt == c)).sum() for c in np.unique(gt)]
    return float(np.mean(ious))
'''

SOLUTIONS = [
    # (rubric, label, code, {criterion: (verdict, points fraction)}, {test: message} or None)
    ("max-subarray", "seed-leetcode-class", MAX_SEED,
     {"correct-results": ("met", 1.0), "edge-cases": ("met", 1.0), "linear-time": ("met", 1.0)}, {}),
    ("max-subarray", "all-negative-returns-0", MAX_ZERO_INIT,
     {"correct-results": ("partial", 0.86), "edge-cases": ("partial", 0.25), "linear-time": ("met", 1.0)},
     {"single-negative": "max_subarray([-1]) returned 0, expected -1",
      "all-negative": "max_subarray([-3, -1, -2]) returned 0, expected -1",
      "all-negative-long": "max_subarray([-8, -3, -6, -2, -5, -4]) returned 0, expected -2",
      "random-arrays": "20 random arrays of length 1-15 (answers listed in order): returned [12, 9, 6, 6, 0, 28, 10, 28, 7, "
                       "36, 8, 15, 9, 42, 24, 9, 13, 14, 10, 26], expected [12, 9, 6, 6, -3, 28, 10, 28, 7, 36, 8, 15, 9, "
                       "42, 24, 9, 13, 14, 10, 26] (largest difference 3 at index 4)"}),
    ("max-subarray", "loop-skips-last-element", MAX_OFF_BY_ONE,
     {"correct-results": ("partial", 0.57), "edge-cases": ("met", 1.0), "linear-time": ("met", 1.0)}, None),
    ("hanoi", "base-case-n1-only", HANOI_BASE_ONE,
     {"legal-moves": ("met", 1.0), "optimal-move-count": ("met", 1.0), "base-case": ("partial", 0.5)},
     {"zero-disks": "hanoi(0) raised RecursionError: maximum recursion depth exceeded (line 4: return hanoi(n - 1, "
                    "src, dst, aux) + [(n, src, dst)] + hanoi(n - 1, aux, src, dst))"}),
    ("hanoi", "pegs-rotated-wrongly", HANOI_SWAPPED,
     {"legal-moves": ("missed", 0.0), "optimal-move-count": ("missed", 0.0), "base-case": ("met", 1.0)}, None),
    ("hanoi", "pegs-hard-coded", HANOI_HARDCODED,
     {"legal-moves": ("partial", 0.5), "optimal-move-count": ("met", 1.0), "base-case": ("met", 1.0)}, None),
    ("hanoi", "prints-instead-of-returning", HANOI_PRINTS,
     {"legal-moves": ("missed", 0.0), "optimal-move-count": ("missed", 0.0), "base-case": ("missed", 0.0)}, None),
    ("rearrange-string-k", "seed-leetcode-class", REARRANGE_SEED,
     {"valid-arrangement": ("met", 1.0), "impossible-returns-empty": ("met", 1.0), "edge-cases": ("met", 1.0)}, {}),
    ("rearrange-string-k", "adjacent-only", REARRANGE_ADJACENT_ONLY,
     {"valid-arrangement": ("partial", 0.5), "impossible-returns-empty": ("partial", 0.5), "edge-cases": ("partial", 0.75)},
     {"impossible-k3": 'rearrange_string("aaabc", 3) returned \'abaca\', expected \'\''}),
    ("rearrange-string-k", "gives-up-on-short-last-round", REARRANGE_FULL_ROUNDS,
     {"valid-arrangement": ("partial", 0.67), "impossible-returns-empty": ("met", 1.0), "edge-cases": ("partial", 0.75)},
     {"random-cases": '60 random strings with k from 0 to 4, each output a valid arrangement or "" exactly when impossible '
                      "(the first wrong (s, k, output) is shown): returned ('a', 3, ''), expected None",
      "short-last-round": 'rearrange_string("aabbc", 3) must return e.g. "abcab" (the last round has fewer than k '
                          "characters): returned '', which is not a valid answer"}),
    ("miou", "counts-ignore-pixels", MIOU_COUNTS_IGNORE,
     {"iou-formula": ("partial", 0.5), "ignore-index": ("missed", 0.0), "absent-classes": ("met", 1.0),
      "dataset-confusion-matrix": ("partial", 0.33)},
     {"ignore-pixels": "miou(pred=[[0, 0], [1, 0]], gt=[[0, 255], [1, 1]], 2): the 255 pixel is ignored, IoU 1/2 and 1/2: "
                       "returned 0.4166666667, expected 0.5"}),
    ("miou", "absent-classes-averaged-as-0", MIOU_ABSENT_AS_ZERO,
     {"iou-formula": ("met", 1.0), "ignore-index": ("met", 1.0), "absent-classes": ("partial", 0.5),
      "dataset-confusion-matrix": ("met", 1.0)},
     {"absent-class": "miou(pred=[[0, 1], [0, 0]], gt=[[0, 1], [1, 0]], 4): classes 2 and 3 appear nowhere and are left "
                      "out, so (2/3 + 1/2)/2: returned 0.2916666667, expected 0.5833333333"}),
    ("miou", "per-image-average", MIOU_PER_IMAGE,
     {"iou-formula": ("partial", 0.75), "ignore-index": ("met", 1.0), "absent-classes": ("met", 1.0),
      "dataset-confusion-matrix": ("partial", 0.33)}, None),
    ("miou", "uint8-overflow", MIOU_UINT8_OVERFLOW,
     {"iou-formula": ("met", 1.0), "ignore-index": ("met", 1.0), "absent-classes": ("met", 1.0),
      "dataset-confusion-matrix": ("partial", 0.67)}, None),
    ("miou", "only-classes-in-gt", MIOU_GT_CLASSES_ONLY,
     {"iou-formula": ("met", 1.0), "ignore-index": ("met", 1.0), "absent-classes": ("partial", 0.5),
      "dataset-confusion-matrix": ("met", 1.0)},
     {"predicted-only-class": "miou(pred=[[0, 2], [1, 1]], gt=[[0, 0], [1, 1]], 3): class 2 appears only in the "
                              "prediction, IoU 0, and counts: (1/2 + 1 + 0)/3: returned 0.75, expected 0.5"}),
]


@pytest.mark.parametrize("rid, label, code, verdicts, messages", SOLUTIONS, ids=[f"{s[0]}:{s[1]}" for s in SOLUTIONS])
def test_solution_verdicts(rid, label, code, verdicts, messages):
    rubric = load(rid)
    report = run_code_check(rubric.code_check, code)
    assert report.status == "ok", report.message
    assert verdict_table(rubric, report) == verdicts
    if messages is not None:
        if messages:
            assert {k: v for k, v in failing(report).items() if k in messages} == messages
        else:
            assert failing(report) == {}
    for cid, verdict in criterion_verdicts(rubric, report).items():
        assert verdict.evidence == [c.message for c in report.cases if c.criterion == cid and not c.passed][:5]


def test_quadratic_max_subarray_times_out_only_on_the_large_input():
    rubric = load("max-subarray")
    check = rubric.code_check.model_copy(update={"time_limit_s": 1.5})
    brute = "def max_subarray(nums):\n    return max(sum(nums[i:j + 1]) for i in range(len(nums)) for j in range(i, len(nums)))\n"
    report = run_code_check(check, brute)
    label = "an array of 100 000 random integers (O(n²) is too slow)"
    assert report.status == "timeout"
    assert report.message == (
        f"The code was stopped at the 1.5 s time limit in `{label}`; look for an infinite loop or an algorithm that is too slow."
    )
    assert failing(report) == {"large-input": f"{label} did not finish within the 1.5 s time limit"}
    r = rubric.model_copy(update={"code_check": check})
    assert verdict_table(r, report) == {
        "correct-results": ("met", 1.0), "edge-cases": ("met", 1.0), "linear-time": ("missed", 0.0)
    }
    assert criterion_verdicts(r, report)["linear-time"].rationale == f"None of the 1 tests for this point passed. {report.message}"


def test_camel_case_name_and_typing_names_are_accepted():
    rubric = load("max-subarray")
    code = "def maxSubArray(nums: List[int]) -> int:\n    best = cur = nums[0]\n    for v in nums[1:]:\n        cur = max(v, cur + v)\n        best = max(best, cur)\n    return best\n"
    assert run_code_check(rubric.code_check, code).passed == len(rubric.code_check.tests)


# ---- reports before anything runs ---------------------------------------------------------------


def test_no_code():
    rubric = load("max-subarray")
    report = run_code_check(rubric.code_check, None)
    assert report.status == "no_code"
    assert report.message == "No Python code was found in the answer, so nothing could be run; put the function in a ```python block."
    assert [c.ran for c in report.cases] == [False] * len(rubric.code_check.tests)
    assert report.cases[0].message == "max_subarray([-2, 1, -3, 4, -1, 2, 1, -5, 4]) was not run: no code was found"
    assert criterion_verdicts(rubric, report) == {}  # an answer in words: the judge grades what it says


def test_syntax_error():
    rubric = load("max-subarray")
    report = run_code_check(rubric.code_check, "def max_subarray(nums)\n    return 0\n")
    assert report.status == "syntax_error"
    assert report.message == "The code does not compile: SyntaxError: expected ':' (line 1: def max_subarray(nums))."
    assert report.cases[0].message.endswith("was not run: the code does not compile")


def test_missing_entry():
    rubric = load("max-subarray")
    report = run_code_check(rubric.code_check, "def solve(nums):\n    return max(nums)\n")
    assert report.status == "missing_entry"
    assert report.message == (
        "The code does not define `max_subarray`; the question asks for `def max_subarray(nums: list[int]) -> int`. It defines: solve()."
    )
    assert report.cases[0].message.endswith("was not run: the code does not define `max_subarray`")


def test_crash_while_loading():
    report = run_code_check(tiny(), "x = np.zeros(3)\ndef f():\n    return 1\n")
    assert report.status == "crashed"
    assert report.message == "The code crashed while loading: NameError: name 'np' is not defined (line 1: x = np.zeros(3))."
    assert report.cases[0].message == "f() was not run: the code crashed while loading"


def test_reading_input_at_top_level_gets_eof():
    report = run_code_check(tiny(), "n = int(input())\ndef f():\n    return n\n")
    assert report.status == "crashed"
    assert report.message == "The code crashed while loading: EOFError: EOF when reading a line (line 1: n = int(input()))."


def test_exception_in_a_test_names_the_line():
    report = run_code_check(tiny(), "def f():\n    items = []\n    return items[0]\n")
    assert report.status == "ok"
    assert failing(report) == {"t": "f() raised IndexError: list index out of range (line 3: return items[0])"}


def test_structural_checks_when_a_required_module_is_missing():
    check = CodeCheck(
        entry="f", signature="def f()", reference="def f():\n    return 1\n",
        tests=[{"name": "t", "call": "f()", "expect": "1", "criterion": "works"}],
        requires=["grader_test_no_such_module"],
        structure=[
            {"criterion": "works", "description": {"zh": "用了 1x1 卷积", "en": "uses a 1x1 convolution"}, "pattern": r"kernel_size\s*=\s*1\b"},
            {"criterion": "shortcut", "description": {"zh": "残差相加", "en": "adds the shortcut"}, "pattern": r"\+\s*identity"},
        ],
    )
    report = run_code_check(check, "def f(x):\n    out = conv(x, kernel_size=1)\n    return out\n")
    assert report.status == "structural"
    assert report.message == (
        "grader_test_no_such_module is not installed here, so the code was checked statically (searched for the required parts), not run."
    )
    assert [(c.name, c.passed, c.message, c.kind) for c in report.cases] == [
        ("structure-1", True, "static check passed: uses a 1x1 convolution", "structure"),
        ("structure-2", False, "static check failed: adds the shortcut (not found in the code)", "structure"),
    ]


def test_a_broken_rubric_test_is_not_blamed_on_the_candidate():
    check = tiny(tests=[{"name": "t", "call": "f()", "expect": "1 / 0", "criterion": "works"}])
    report = run_code_check(check, "def f():\n    return 1\n")
    assert failing(report) == {
        "t": "f() could not be checked (error in the rubric's test, not in your code: ZeroDivisionError: division by zero)"
    }


def test_a_failing_harness_is_a_sandbox_error_not_a_verdict(tmp_path, monkeypatch):
    broken = tmp_path / "harness.py"
    broken.write_text("import sys\nprint('boom')\nsys.exit(1)\n")
    monkeypatch.setattr("grader.sandbox.runner.HARNESS", str(broken))
    rubric = load("hanoi")
    report = run_code_check(rubric.code_check, rubric.code_check.reference)
    assert report.status == "crashed"
    assert report.sandbox_error == "the checker exited with code 1 and no result"
    assert report.output_tail == "boom\n"
    assert report.message == (
        "The code could not be run: the grading sandbox failed (the checker exited with code 1 and no result). This is not a fault in your code."
    )
    assert verdict_table(rubric, report) == {"legal-moves": ("missed", 0.0), "optimal-move-count": ("missed", 0.0), "base-case": ("missed", 0.0)}


# ---- hostile submissions: contained, reported, the grader survives ---------------------------------


@pytest.mark.hostile
def test_infinite_loop_times_out_and_later_tests_are_not_run():
    check = tiny(tests=[
        {"name": "first", "call": "f()", "expect": "1", "criterion": "works"},
        {"name": "second", "call": "f() + 0", "expect": "1", "criterion": "works"},
    ])
    report = run_code_check(check, "def f():\n    while True:\n        pass\n")
    assert report.status == "timeout"
    assert report.message == "The code was stopped at the 1 s time limit in `f()`; look for an infinite loop or an algorithm that is too slow."
    assert failing(report) == {"first": "f() did not finish within the 1 s time limit", "second": "f() + 0 was not run: the time limit was reached before it"}
    assert report.duration_s < 10


@pytest.mark.hostile
def test_infinite_loop_at_import_and_sleeping_forever_time_out():
    report = run_code_check(tiny(), "while True:\n    pass\n")
    assert report.status == "timeout"
    assert report.message == "The code was stopped at the 1 s time limit; look for an infinite loop or an algorithm that is too slow."
    assert failing(report) == {"t": "f() was not run: the time limit was reached before it"}
    report = run_code_check(tiny(), "import time\ndef f():\n    time.sleep(1000)\n")
    assert report.status == "timeout"


@pytest.mark.hostile
@pytest.mark.parametrize("code, what", [
    ("import os\ndef f():\n    while True:\n        os.fork()\n", "start another process (os.fork)"),
    ("import subprocess\ndef f():\n    return subprocess.run(['ls'])\n", "start another process (subprocess.Popen)"),
    ("import os\ndef f():\n    return os.system('ls')\n", "start another process (os.system)"),
    ("import socket\ndef f():\n    socket.socket().connect(('127.0.0.1', 80))\n", "open a network connection (socket.__new__)"),
    ("import urllib.request\ndef f():\n    urllib.request.urlopen('http://example.com')\n", "open a network connection (urllib.Request)"),
    ("import os\ndef f():\n    os.kill(os.getppid(), 9)\n", "send a signal to another process (os.kill)"),
    ("import ctypes\ndef f():\n    return ctypes.CDLL(None).getpid()\n", "call native code through ctypes (ctypes.dlopen)"),
    ("import os\ndef f():\n    os.symlink('/etc/passwd', 'p')\n", "create a file link (os.symlink)"),
    ("import resource\ndef f():\n    resource.setrlimit(resource.RLIMIT_CPU, (100, 100))\n", "change its resource limits (resource.setrlimit)"),
    ("def f():\n    return open('/etc/passwd').read()\n", "read a file outside its working directory (/etc/passwd)"),
    ("import os\ndef f():\n    return os.listdir('/')\n", "read a file outside its working directory (/)"),
], ids=["fork-bomb", "subprocess", "os-system", "socket", "urllib", "kill-parent", "ctypes", "symlink", "setrlimit", "read-etc", "list-root"])
@pytest.mark.hostile
def test_forbidden_operations_are_blocked(code, what):
    report = run_code_check(tiny(), code)
    assert report.status == "blocked"
    assert report.message == blocked_message(what)
    assert failing(report) == {"t": f"f() tried to {what}; the run was stopped"}


@pytest.mark.hostile
def test_forbidden_operation_at_import_time_is_blocked():
    report = run_code_check(tiny(), "import os\nos.fork()\ndef f():\n    return 1\n")
    assert report.status == "blocked"
    assert report.message == blocked_message("start another process (os.fork)", None)
    assert failing(report) == {"t": "f() was not run: the run was stopped after a forbidden operation"}


@pytest.mark.hostile
def test_catching_the_block_does_not_hide_it():
    code = "import os\ndef f():\n    try:\n        os.fork()\n    except Exception:\n        pass\n    return 1\n"
    assert run_code_check(tiny(), code).status == "blocked"


@pytest.mark.hostile
def test_grading_database_is_out_of_reach(tmp_path):
    db = Path(os.environ["GRADER_DB"])  # set by conftest to a file under tmp_path
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE gradings (answer TEXT)")
        conn.execute("INSERT INTO gradings VALUES ('secret answer')")
    before = db.read_bytes()
    real = os.path.realpath(db)
    report = run_code_check(tiny(), f"def f():\n    return open({str(db)!r}, 'rb').read()\n")
    assert report.status == "blocked"
    assert report.message == blocked_message(f"read a file outside its working directory ({real})")
    report = run_code_check(tiny(), f"import sqlite3\ndef f():\n    return sqlite3.connect({str(db)!r}).execute('SELECT * FROM gradings').fetchall()\n")
    assert report.status == "blocked"
    assert report.message == blocked_message(f"write or change a file outside its working directory ({real})")
    assert db.read_bytes() == before
    assert "secret" not in report.output_tail


@pytest.mark.hostile
def test_user_file_outside_workdir_cannot_be_read_or_written(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("private")
    report = run_code_check(tiny(), f"def f():\n    return open({str(notes)!r}).read()\n")
    assert report.status == "blocked"
    assert report.message == blocked_message(f"read a file outside its working directory ({os.path.realpath(notes)})")
    target = tmp_path / "written-by-candidate.txt"
    report = run_code_check(tiny(), f"def f():\n    open({str(target)!r}, 'w').write('x')\n    return 1\n")
    assert report.status == "blocked"
    assert report.message == blocked_message(f"write or change a file outside its working directory ({os.path.realpath(target)})")
    assert not target.exists()


@pytest.mark.hostile
def test_work_directory_is_usable():
    code = "import os\ndef f():\n    with open('out.txt', 'w') as fh:\n        fh.write('hi')\n    return [open('out.txt').read(), sorted(os.listdir('.'))]\n"
    check = tiny(tests=[{"name": "t", "call": "f()", "expect": "['hi', ['out.txt', 'solution.py']]", "criterion": "works"}])
    report = run_code_check(check, code)
    assert report.status == "ok" and failing(report) == {}


@pytest.mark.hostile
def test_memory_bomb():
    report = run_code_check(tiny(), "def f():\n    x = bytearray(10**10)\n    return 1\n")
    assert report.status == "memory_limit"
    assert report.message == "The code ran out of memory (limit 128 MB) in `f()`."
    assert failing(report) == {"t": "f() ran out of memory (limit 128 MB)"}
    report = run_code_check(tiny(), "def f():\n    blocks = []\n    while True:\n        blocks.append(bytearray(10**6))\n")
    assert report.status == "memory_limit"


@pytest.mark.hostile
def test_huge_output_is_capped():
    report = run_code_check(tiny(), "def f():\n    for _ in range(10**6):\n        print('x' * 99)\n    return 1\n")
    assert report.status == "output_limit"
    assert report.message == "The code wrote more than 1 MiB (printed output or a file) in `f()`; the writing was cut off."
    assert failing(report) == {"t": "f() wrote more than 1 MiB (printed output or a file)"}
    assert 0 < len(report.output_tail) <= 2000 and set(report.output_tail) <= {"x", "\n"}


@pytest.mark.hostile
def test_printed_output_is_kept_and_harmless():
    report = run_code_check(tiny(), "print('hello from the candidate')\ndef f():\n    return 1\n")
    assert report.status == "ok" and report.output_tail == "hello from the candidate\n"


@pytest.mark.hostile
def test_forged_result_record_has_no_effect():
    code = (
        "import os\nprint('{\"token\": \"0\", \"status\": \"ok\", \"cases\": []}')\n"
        "def f():\n    for fd in range(3, 64):\n        try:\n            os.write(fd, b'{\"token\": \"0\", \"status\": \"ok\"}\\n{\"ev\": \"internal\"}\\n')\n"
        "        except OSError:\n            pass\n    return 2\n"
    )
    report = run_code_check(tiny(), code)
    # Garbage on the result channel: no test credit, never a pass (fail closed).
    assert report.status == "crashed"
    assert report.sandbox_error == "the channel from the code's process was corrupted (a record the checker cannot read (ChannelError))"
    assert verdict_table(tiny_rubric(), report) == {"works": ("missed", 0.0)}


@pytest.mark.hostile
def test_monkeypatching_cannot_fake_a_pass():
    code = "import numpy\nnumpy.allclose = lambda *a, **k: True\nnumpy.array_equal = lambda *a, **k: True\ndef f():\n    return 2\n"
    assert failing(run_code_check(tiny(), code)) == {"t": "f() returned 2, expected 1"}
    liar = "class Liar:\n    def __eq__(self, other):\n        return True\ndef f():\n    return Liar()\n"
    assert failing(run_code_check(tiny(), liar)) == {
        "t": "f() returned an object of type Liar; return plain values (numbers, strings, lists, tuples, dicts, numpy arrays)"
    }


@pytest.mark.hostile
def test_native_crash_is_reported():
    report = run_code_check(tiny(), "import faulthandler\ndef f():\n    faulthandler._read_null()\n")
    assert report.status == "crashed"
    why = "SIGSEGV, segmentation fault: a crash in native code, or recursion too deep after raising the recursion limit"
    assert report.message == f"The program crashed in `f()` ({why})."
    assert failing(report) == {"t": f"f() crashed the program ({why})"}


@pytest.mark.hostile
def test_isolation_layers_are_reported():
    report = run_code_check(tiny(), "def f():\n    return 1\n")
    assert report.status == "ok"
    assert report.isolation["sandbox"] == "bubblewrap"
    assert report.isolation["guard"] == "audit hook (tripwire)"
    assert report.isolation["seccomp"] == "2 filters in force"
    assert report.isolation["capabilities"] == "none"
    assert report.isolation["pid"] == "2 (own PID namespace)"


# ---- the OS layers alone (audit hook off): what holds even if the hook is bypassed ------------------


@pytest.mark.hostile
def test_os_layer_network_unreachable():
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    port = server.getsockname()[1]
    accepted: list[object] = []

    def accept() -> None:
        try:
            accepted.append(server.accept())
        except OSError:
            pass

    t = threading.Thread(target=accept)
    t.start()
    code = f"import socket\ndef f():\n    s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    return 1\n"
    report = _run(tiny(time_limit=3), code, guard=False)
    t.join()
    server.close()
    assert report.status == "ok"
    assert failing(report) == {"t": "f() raised PermissionError: [Errno 1] Operation not permitted (line 3: s = "
                                    f"socket.create_connection(('127.0.0.1', {port}), timeout=2))"}
    assert accepted == []


@pytest.mark.hostile
def test_os_layer_grading_database_and_project_invisible():
    db = Path(os.environ["GRADER_DB"])
    db.write_text("secret")
    code = (
        f"import os\ndef f():\n    out = []\n    for p in ({str(db)!r}, {str(REPO)!r}, {str(REPO / 'rubrics')!r}):\n"
        "        try:\n            out.append(sorted(os.listdir(p)) if os.path.isdir(p) else open(p).read())\n"
        "        except OSError as e:\n            out.append(type(e).__name__)\n    return out\n"
    )
    report = _run(tiny(), code, guard=False)
    assert report.status == "ok"
    assert failing(report) == {"t": "f() returned ['FileNotFoundError', 'FileNotFoundError', 'FileNotFoundError'], expected 1"}


@pytest.mark.hostile
def test_os_layer_no_process_can_be_started():
    code = (
        "import os, subprocess\ndef f():\n    out = []\n"
        "    for fn in (os.fork, lambda: subprocess.run(['/bin/true']), lambda: os.execv('/bin/sh', ['sh'])):\n"
        "        try:\n            fn()\n            out.append('ran')\n        except OSError as e:\n"
        "            out.append(type(e).__name__)\n    return out\n"
    )
    report = _run(tiny(time_limit=3), code, guard=False)
    assert report.status == "ok"
    assert failing(report) == {"t": "f() returned ['PermissionError', 'PermissionError', 'PermissionError'], expected 1"}


@pytest.mark.hostile
def test_os_layer_signals_cannot_reach_the_grader():
    me = os.getpid()
    code = (
        f"import os\ndef f():\n    out = []\n    for pid in ({me}, os.getppid()):\n        try:\n            os.kill(pid, 9)\n"
        "            out.append('sent')\n        except OSError as e:\n            out.append(type(e).__name__)\n    return out\n"
    )
    report = _run(tiny(), code, guard=False)
    assert os.getpid() == me  # still here
    assert report.status == "ok"
    # the grader is outside its PID namespace; its parent there is bubblewrap's init, which the
    # kernel shields from SIGKILL sent from inside: the run goes on and reports
    assert failing(report) == {"t": "f() returned ['ProcessLookupError', 'sent'], expected 1"}


@pytest.mark.hostile
def test_os_layer_memory_and_writes(tmp_path):
    report = _run(tiny(), "def f():\n    x = bytearray(10**10)\n    return 1\n", guard=False)
    assert report.status == "memory_limit"
    target = tmp_path / "escape.txt"
    code = f"def f():\n    try:\n        open({str(target)!r}, 'w').write('x')\n    except OSError as e:\n        return type(e).__name__\n"
    report = _run(tiny(), code, guard=False)
    assert not target.exists()
    assert failing(report) == {"t": "f() returned 'FileNotFoundError', expected 1"}


@pytest.mark.hostile
def test_os_layer_environment_has_no_secrets(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    report = _run(tiny(), "import os\ndef f():\n    return sorted(os.environ)\n", guard=False)
    got = failing(report)["t"]
    assert "OPENAI_API_KEY" not in got and "sk-test-secret" not in got
    assert got.startswith("f() returned ['HOME', 'LANG', 'LC_ALL', 'MKL_NUM_THREADS'")


# ---- verdicts and values without a run ----------------------------------------------------------


def _report(status: str, cases: list[tuple[str, str, bool]], **kw) -> CodeReport:
    return CodeReport(
        status=status, message=kw.pop("message", "m"),
        cases=[CaseResult(name=n, criterion=c, passed=p, message=f"{n} msg") for n, c, p in cases], **kw,
    )


def test_verdicts_met_partial_missed_and_judge_criteria_untouched():
    rubric = load("max-subarray")
    names = [(t.name, t.criterion) for t in rubric.code_check.tests]
    cases = [(n, c, not (c == "edge-cases" and n != "single-positive") and c != "linear-time") for n, c in names]
    verdicts = criterion_verdicts(rubric, _report("ok", cases))
    assert verdicts["correct-results"] == ("met", 1.0, "All 7 tests for this point passed.", [])
    assert verdicts["edge-cases"] == (
        "partial", 0.25, "1 of 4 tests for this point passed.",
        ["single-negative msg", "all-negative msg", "all-negative-long msg"],
    )
    assert verdicts["linear-time"] == ("missed", 0.0, "None of the 1 tests for this point passed.", ["large-input msg"])
    assert "dp-definition" not in verdicts and "complexity-constant-space" not in verdicts


def test_verdicts_fail_closed_when_the_sandbox_failed_and_structural_mapping():
    rubric = load("hanoi")
    failed = criterion_verdicts(rubric, _report("crashed", [], sandbox_error="boom", message="The sandbox failed."))
    why = "The tests for this point were not run or cannot be trusted. The sandbox failed."
    assert failed == {c: ("missed", 0.0, why, []) for c in ("legal-moves", "optimal-move-count", "base-case")}
    assert set(criterion_verdicts(rubric, _report("not_run", [], message="The sandbox failed."))) == set(failed)
    assert criterion_verdicts(rubric, _report("no_code", [])) == {}
    assert criterion_verdicts(rubric.model_copy(update={"code_check": None}), _report("ok", [])) == {}
    check = rubric.code_check.model_copy(update={"structure": [
        StructureCheck(criterion="legal-moves", description={"zh": "递归", "en": "recursion"}, pattern=r"hanoi\("),
    ]})
    report = _report("structural", [("structure-1", "legal-moves", True)], message="torch is not installed here.")
    v = criterion_verdicts(rubric.model_copy(update={"code_check": check}), report)
    assert v == {"legal-moves": ("met", 1.0, "All 1 static checks for this point passed. Checked statically, not run: torch is not installed here.", [])}


def test_value_comparison():
    assert same([(1, "A", "C")], [[1, "A", "C"]], 1e-6)
    assert same(np.array([0.5, 1.0]), [0.5, 1.0 + 1e-9], 1e-6)
    assert same(7 / 12, 0.5833333334, 1e-6) and not same(0.625, 7 / 12, 1e-6)
    assert not same(True, 1, 1e-6) and not same(1, True, 1e-6)
    assert not same(None, 1, 1e-6) and same(None, None, 0)
    assert not same("", None, 0) and same("", "", 0)
    assert same({"a": (1.0, 2)}, {"a": [1, 2]}, 1e-6) and not same({"a": 1}, {"b": 1}, 0)
    assert same(float("nan"), float("nan"), 1e-6) and not same(float("nan"), 1.0, 1e-6)
    assert not same(np.zeros((2, 2)), np.zeros(4), 1e-6)


# ---- the rubrics' misconception patterns ----------------------------------------------------------

MISCONCEPTIONS = [
    ("max-subarray", "init-with-zero", ["最大和初始化为0，然后遍历", "best = 0\nfor v in nums:"], ["best = cur = nums[0]", "初始化为 nums[0]，不能初始化为 0"]),
    ("max-subarray", "not-contiguous", ["这里的子序列不要求连续", "the subarray doesn't need to be contiguous"], ["子数组必须连续，不能跳着选"]),
    ("hanoi", "moves-two-to-n", ["n 个盘子一共要移动 2^n 次", "移动次数为 n^2 次", "it takes 2^n moves"], ["移动次数是 2^n - 1 次", "移动次数为 2ⁿ − 1", "时间复杂度 O(2^n)"]),
    ("hanoi", "linear-time", ["时间复杂度是 O(n)，因为递归深度是 n", "the time complexity is O(n)"], ["时间复杂度 O(2^n)，空间复杂度 O(n)"]),
    ("rearrange-string-k", "adjacent-only", ["只要保证相邻的字符不同就行"], ["相邻字符不同只对应 k=2 的情况"]),
    ("rearrange-string-k", "half-length-condition", ["出现最多的字母次数超过 (n+1)/2 就无解"], ["(m-1)*k + c > n 时无解"]),
    ("miou", "per-image-average", ["先对每张图计算 mIoU，然后取平均", "compute the mIoU for each image and then average"], ["在整个数据集上累积混淆矩阵，而不是对每张图算 IoU 再平均"]),
    ("miou", "iou-wrong-denominator", ["IoU = TP/(TP+FP)"], ["IoU = TP/(TP+FP+FN)", "precision = TP/(TP+FP)"]),
    ("miou", "absent-as-zero", ["都没出现的类 IoU 记为 0"], ["都没出现的类是 0/0，用 nanmean 排除", "只在预测中出现的类 IoU 为 0，要计入"]),
]


@pytest.mark.parametrize("rid, mid, wrong, right", MISCONCEPTIONS, ids=[f"{m[0]}:{m[1]}" for m in MISCONCEPTIONS])
def test_misconception_patterns(rid, mid, wrong, right):
    patterns = next(m.patterns for m in load(rid).misconceptions if m.id == mid)
    for text in wrong:
        assert find_claim(patterns, normalize(text)), text
    for text in right:
        assert not find_claim(patterns, normalize(text)), text


def test_candidates_code_is_parsed_one_thread_at_a_time(monkeypatch):
    # Python 3.11 before 3.11.8 can fail with "AST constructor recursion depth mismatch" when two
    # threads parse at once, as a batch grading coding answers in parallel does.
    import sys

    from grader.sandbox import extract

    inside, most, ours = [0], [0], set()
    real_parse = extract.ast.parse

    def watched(*args, **kwargs):
        if threading.get_ident() not in ours:  # another thread of the test process: not counted
            return real_parse(*args, **kwargs)
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        try:
            for _ in range(2000):  # long enough for the other threads to get in, were it not locked
                pass
            return real_parse(*args, **kwargs)
        finally:
            inside[0] -= 1

    def worker():
        ours.add(threading.get_ident())
        for _ in range(50):
            extract.parse_python("x = [1, (2, 3)]")

    monkeypatch.setattr(extract.ast, "parse", watched)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads switch often: unlocked, they would overlap
    try:
        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    assert most[0] == 1
