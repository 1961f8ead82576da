"""The CI gate: the offline judge over every shipped golden set and canary must meet the
thresholds in evals/config.yaml (the figures are in the README)."""

from __future__ import annotations

import json

from grader.cli.app import app
from grader.evals.golden import golden_dir


def test_offline_judge_meets_the_thresholds_on_the_whole_bank(runner, bank):
    result = runner.invoke(app, ["evals", "run", "--judge", "offline", "--json"])
    data = json.loads(result.stdout)
    m = data["metrics"]
    golden_files = len(list(golden_dir().glob("*.yaml")))
    assert golden_files == len(bank.rubrics), "every question in the bank has a golden set"
    assert m["golden_answers"] >= 4 * len(bank.rubrics)
    assert m["canaries"] == 7 * len(bank.rubrics)
    assert result.exit_code == 0, f"thresholds crossed: {m['failures']}"
    print(json.dumps({k: m[k] for k in ("golden_answers", "band_pass_rate", "criterion_agreement", "spearman",
                                          "qwk", "misconception_recall", "canary_pass_rate")}))
