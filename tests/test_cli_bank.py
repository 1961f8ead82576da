"""Browsing and linting the bank through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.cli.app import app
from grader.rubric.categories import CATEGORIES

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = FIXTURES / "broken"


def test_questions_json_lists_the_whole_bank(runner, bank):
    result = runner.invoke(app, ["questions", "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert len(items) == len(bank.rubrics)
    assert {i["category"] for i in items} <= set(CATEGORIES)
    assert all(i["question"]["zh"] and i["question"]["en"] for i in items)


def test_questions_filters(runner):
    result = runner.invoke(app, ["questions", "--json", "--category", "Normalization"])
    items = json.loads(result.stdout)
    assert items and {i["category"] for i in items} == {"normalization"}
    result = runner.invoke(app, ["questions", "--json", "--type", "concept"])
    assert {i["type"] for i in json.loads(result.stdout)} == {"concept"}


def test_questions_bad_filter_is_one_clear_line(runner):
    result = runner.invoke(app, ["questions", "--category", "astrology"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown category 'astrology'; choose one of: cnn-architectures")
    result = runner.invoke(app, ["questions", "--type", "essay"])
    assert result.exit_code == 1
    assert result.stderr == "error: unknown type 'essay'; choose concept, derivation or coding\n"


def test_show_hides_the_reference_unless_asked(runner):
    plain = runner.invoke(app, ["show", "bn-inference"])
    assert plain.exit_code == 0
    assert "running-stats-ema" in plain.stdout and "[3]" in plain.stdout
    assert "Batch Renorm" not in plain.stdout
    revealed = runner.invoke(app, ["show", "bn-inference", "--reference", "--lang", "en"])
    text = " ".join(revealed.stdout.split())  # the terminal wraps long lines
    assert "Batch Renorm" in text
    assert "How does BatchNorm behave" in text


def test_show_json_has_hash_and_no_reference(runner, bank):
    data = json.loads(runner.invoke(app, ["show", "bn-inference", "--json"]).stdout)
    assert data["content_hash"] == bank.get("bn-inference").content_hash()
    assert "reference_answer" not in data and data["max_points"] == 11


def test_unknown_id_suggests_the_closest(runner):
    result = runner.invoke(app, ["show", "bn-inferense"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown question id 'bn-inferense'; did you mean bn-inference")
    assert "Traceback" not in result.output


def test_lint_passes_on_the_shipped_bank(runner):
    result = runner.invoke(app, ["rubric", "lint"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("file(s) checked: ok")


@pytest.mark.parametrize(
    "name, message",
    [
        ("bad-yaml", "bad-yaml.yaml: line 5: invalid YAML: mapping values are not allowed in this context"),
        ("missing-field", "missing-field.yaml: question: required field is missing"),
        ("unknown-field", "unknown-field.yaml: criteria[1].weight: unknown field"),
        ("zero-points", "zero-points.yaml: criteria[0].points: Input should be greater than 0"),
        ("duplicate-criteria", "duplicate-criteria.yaml: criteria[1].id: duplicate id 'train-batch-stats' inside this rubric"),
        ("empty-key-terms", "empty-key-terms.yaml: criteria[2].key_terms: key-term group 1 is empty"),
    ],
)
def test_lint_names_file_and_field(runner, name, message):
    result = runner.invoke(app, ["rubric", "lint", str(BROKEN / f"{name}.yaml")])
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.strip().endswith("1 problem(s)")


def test_lint_duplicate_question_ids(runner):
    result = runner.invoke(app, ["rubric", "lint", str(FIXTURES / "duplicate_ids")])
    assert result.exit_code == 1
    assert "copy/bn-inference.yaml: id: duplicate question id 'bn-inference' (also in bn-inference.yaml)" in result.stderr


def test_lint_json_and_missing_path(runner):
    data = json.loads(runner.invoke(app, ["rubric", "lint", "--json", str(BROKEN / "zero-points.yaml")]).stdout)
    assert data["rubrics"] == 0 and len(data["problems"]) == 1
    result = runner.invoke(app, ["rubric", "lint", "no/such/dir"])
    assert result.exit_code == 1 and result.stderr == "error: no/such/dir does not exist\n"


def test_lint_rejects_a_reference_answer_that_fails_its_own_rubric(runner, tmp_path):
    text = (FIXTURES / "team_bank" / "detection" / "optical-flow.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "optical-flow.yaml"
    broken.write_text(text.replace("solved by least squares", "solved by gradient descent").replace("用最小二乘求解", "用梯度下降求解"), encoding="utf-8")
    result = runner.invoke(app, ["rubric", "lint", str(broken)])
    assert result.exit_code == 1
    assert "criteria[2].key_terms: the reference answer does not meet 'local-least-squares'" in result.stderr


def test_team_bank_extends_the_shipped_one(runner, monkeypatch, bank):
    team = str(FIXTURES / "team_bank")
    result = runner.invoke(app, ["questions", "--json", "--rubrics", team])
    ids = [i["id"] for i in json.loads(result.stdout)]
    assert "optical-flow" in ids and "bn-inference" in ids and len(ids) == len(bank.rubrics) + 1
    only = json.loads(runner.invoke(app, ["questions", "--json", "--rubrics", team, "--no-builtin"]).stdout)
    assert [i["id"] for i in only] == ["optical-flow"]
    monkeypatch.setenv("GRADER_RUBRICS", team)
    assert runner.invoke(app, ["show", "optical-flow"]).exit_code == 0


def test_broken_team_rubric_is_skipped_with_a_warning(runner, tmp_path):
    (tmp_path / "zero-points.yaml").write_text((BROKEN / "zero-points.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(app, ["questions", "--json", "--rubrics", str(tmp_path)])
    assert result.exit_code == 0
    warnings = [json.loads(line)["warning"] for line in result.stderr.splitlines()]  # JSON under --json
    assert any(w.startswith("skipped invalid rubric:") and "criteria[0].points" in w for w in warnings)


def test_help_lists_the_commands(runner):
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for cmd in ("questions", "show", "grade", "practice", "history", "progress", "rubric"):
        assert cmd in result.stdout


def test_an_edited_rubric_is_read_again_not_served_from_the_cache(runner, tmp_path):
    team = tmp_path / "team"
    team.mkdir()
    src = (FIXTURES / "team_bank" / "detection" / "optical-flow.yaml").read_text(encoding="utf-8")
    path = team / "optical-flow.yaml"
    path.write_text(src, encoding="utf-8")
    first = json.loads(runner.invoke(app, ["show", "optical-flow", "--json", "--rubrics", str(team)]).stdout)
    path.write_text(src.replace("version: 1", "version: 2"), encoding="utf-8")
    second = json.loads(runner.invoke(app, ["show", "optical-flow", "--json", "--rubrics", str(team)]).stdout)
    assert (first["version"], second["version"]) == (1, 2)
    assert first["content_hash"] != second["content_hash"]
    path.write_text(src.replace("points: 2", "points: 0", 1), encoding="utf-8")
    broken = runner.invoke(app, ["show", "optical-flow", "--rubrics", str(team)])
    assert broken.exit_code == 1 and "skipped invalid rubric" in broken.stderr
