"""Malformed and oversized transcripts through `grader batch`: each bad file is one line, the
others are graded, and the reports escape what they show."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

from grader.cli.app import app

GOOD_ROW = {"question_id": "bn-inference", "answer": "训练时用 batch 统计量，推理时用 running mean 和 running var，测试时不更新。"}


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_malformed_files_fail_one_line_each_and_the_batch_goes_on(runner, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    _write(d / "good.jsonl", json.dumps(GOOD_ROW, ensure_ascii=False) + "\n")
    _write(d / "huge-int.json", '{"segments": [{"text": "面试官：BN 怎么做？", "start": ' + "9" * 5000 + "}]}")
    _write(d / "deep.json", '{"segments": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _write(d / "broken.json", '{"segments": [{"text": ')
    result = runner.invoke(app, ["batch", str(d), "--report", str(tmp_path / "r.json"), "--json"])
    assert result.exit_code == 1, result.output  # some files failed
    assert "Traceback" not in result.output
    data = json.loads(result.stdout)
    assert data["summary"]["graded"] == 1 and data["summary"]["failed"] == 3
    errors = {t["path"].rsplit("/", 1)[-1]: t["error"] for t in data["transcripts"] if t["error"]}
    assert sorted(errors) == ["broken.json", "deep.json", "huge-int.json"]
    assert all("\n" not in e and e.startswith(str(d)) for e in errors.values())
    assert "a number with too many digits" in errors["huge-int.json"]
    assert "nested too deeply" in errors["deep.json"]
    with sqlite3.connect(tmp_path / "grader.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM gradings WHERE status = 'graded'").fetchone()[0] == 1


def test_a_line_with_a_huge_integer_is_skipped_not_fatal(runner, tmp_path):
    f = _write(tmp_path / "sheet.jsonl", '{"question_id": "bn-inference", "answer": ' + "1" * 5000 + "}\n"
               + json.dumps(GOOD_ROW, ensure_ascii=False) + "\n")
    result = runner.invoke(app, ["batch", str(f), "--report", str(tmp_path / "r.json"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["graded"] == 1
    assert data["transcripts"][0]["warnings"] == ["skipped line 1: unusable JSON: a number with too many digits"]


def test_pair_and_size_limits_are_clear(runner, tmp_path, monkeypatch):
    rows = "".join(json.dumps({"question": f"问题 {i}", "answer": "回答"}, ensure_ascii=False) + "\n" for i in range(1001))
    many = _write(tmp_path / "many.jsonl", rows)
    result = runner.invoke(app, ["batch", str(many), "--dry-run"])
    assert f"warning: {many}: 1,001 question/answer pairs; the limit is 1,000 per file: split it into smaller files" in result.stderr
    import grader.transcripts.encoding as encoding

    monkeypatch.setattr(encoding, "MAX_BYTES", 1000)
    big = _write(tmp_path / "big.jsonl", json.dumps(GOOD_ROW, ensure_ascii=False) * 20)
    result = runner.invoke(app, ["batch", str(big), "--dry-run"])
    assert f"warning: {big}: file is too large (over 1,000 bytes); split it" in result.stderr


def test_reports_escape_html_and_spreadsheet_formulas(runner, tmp_path):
    f = tmp_path / "sheet.jsonl"
    row = {"question": "=HYPERLINK(\"http://evil\",\"BN 推理时怎么做\")", "question_id": "bn-inference",
           "answer": "训练时用 batch 统计量 <script>alert(1)</script> [x](javascript:alert(1))"}
    f.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    md, table = tmp_path / "out.md", tmp_path / "out.csv"
    result = runner.invoke(app, ["batch", str(f), "--report", str(md), "--report", str(table)])
    assert result.exit_code == 0, result.output
    text = md.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "\\[x\\](javascript:alert(1))" in text
    cells = list(csv.DictReader(io.StringIO(table.read_text(encoding="utf-8"))))
    assert cells[0]["question"].startswith("'=HYPERLINK(")
