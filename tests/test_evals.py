"""Rubric regression runs: canaries, golden sets, baselines, flipped verdicts, JUnit, reviews."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from grader.cli.app import app
from grader.evals.canaries import canaries_for

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = FIXTURES / "golden"
BANK = Path(__file__).resolve().parent.parent / "rubrics"


CONFIG = FIXTURES / "eval_config.yaml"


def run(runner, *args):
    config = [] if "--config" in args else ["--config", str(CONFIG)]
    return runner.invoke(app, ["evals", "run", "--golden", str(GOLDEN), *config, *args])


def test_canaries_cover_the_gaming_attempts(bank):
    rubric = bank.get("bn-inference")
    ids = [c.id for c in canaries_for(rubric, bank)]
    assert ids == ["reference", "empty", "other-question", "padded", "repeated", "injection", "question-echo"]


def test_run_on_a_golden_set_passes_and_reports_figures(runner):
    result = run(runner, "--questions", "bn-inference", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    m = data["metrics"]
    assert m["golden_answers"] == 4 and m["canaries"] == 7
    assert m["band_pass_rate"] == 1.0 and m["canary_pass_rate"] == 1.0
    assert m["criteria_compared"] == 20
    assert m["spearman"] > 0.8 and m["qwk"] > 0.8
    assert m["misconception_recall"] == 1.0 and m["failures"] == []


def _broken_bank(tmp_path: Path) -> Path:
    """bn-inference with the key terms of `inference-uses-running` replaced by a term no answer uses."""
    team = tmp_path / "team"
    team.mkdir()
    data = yaml.safe_load((BANK / "normalization" / "bn-inference.yaml").read_text(encoding="utf-8"))
    crit = next(c for c in data["criteria"] if c["id"] == "inference-uses-running")
    crit["key_terms"] = [["zzz-removed-term"]]
    crit.pop("min_groups", None)
    data["reference_answer"]["zh"] += " zzz-removed-term"  # keep the rubric lint-clean
    (team / "bn-inference.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return team


def test_broken_rubric_fails_against_the_baseline_and_names_flips(runner, tmp_path):
    base = run(runner, "--questions", "bn-inference", "--save-baseline", "main")
    assert base.exit_code == 0, base.output
    team = _broken_bank(tmp_path)
    broken = run(runner, "--questions", "bn-inference", "--rubrics", str(team), "--baseline", "main")
    assert broken.exit_code == 1
    out = " ".join(broken.stdout.split())
    assert "✗ bn-inference/complete · inference-uses-running: met → partial (expected met)" in out
    assert "✗ bn-inference/partial · inference-uses-running: met → partial (expected met)" in out
    assert "threshold crossed: 2 verdict(s) that matched the expected one in the baseline no longer do (allowed 0)" in out
    listing = json.loads(runner.invoke(app, ["evals", "list", "--json"]).stdout)
    assert [r["baseline"] for r in listing] == [None, "main"]
    assert [r["passed"] for r in listing] == [False, True]
    diff = runner.invoke(app, ["evals", "diff", "main", str(listing[0]["id"]), "--json"])
    flips = json.loads(diff.stdout)["flipped"]
    assert {"question_id": "bn-inference", "case_id": "complete", "criterion": "inference-uses-running",
            "before": "met", "after": "partial", "expected": "met"} in flips


def test_junit_has_one_testcase_per_case(runner, tmp_path):
    junit = tmp_path / "evals.xml"
    result = run(runner, "--questions", "bn-inference", "--junit", str(junit))
    assert result.exit_code == 0
    root = ET.parse(junit).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == 11
    assert {c.get("name") for c in cases} >= {"complete", "partial", "canary-injection", "canary-empty"}


def test_thresholds_come_from_the_config_file(runner, tmp_path):
    strict = tmp_path / "config.yaml"
    strict.write_text("thresholds:\n  criterion_agreement: 0.99\n", encoding="utf-8")
    result = run(runner, "--questions", "bn-inference", "--config", str(strict))
    assert result.exit_code == 1
    assert "threshold crossed: criterion agreement" in result.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("thresholds:\n  kappa: 1\n", encoding="utf-8")
    result = run(runner, "--config", str(bad))
    assert result.exit_code == 1 and result.stderr.startswith(f"error: {bad}:")


def test_invalid_golden_set_is_reported(runner, tmp_path):
    golden = tmp_path / "golden"
    golden.mkdir()
    data = yaml.safe_load((GOLDEN / "bn-inference.yaml").read_text(encoding="utf-8"))
    del data["answers"][0]["expected"]["verdicts"]["mismatch-and-folding"]
    (golden / "bn-inference.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["evals", "run", "--golden", str(golden), "--questions", "bn-inference"])
    assert result.exit_code == 1
    assert "complete: verdicts must name every criterion (missing ['mismatch-and-folding'], unknown [])" in result.stderr


def test_unknown_baseline_and_question(runner):
    result = run(runner, "--questions", "bn-inference", "--baseline", "nope")
    assert result.exit_code == 1 and "no eval run or baseline named 'nope'" in result.stderr
    result = run(runner, "--questions", "bn-infer")
    assert result.exit_code == 1 and "did you mean bn-inference" in result.stderr


def test_review_and_agreement(runner):
    answers = [
        "训练时用 batch 均值方差，推理时用 running mean 和 running var，测试时不更新，要调 model.eval()。",
        "训练用 batch 统计量。",
        "ReLU 比 sigmoid 好。",
    ]
    ids = []
    for a in answers:
        data = json.loads(runner.invoke(app, ["grade", "bn-inference", "--answer", a, "--json"]).stdout)
        ids.append(data["grading_id"])
    assert runner.invoke(app, ["evals", "agreement"]).exit_code == 1  # nothing reviewed yet
    r1 = runner.invoke(app, ["review", str(ids[0]), "--percent", "80", "--reviewer", "coach"])
    assert r1.exit_code == 0, r1.output
    r2 = runner.invoke(app, ["review", str(ids[1]), "-v", "train-batch-stats=partial", "--json"])
    assert json.loads(r2.stdout)["verdicts"]["train-batch-stats"] == "partial"
    runner.invoke(app, ["review", str(ids[2]), "--score", "0"])
    bad = runner.invoke(app, ["review", str(ids[0]), "-v", "nonsense=met"])
    assert bad.exit_code == 1 and "has no criterion 'nonsense'" in bad.stderr
    agreement = json.loads(runner.invoke(app, ["evals", "agreement", "--json"]).stdout)
    assert agreement["reviewed"] == 3
    assert agreement["verdicts_compared"] == 15
    confusion = agreement["verdict_confusion"]
    assert sum(sum(row.values()) for row in confusion.values()) == 15
    assert agreement["pearson"] is not None


def _case(kind: str, passed: bool, found: list[str] = (), expected: list[str] = ()):
    from grader.evals.runner import CaseResult

    return CaseResult(
        question_id="q", case_id=f"{kind}-{passed}-{len(found)}", kind=kind, rubric_hash="h", status="graded",
        percent=50.0, verdicts={"c": "met"}, misconceptions=list(found), expected_band=(0, 100), expected_percent=50.0,
        expected_verdicts={"c": "met"}, expected_misconceptions=list(expected), passed=passed,
    )


def test_figures_per_kind_of_answer_and_their_thresholds():
    from grader.evals.runner import Thresholds, compute_metrics

    results = [
        _case("complete", True), _case("complete", True),
        _case("swapped", False), _case("reversed", True), _case("negated", False), _case("negated", True),
        _case("refutation", True, found=["m1", "m2"]), _case("refutation", True, found=["m1"], expected=["m1"]),
        _case("misconception", True, found=["m3"], expected=["m3"]),
    ]
    t = Thresholds(band_pass_rate=0, criterion_agreement=0, spearman=-1, qwk=-1)
    m = compute_metrics(results, t)
    assert {k: (f.answers, f.passed, f.band_pass_rate) for k, f in m.by_kind.items()} == {
        "complete": (2, 2, 1.0), "misconception": (1, 1, 1.0), "swapped": (1, 0, 0.0), "reversed": (1, 1, 1.0),
        "negated": (2, 1, 0.5), "refutation": (2, 2, 1.0),
    }
    assert list(m.by_kind) == ["complete", "misconception", "swapped", "reversed", "negated", "refutation"]
    assert (m.wrong_with_right_words.answers, m.wrong_with_right_words.passed) == (4, 2)
    assert m.refutation_false_alarms == 2  # m1 and m2 on the first, nothing unexpected on the second
    assert m.failures == []

    strict = Thresholds(
        band_pass_rate=0, criterion_agreement=0, spearman=-1, qwk=-1,
        band_pass_rate_by_kind={"negated": 0.6, "complete": 1.0, "spoken-code": 0.9},
        wrong_with_right_words=0.75, max_refutation_false_alarms=1,
    )
    assert compute_metrics(results, strict).failures == [
        "2 misconception false alarm(s) on refutation answers (allowed 1)",
        "band pass rate of negated answers 0.500 < 0.600",
        "wrong claims with the right words 0.500 < 0.750",
    ]


def test_run_reports_band_pass_rate_per_kind(runner, tmp_path):
    result = run(runner, "--questions", "bn-inference", "--json")
    m = json.loads(result.stdout)["metrics"]
    assert {k: v["answers"] for k, v in m["by_kind"].items()} == {"complete": 1, "partial": 1, "off-topic": 1, "misconception": 1}
    assert m["wrong_with_right_words"] is None and m["refutation_false_alarms"] == 0
    table = run(runner, "--questions", "bn-inference")
    assert table.exit_code == 0, table.output
    assert "band pass rate by kind" in table.stdout
    assert "misconception   " in table.stdout and "1/1" in table.stdout

    config = tmp_path / "kinds.yaml"
    config.write_text("thresholds:\n  band_pass_rate_by_kind:\n    complete: 1.0\n    swapped: 0.5\n", encoding="utf-8")
    assert run(runner, "--questions", "bn-inference", "--config", str(config)).exit_code == 0
    config.write_text("thresholds:\n  band_pass_rate_by_kind:\n    typo-kind: 0.5\n", encoding="utf-8")
    bad = run(runner, "--questions", "bn-inference", "--config", str(config))
    assert bad.exit_code == 1
    assert bad.stderr.startswith(f"error: {config}: thresholds.band_pass_rate_by_kind.typo-kind")
    assert len(bad.stderr.strip().splitlines()) == 1


def test_the_held_out_answers_are_valid_and_name_shipped_questions():
    import importlib.util
    import sys

    from grader.rubric.bank import Bank

    spec = importlib.util.spec_from_file_location("heldout", Path(__file__).parent.parent / "bench" / "heldout.py")
    heldout = importlib.util.module_from_spec(spec)
    sys.modules["heldout"] = heldout  # pydantic resolves the models' annotations through it
    spec.loader.exec_module(heldout)
    bank = Bank.load()
    for folder in (heldout.HELDOUT, heldout.HELDOUT.parent / "heldout-b"):
        files = sorted(folder.glob("*.yaml"))
        assert len(files) == 57, folder
        _check_held_out(heldout, bank, files)


def _check_held_out(heldout, bank, files):
    for path in files:
        held = heldout.HeldOut.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        assert held.question_id == path.stem and held.question_id in bank.rubrics
        assert sorted(a.kind for a in held.answers) == sorted(["complete", "partial", "swapped", "reversed", "negated"])


def test_a_turned_round_claim_costs_points_but_is_no_misconception_false_alarm(runner, tmp_path):
    import shutil

    team, golden = tmp_path / "team", tmp_path / "golden"
    team.mkdir(), golden.mkdir()
    shutil.copy(FIXTURES / "claims" / "claims-demo.yaml", team / "claims-demo.yaml")
    missed = {c: "missed" for c in ("bn-ln-axes", "conv-then-bn", "batch-variance", "precision-formula", "train-batch-mean")}
    right = "先做卷积再做 BN。训练时 BN 用当前 batch 的均值做归一化。"

    def case(id_, kind, text, band, verdicts, **more):
        return {"id": id_, "kind": kind, "lang": "zh", "text": text,
                "expected": {"band": band, "verdicts": {**missed, **verdicts}, **more}}

    two = {"conv-then-bn": "met", "train-batch-mean": "met"}
    sets = {"question_id": "claims-demo", "rubric_version": 1, "answers": [
        case("complete", "complete", "BN 在 batch 维度上跨样本归一化，LN 在每个样本内部归一化。" + right
             + "batch 越大，梯度方差越小。精确率等于 TP 除以 TP+FP。", [85, 100], {c: "met" for c in missed}),
        case("partial", "partial", right, [35, 45], two),
        case("misconception", "misconception", "训练时 BN 用当前 batch 的均值做归一化。测试时也用 batch 的均值。", [0, 15],
             {"train-batch-mean": "met"}, misconceptions=["test-uses-batch-mean"]),
        case("reversed", "wrong", right + "batch 越大，梯度方差越大。", [25, 35], two, turned=["batch-variance"]),
    ]}
    (golden / "claims-demo.yaml").write_text(yaml.safe_dump(sets, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["evals", "run", "--golden", str(golden), "--rubrics", str(team), "--no-builtin",
                                 "--config", str(CONFIG), "--db", str(tmp_path / "g.db"), "--json"])
    assert result.stdout.startswith("{"), result.stdout + result.stderr
    data = json.loads(result.stdout)
    cases = {c["case_id"]: c for c in data["failing_cases"]}
    assert "reversed" not in cases and data["metrics"]["golden_answers"] == 4, result.stdout
    assert data["metrics"]["misconception_false_alarms"] == 0 and data["metrics"]["misconception_recall"] == 1.0
