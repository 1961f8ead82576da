"""Misconception patterns and team rubrics that could hang grading: a time bound on every
pattern, lint refusing catastrophic nesting, and bounds on a rubric file before validation."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from grader.cli.app import app
from grader.text.terms import find_claim, pattern_timeouts

BANK = Path(__file__).resolve().parent.parent / "rubrics"


def _team_rubric(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((BANK / "normalization" / "bn-inference.yaml").read_text(encoding="utf-8"))
    change(data)
    d = tmp_path / "team"
    d.mkdir(exist_ok=True)
    (d / "bn-inference.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return d


def _lint(runner, d: Path) -> list[str]:
    result = runner.invoke(app, ["rubric", "lint", str(d), "--json"])
    assert result.exit_code == 1, result.output
    return json.loads(result.stdout)["problems"]


def test_a_pattern_out_of_time_finds_nothing_and_is_reported():
    # (a|aa)+$ on a run of a's that ends in b backtracks exponentially in any engine.
    with pattern_timeouts() as timed_out:
        assert find_claim([r"(a|aa)+$", r"bn"], "a" * 60 + "b", timeout=0.5) is None
    assert timed_out == [r"(a|aa)+$"]
    with pattern_timeouts() as timed_out:  # a later pattern still runs after one times out
        m = find_claim([r"(a|aa)+$", r"b$"], "a" * 60 + "b", timeout=0.5)
    assert m is not None and m.group() == "b" and timed_out == [r"(a|aa)+$"]


def test_lint_rejects_nested_quantifiers(runner, tmp_path):
    def add(data):
        data["misconceptions"][0]["patterns"].append("(a+)+$")

    problems = _lint(runner, _team_rubric(tmp_path, add))
    assert len(problems) == 1
    assert "bn-inference.yaml: misconceptions[0].patterns: " in problems[0]
    assert "pattern '(a+)+$' nests a repeat inside an unbounded repeat (like (a+)+)" in problems[0]


def test_grading_with_a_rejected_team_rubric_never_runs_its_pattern(runner, tmp_path):
    def add(data):
        data["misconceptions"][0]["patterns"].append(r"(\w+\s?)*$")

    d = _team_rubric(tmp_path, add)
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", "训练时用 batch 统计量", "--rubrics", str(d), "--no-builtin"])
    assert result.exit_code == 1
    first, last = result.stderr.strip().splitlines()
    assert first.startswith("warning: skipped invalid rubric: ") and "nests a repeat" in first
    assert last == "error: unknown question id 'bn-inference'"


def test_yaml_alias_bomb_is_refused_before_validation(runner, tmp_path):
    d = tmp_path / "team"
    d.mkdir()
    text = (BANK / "normalization" / "bn-inference.yaml").read_text(encoding="utf-8")
    bomb = "x0: &x0 [a, a, a, a, a, a, a, a, a, a]\n" + "".join(
        f"x{i}: &x{i} [*x{i - 1}, *x{i - 1}, *x{i - 1}, *x{i - 1}, *x{i - 1}, *x{i - 1}, *x{i - 1}, *x{i - 1}, *x{i - 1}, *x{i - 1}]\n"
        for i in range(1, 8)
    )  # 10^8 values once expanded, in under 1 KB
    (d / "bn-inference.yaml").write_text(bomb + text, encoding="utf-8")
    problems = _lint(runner, d)
    assert problems == [f"{d / 'bn-inference.yaml'}: more than 20,000 values once YAML aliases are expanded"]


def test_terms_per_group_and_file_size_are_bounded(runner, tmp_path):
    def many_terms(data):
        data["criteria"][0]["key_terms"][0] = [f"term{i}" for i in range(101)]

    problems = _lint(runner, _team_rubric(tmp_path, many_terms))
    assert any("criteria[0].key_terms[0]: List should have at most 100 items" in p for p in problems), problems
    big = tmp_path / "big"
    big.mkdir()
    (big / "bn-inference.yaml").write_text("# padding\n" * 30_000, encoding="utf-8")
    assert _lint(runner, big) == [f"{big / 'bn-inference.yaml'}: file is larger than 256 KB; a rubric is a few KB"]


def test_a_grading_whose_wrong_claim_check_ran_out_of_time_gets_no_score(monkeypatch, bank):
    from grader.judges.offline import OfflineJudge
    from grader.text import terms

    monkeypatch.setattr(terms, "PATTERN_TIMEOUT_S", 1e-9)  # every pattern runs out of time
    answer = "BN 在测试时也用当前 batch 的均值和方差，running mean 只是用来监控的。" * 20
    g = OfflineJudge().grade(bank.get("bn-inference"), answer)
    # a check that did not finish decided nothing: no score, never a grade without the penalty
    assert (g.status, g.score, g.misconceptions) == ("unscored", None, [])
    assert g.reason.startswith("wrong-claim check incomplete: a pattern of ")
    assert g.reason.endswith(" ran out of time")


def test_a_pattern_held_up_once_is_tried_again_before_it_counts_as_unfinished(monkeypatch):
    # A pause in scheduling on a busy machine can use up the first limit; the retry decides.
    from grader.text import terms

    real, calls = terms._first_claim, []

    def held_up_once(*args):
        calls.append(args[-1])
        if len(calls) == 1:
            raise TimeoutError
        return real(*args)

    monkeypatch.setattr(terms, "_first_claim", held_up_once)
    with pattern_timeouts() as timed_out:
        m = find_claim([r"running mean 只是用来监控"], "running mean 只是用来监控的", timeout=0.5)
    assert m is not None and timed_out == []
    assert calls == [0.5, 0.5 * terms.PATTERN_RETRY]
