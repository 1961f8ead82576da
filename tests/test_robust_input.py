"""Bad input through the real CLI: text that is not UTF-8, endless files, option values outside
their set, broken configuration. Each ends with one line, a defined exit code, and no surrogate
in the store."""

from __future__ import annotations

import json
import sqlite3

from grader.cli.app import app

ANSWER = "训练时用当前 batch 的均值和方差归一化，推理时用 running mean 和 running var。"


def _rows(tmp_path) -> list[tuple[str, str]]:
    with sqlite3.connect(tmp_path / "grader.db") as conn:
        return conn.execute("SELECT answer, source FROM gradings ORDER BY id").fetchall()


def _one_line_error(result) -> str:
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return result.stderr.strip()


def test_gbk_piped_to_stdin_is_decoded_before_the_store(runner, tmp_path):
    result = runner.invoke(app, ["grade", "bn-inference", "-", "--json"], input=ANSWER.encode("gbk"))
    assert result.exit_code == 0, result.output
    assert _rows(tmp_path) == [(ANSWER, "grade")]


def test_gbk_bytes_in_answer_option_are_decoded(runner, tmp_path):
    # What Python makes of non-UTF-8 bytes in argv: lone surrogates (surrogateescape).
    arg = ANSWER.encode("gbk").decode("utf-8", "surrogateescape")
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", arg, "--json"])
    assert result.exit_code == 0, result.output
    assert _rows(tmp_path) == [(ANSWER, "grade")]


def test_undecodable_answer_is_one_line_and_nothing_stored(runner, tmp_path):
    arg = b"\xff\xfeabc".decode("utf-8", "surrogateescape")  # a UTF-16 BOM, then an odd byte count
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", arg])
    assert result.exit_code == 1
    assert _one_line_error(result) == "error: --answer: starts with a utf-16 byte-order mark but is not valid utf-16"
    assert not (tmp_path / "grader.db").exists() or _rows(tmp_path) == []


def test_only_a_byte_order_mark_is_an_empty_answer(runner):
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", b"\xff\xfe".decode("utf-8", "surrogateescape")])
    assert result.exit_code == 1
    assert _one_line_error(result) == "error: the answer is empty: nothing to grade"


def test_reading_an_endless_file_stops_at_the_answer_limit(runner):
    result = runner.invoke(app, ["grade", "bn-inference", "--file", "/dev/zero"])
    assert result.exit_code == 1
    assert _one_line_error(result) == "error: /dev/zero: is too long: more than 80,000 bytes"


def test_practice_decodes_gbk_and_input_cut_inside_a_character(runner, tmp_path):
    # A GBK answer, then an answer cut in the middle of a UTF-8 character by the end of input.
    piped = ANSWER.encode("gbk") + b"\n.\nn\n" + "推理时用 running mean".encode("utf-8") + "和".encode("utf-8")[:2]
    result = runner.invoke(app, ["practice", "bn-inference", "--seed", "1", "--category", "normalization"], input=piped)
    assert result.exit_code == 0, result.output
    answers = [a for a, _ in _rows(tmp_path)]
    assert answers == [ANSWER, "推理时用 running mean"]


def test_lang_is_a_choice_checked_before_grading(runner, tmp_path):
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", ANSWER, "--lang", "xx"])
    assert result.exit_code == 2
    assert "Invalid value for '--lang'" in result.output and "'xx' is not one of 'zh', 'en'" in result.output
    assert not (tmp_path / "grader.db").exists()  # nothing graded, nothing saved
    upper = runner.invoke(app, ["grade", "bn-inference", "--answer", ANSWER, "--lang", "EN"])
    assert upper.exit_code == 0, upper.output
    assert "Score " in upper.stdout and "得分" not in upper.stdout


def test_config_named_by_environment_must_be_a_file(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_CONFIG", str(tmp_path))
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", ANSWER])
    assert result.exit_code == 1
    assert _one_line_error(result) == f"error: {tmp_path}: is a directory, not a config file (named by GRADER_CONFIG)"
    missing = tmp_path / "nope.toml"
    monkeypatch.setenv("GRADER_CONFIG", str(missing))
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", ANSWER])
    assert result.exit_code == 1
    assert _one_line_error(result) == f"error: {missing}: no such config file (named by GRADER_CONFIG)"


def test_bad_environment_value_names_the_variable(runner, monkeypatch):
    monkeypatch.setenv("GRADER_JUDGE", "xx")
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", ANSWER])
    assert result.exit_code == 1
    assert _one_line_error(result) == "error: environment variable GRADER_JUDGE (judge): Input should be 'offline' or 'llm'"
    monkeypatch.delenv("GRADER_JUDGE")
    monkeypatch.setenv("GRADER_LLM_TIMEOUT", "soon")
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", ANSWER])
    assert result.exit_code == 1
    assert _one_line_error(result).startswith("error: environment variable GRADER_LLM_TIMEOUT (llm.timeout_s): ")


def test_json_output_of_a_decoded_answer_round_trips(runner):
    result = runner.invoke(app, ["grade", "bn-inference", "-", "--json"], input=ANSWER.encode("utf-16"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "graded"


def test_a_lone_surrogate_escaped_in_json_costs_that_line_only(runner, tmp_path):
    sheet = tmp_path / "answers.jsonl"
    sheet.write_text(
        '{"question_id": "bn-inference", "answer": "running mean \\ud800 broken"}\n'
        + json.dumps({"question_id": "bn-inference", "answer": ANSWER}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.md"
    result = runner.invoke(app, ["--quiet", "batch", str(sheet), "--report", str(report), "--json"])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    (t,) = json.loads(result.stdout)["transcripts"]
    assert t["warnings"] == ["skipped line 1: answer: contains invalid characters (a lone UTF-16 surrogate escaped in the JSON)"]
    assert [i["status"] for i in t["items"]] == ["graded"]
    assert [a for a, _ in _rows(tmp_path)] == [ANSWER] and report.is_file()
    # the same escape in speech-recognition JSON: one line naming the file, no traceback
    asr = tmp_path / "asr.json"
    asr.write_text('{"segments": [{"start": 0, "end": 1, "text": "\\udc80"}]}', encoding="utf-8")
    result = runner.invoke(app, ["batch", str(asr), "--report", str(tmp_path / "a.json")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr == (f"warning: {asr}: ASR JSON: segment 1: text: contains invalid characters "
                             "(a lone UTF-16 surrogate escaped in the JSON)\n")


def test_the_api_refuses_an_answer_with_a_lone_surrogate():
    import pytest

    from grader.grading.service import AnswerError, check_answer

    with pytest.raises(AnswerError, match="lone UTF-16 surrogates"):
        check_answer("running mean \ud800")


def test_every_flag_a_judge_sets_has_a_label_in_both_languages():
    import re
    from pathlib import Path

    from grader.report.terminal import LABELS

    src = "\n".join(p.read_text(encoding="utf-8") for p in Path("grader").rglob("*.py"))
    lines = [line for line in src.splitlines() if re.search(r"flags\.append\(|flags = \[", line)]
    flags = {w for line in lines for w in re.findall(r'(?<!== )"([a-z_]+)"', line)}  # not what a status is compared with
    assert {"reversed_relation", "evidence_rejected", "sandbox_failed"} <= flags
    for lang in ("zh", "en"):
        assert flags - set(LABELS[lang]["flags"]) == set(), lang
