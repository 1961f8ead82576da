"""grade, practice, history and progress through the CLI, as a user runs them."""

from __future__ import annotations

import json
import re

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
    data = json.loads(runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD, "--json"]).stdout)
    verdicts = [c["verdict"] for c in data["criteria"]]
    # a Chinese answer gets a Chinese screen: one line per criterion, no diagnostics
    assert re.search(r"离线评分（offline-v\d+\+use-multilingual-v3，未使用 LLM）", out)
    assert f"得分 {data['score']:g}/11 ({data['percent']:g}%)" in out
    assert out.count("✓ 答到") == verdicts.count("met") and out.count("✗ 未答到") == verdicts.count("missed")
    assert "追问：" in out
    assert len(out.splitlines()) <= 22 and "Key concepts" not in out
    english = " ".join(runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD, "--lang", "en"]).stdout.split(" "))
    assert re.search(r"offline judge\s+\(offline-v\d+\+use-multilingual-v3; no LLM\)", english)
    assert f"Score {data['score']:g}/11 ({data['percent']:g}%)" in english
    assert english.count("✓ met") == verdicts.count("met") and "Follow-up: " in english
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english.replace(GOOD, ""))


def test_grade_verbose_shows_details_and_diagnostics(runner):
    out = runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD, "--lang", "en", "-v"]).stdout
    assert "Evidence" in out and "Rationale: " in out and "“" in out


def test_grade_json_is_the_full_result(runner):
    result = runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD, "--json"])
    data = json.loads(result.stdout)
    assert data["status"] == "graded" and data["max_score"] == 11
    assert data["score"] == max(0, sum(c["points"] for c in data["criteria"]) - sum(m["penalty"] for m in data["misconceptions"]))
    assert data["judge"]["kind"] == "offline"
    assert len(data["criteria"]) == 5 and data["criteria"][0]["verdict"] == "met"
    assert all(e["verified"] for c in data["criteria"] for e in c["evidence"])
    assert isinstance(data["grading_id"], int)


def test_second_identical_request_is_cached(runner):
    runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD])
    again = runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD])
    assert "· 来自缓存 ·" in again.stdout
    fresh = runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD, "--no-cache"])
    assert "来自缓存" not in fresh.stdout
    rows = json.loads(runner.invoke(app, ["history", "--json"]).stdout)
    assert len(rows) == 2


def test_answer_from_stdin_and_files(runner, tmp_path):
    piped = runner.invoke(app, ["grade", "bn-inference", "-", "--json"], input=GOOD)
    score = json.loads(runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD, "--json"]).stdout)["score"]
    assert json.loads(piped.stdout)["score"] == score
    gbk = tmp_path / "answer_gbk.txt"
    gbk.write_bytes(GOOD.replace("γ", "gamma").replace("β", "beta").encode("gbk"))
    from_gbk = runner.invoke(app, ["grade", "bn-inference", "--file", str(gbk), "--json"])
    assert from_gbk.exit_code == 0, from_gbk.output
    assert json.loads(from_gbk.stdout)["score"] == score
    bom = tmp_path / "answer_bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))
    assert json.loads(runner.invoke(app, ["grade", "bn-inference", "-f", str(bom), "--json"]).stdout)["score"] == score


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
    quotes = {  # each criterion's own evidence: one sentence cannot vouch for every point
        "train-batch-stats": ["训练时用当前 mini-batch 的均值和方差归一化"],
        "running-stats-ema": ["用 momentum 指数滑动平均更新 running_mean 和 running_var"],
        "inference-uses-running": ["推理时用训练时累积的 running mean"],
        "nothing-updated-eval-mode": ["PyTorch 里要调用 model.eval()"],
        "mismatch-and-folding": ["推理时 BN 还可以融合进前面的卷积"],
    }
    fake_llm.push(judge_reply(rubric, default_verdict="met", quotes=quotes))
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
    assert "无法评分: judge output unparseable: the reply contains no JSON object" in " ".join(result.stdout.split())
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


def test_history_and_progress(runner):
    runner.invoke(app, ["grade", "bn-inference", "--answer", "训练用batch均值方差，推理用running mean。"])
    runner.invoke(app, ["grade", "bn-inference", "--answer", GOOD])
    progress = json.loads(runner.invoke(app, ["progress", "--json"]).stdout)
    assert len(progress) == 1
    p = progress[0]
    assert p["category"] == "normalization" and p["attempts"] == 2 and p["questions"] == 1
    assert p["average"] == rows_percent(runner)[0] and p["trend"] > 0
    rows = json.loads(runner.invoke(app, ["history", "--json"]).stdout)
    full = json.loads(runner.invoke(app, ["history", "--id", str(rows[0]["id"]), "--json"]).stdout)
    assert full["answer"] == GOOD and full["score"] == rows[0]["score"] and full["source"] == "grade"
    shown = runner.invoke(app, ["history", "--id", str(rows[0]["id"])])
    assert shown.exit_code == 0
    assert shown.stdout.splitlines()[0].startswith(f"#{rows[0]['id']} · ") and "· grade" in shown.stdout.splitlines()[0]
    assert f"得分 {full['score']:g}/11 ({full['percent']:g}%)" in shown.stdout  # as `grade` shows it
    assert shown.stdout.count("✓ 答到") == [c["verdict"] for c in full["criteria"]].count("met")
    missing = runner.invoke(app, ["history", "--id", "999"])
    assert missing.exit_code == 1 and missing.stderr == "error: no stored grading with id 999\n"
    unknown = runner.invoke(app, ["history", "-q", "relu-vs-sigmod"])
    assert unknown.exit_code == 1 and "did you mean relu-vs-sigmoid" in unknown.stderr


def rows_percent(runner) -> list[float]:
    return [r["percent"] for r in json.loads(runner.invoke(app, ["history", "--json"]).stdout)]
