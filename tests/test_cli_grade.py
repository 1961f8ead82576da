"""grade, practice, history and progress through the CLI, as a user runs them."""

from __future__ import annotations

import json

from grader.cli.app import app
from tests.fake_llm import judge_reply

GOOD = (
    "训练时用当前 mini-batch 的均值和方差归一化，再乘 γ 加 β。同时用 momentum 指数滑动平均更新 running_mean 和 "
    "running_var。推理时用训练时累积的 running mean 和 running var，输出与 batch 无关。测试时不更新任何统计量，"
    "PyTorch 里要调用 model.eval()。推理时 BN 还可以融合进前面的卷积。"
)


def test_grade_prints_a_per_criterion_grading(runner):
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "offline judge (offline-v1+use-multilingual-v3; no LLM)" in out
    assert "Score 11/11 (100%)" in out
    assert out.count("✓ met") == 5
    assert "追问" in out


def test_grade_json_is_the_full_result(runner):
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD, "--json"])
    data = json.loads(result.stdout)
    assert data["status"] == "graded" and data["score"] == 11 and data["max_score"] == 11
    assert data["judge"]["kind"] == "offline"
    assert [c["verdict"] for c in data["criteria"]] == ["met"] * 5
    assert all(c["evidence"] and c["evidence"][0]["verified"] for c in data["criteria"])
    assert isinstance(data["grading_id"], int)


def test_second_identical_request_is_cached(runner):
    runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD])
    again = runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD])
    assert "· cached" in again.stdout
    fresh = runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD, "--no-cache"])
    assert "· cached" not in fresh.stdout
    rows = json.loads(runner.invoke(app, ["history", "--json"]).stdout)
    assert len(rows) == 2


def test_answer_from_stdin_and_files(runner, tmp_path):
    piped = runner.invoke(app, ["grade", "bn-inference", "-", "--json"], input=GOOD)
    assert json.loads(piped.stdout)["score"] == 11
    gbk = tmp_path / "answer_gbk.txt"
    gbk.write_bytes(GOOD.replace("γ", "gamma").replace("β", "beta").encode("gbk"))
    from_gbk = runner.invoke(app, ["grade", "bn-inference", "--file", str(gbk), "--json"])
    assert from_gbk.exit_code == 0, from_gbk.output
    assert json.loads(from_gbk.stdout)["score"] == 11
    bom = tmp_path / "answer_bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert json.loads(runner.invoke(app, ["grade", "bn-inference", "-f", str(bom), "--json"]).stdout)["score"] == 11


def test_bad_input_gets_one_line_and_nonzero_exit(runner, tmp_path):
    cases = {
        "empty": (["--answer", "   \n "], "error: the answer is empty: nothing to grade\n"),
        "huge": (["--answer", "很长" * 600_000], "error: the answer is 1,200,000 characters; the limit is 20,000 (one interview answer)\n"),
        "missing": (["--file", str(tmp_path / "nope.txt")], f"error: {tmp_path / 'nope.txt'}: no such file\n"),
        "two ways": (["--answer", "x", "--file", "y"], "error: give the answer one way only: --answer, --file or '-' for stdin\n"),
    }
    binary = tmp_path / "photo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    cases["binary"] = (["--file", str(binary)], f"error: {binary}: looks like a binary file, not text\n")
    for name, (args, message) in cases.items():
        result = runner.invoke(app, ["grade", "bn-inference", *args])
        assert result.exit_code == 1, name
        assert result.stderr == message, name
        assert "Traceback" not in result.output
    unknown = runner.invoke(app, ["grade", "relu-vs-sigmod", "--answer", "x"])
    assert unknown.exit_code == 1 and "did you mean relu-vs-sigmoid" in unknown.stderr
    assert runner.invoke(app, ["history", "--json"]).stdout.strip() == "[]"  # nothing stored


def test_llm_judge_without_a_model_says_how_to_configure(runner):
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD, "--judge", "llm"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no LLM model configured: set GRADER_LLM_MODEL")


def test_llm_judge_from_environment(runner, monkeypatch, fake_llm, bank):
    monkeypatch.setenv("GRADER_LLM_MODEL", "fake-judge")
    monkeypatch.setenv("GRADER_LLM_BASE_URL", fake_llm.base_url)
    monkeypatch.setenv("GRADER_LLM_RETRIES", "0")
    rubric = bank.get("bn-inference")
    fake_llm.push(judge_reply(rubric, default_verdict="met", quotes={c.id: ["推理时用训练时累积的 running mean"] for c in rubric.criteria}))
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD, "--judge", "llm", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["judge"]["kind"] == "llm" and data["score"] == 11
    assert "api_key" not in json.dumps(data["judge"])


def test_unscored_grading_exits_3_and_is_not_cached(runner, monkeypatch, fake_llm):
    monkeypatch.setenv("GRADER_LLM_MODEL", "fake-judge")
    monkeypatch.setenv("GRADER_LLM_BASE_URL", fake_llm.base_url)
    fake_llm.push("not json", "still not json")
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD, "--judge", "llm"])
    assert result.exit_code == 3
    assert "UNSCORED: judge output unparseable: the reply contains no JSON object" in " ".join(result.stdout.split())
    rows = json.loads(runner.invoke(app, ["history", "--json"]).stdout)
    assert [r["status"] for r in rows] == ["unscored"]
    fake_llm.push("nope", "nope")
    runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD, "--judge", "llm"])
    assert len(fake_llm.requests) == 4  # the failure was not served from the cache


def test_config_file_errors_are_one_line(runner, tmp_path, monkeypatch):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[llm]\ntimeout_s = -1\n", encoding="utf-8")
    monkeypatch.setenv("GRADER_CONFIG", str(cfg))
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD])
    assert result.exit_code == 1
    assert result.stderr == f"error: {cfg}: llm.timeout_s: Input should be greater than 0\n"


def test_practice_session(runner):
    keys = "\n".join([GOOD, ".", "r", "q"]) + "\n"
    result = runner.invoke(app, ["practice", "bn-inference", "--seed", "3"], input=keys)
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "BN 在训练和推理" in out
    assert "Score 11/11" in out
    assert "参考答案" in out and "Batch Renorm" in out
    assert "Session: 1 graded, average 100%." in out
    rows = json.loads(runner.invoke(app, ["history", "--json"]).stdout)
    assert rows[0]["source"] == "practice"


def test_practice_quits_cleanly_on_eof(runner):
    result = runner.invoke(app, ["practice", "--seed", "1", "--category", "normalization"], input="")
    assert result.exit_code == 0
    assert result.stdout.strip().endswith("Bye.")


def test_history_and_progress(runner):
    runner.invoke(app, ["grade", "bn-inference", "--answer", "训练用batch均值方差，推理用running mean。"])
    runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD])
    progress = json.loads(runner.invoke(app, ["progress", "--json"]).stdout)
    assert len(progress) == 1
    p = progress[0]
    assert p["category"] == "normalization" and p["attempts"] == 2 and p["questions"] == 1
    assert p["average"] == 100.0 and p["trend"] > 0
    rows = json.loads(runner.invoke(app, ["history", "--json"]).stdout)
    full = json.loads(runner.invoke(app, ["history", "--id", str(rows[0]["id"])]).stdout)
    assert full["answer"] == GOOD and full["score"] == 11
    missing = runner.invoke(app, ["history", "--id", "999"])
    assert missing.exit_code == 1 and missing.stderr == "error: no stored grading with id 999\n"
