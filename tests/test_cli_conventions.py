"""What users of other command-line tools expect: --version, -h, completion, `grader config`,
--quiet, JSON errors under --json, and help text without Python annotations."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from grader.cli.app import app


def run_main(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    """The installed entry point, as a shell runs it (usage errors go through main())."""
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, env=env)


def test_version_and_short_help(runner):
    from importlib.metadata import version

    v = runner.invoke(app, ["--version"])
    assert v.exit_code == 0 and v.stdout == f"grader {version('grader')}\n"
    assert runner.invoke(app, ["-V"]).stdout == v.stdout
    for args in (["-h"], ["grade", "-h"], ["evals", "run", "-h"], ["config", "-h"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage: " in result.stdout, args


def test_completion_is_enabled(runner):
    out = runner.invoke(app, ["--help"]).stdout
    assert "--install-completion" in out and "--show-completion" in out


def test_help_text_is_clean(runner, monkeypatch):
    import typer.rich_utils

    monkeypatch.setattr(typer.rich_utils, "MAX_WIDTH", 200)
    for args in (["batch", "--help"], ["grade", "--help"], ["review", "--help"], ["history", "--help"], ["--help"]):
        out = runner.invoke(app, args, terminal_width=200).stdout
        assert not re.search(r"<(bool|str|int|float|path|Path|list\[[^\]]*\])>", out), (args, out)
    batch = runner.invoke(app, ["batch", "--help"], terminal_width=200).stdout
    assert "--dry-run " in batch and re.search(r"--report\s+-r\s+PATH", batch)
    # a docstring paragraph is one paragraph, not the source file's line breaks
    assert "run the same command again to resume" in " ".join(batch.split())
    assert re.search(r"after Ctrl-C, or a failure, run the same command again to resume", batch)


def test_config_shows_paths_and_masks_the_key(runner, tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('judge = "llm"\nlang = "en"\n[llm]\nmodel = "deepseek-chat"\napi_key = "sk-abcdef1234567890wxyz"\n', encoding="utf-8")
    monkeypatch.setenv("GRADER_CONFIG", str(cfg))
    monkeypatch.setenv("GRADER_LLM_TIMEOUT", "15")
    data = json.loads(runner.invoke(app, ["config", "--json"]).stdout)
    assert data["paths"]["config"] == str(cfg) and data["paths"]["config_exists"] is True
    assert data["paths"]["store"] == str(tmp_path / "grader.db")
    assert data["settings"]["judge"] == "llm" and data["settings"]["lang"] == "en"
    assert data["settings"]["llm"]["model"] == "deepseek-chat" and data["settings"]["llm"]["timeout_s"] == 15
    assert data["settings"]["llm"]["api_key"] == "sk-…wxyz"
    text = runner.invoke(app, ["config"]).stdout
    assert "sk-abcdef1234567890wxyz" not in text and "sk-…wxyz" in text and str(cfg) in text
    assert runner.invoke(app, ["config", "path", "store"]).stdout == f"{tmp_path / 'grader.db'}\n"
    bad = runner.invoke(app, ["config", "path", "nowhere"])
    assert bad.exit_code == 1 and bad.stderr == "error: unknown path 'nowhere'; choose config, store or cache\n"


def test_quiet_silences_warnings(runner, tmp_path):
    team = tmp_path / "team"
    team.mkdir()
    (team / "broken.yaml").write_text("id: [\n", encoding="utf-8")
    loud = runner.invoke(app, ["questions", "--rubrics", str(team)])
    assert "warning: skipped invalid rubric" in loud.stderr
    as_json = runner.invoke(app, ["questions", "--json", "--rubrics", str(team)])
    assert any("broken.yaml" in json.loads(line)["warning"] for line in as_json.stderr.splitlines())
    quiet = runner.invoke(app, ["--quiet", "questions", "--json", "--rubrics", str(team)])
    assert quiet.exit_code == 0 and quiet.stderr == "" and json.loads(quiet.stdout)


def test_errors_are_json_under_json(runner):
    unknown = runner.invoke(app, ["show", "bn-inferenc", "--json"])
    assert unknown.exit_code == 1
    lines = [json.loads(line) for line in unknown.stderr.splitlines()]  # every stderr line is JSON
    err = lines[-1]
    assert err["exit_code"] == 1 and err["error"].startswith("unknown question id 'bn-inferenc'")
    plain = runner.invoke(app, ["show", "bn-inferenc"])
    assert plain.stderr.splitlines()[-1].startswith("error: unknown question id")


def test_usage_errors_are_json_under_json():
    result = run_main("grade", "--json")
    assert result.returncode == 2
    assert json.loads(result.stderr) == {"error": "Missing argument 'question_id'.", "exit_code": 2}
    assert result.stdout == ""
