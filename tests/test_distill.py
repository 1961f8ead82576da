"""Drafting rubrics: offline from reference answers, and with a (scripted) LLM."""

from __future__ import annotations

import json

import yaml

from grader.cli.app import app
from grader.rubric.loader import load_file

REFERENCE = (
    "光流是相邻两帧图像之间每个像素的运动场（motion field），描述像素的位移。"
    "Lucas-Kanade 方法假设亮度恒定（brightness constancy），同一个点在相邻帧的灰度不变。"
    "它还假设运动很小（small motion），可以对亮度做一阶泰勒展开。"
    "并且假设一个小窗口（neighborhood）内所有像素的运动一致，于是在窗口内用最小二乘（least squares）求解速度 u 和 v。"
    "大位移时用图像金字塔（pyramid）由粗到细地估计。"
)


def test_offline_draft_is_a_valid_rubric_that_grades_its_reference(runner, tmp_path, bank):
    ref = tmp_path / "ref.txt"
    ref.write_text(REFERENCE, encoding="utf-8")
    out = tmp_path / "drafts"
    result = runner.invoke(app, ["rubric", "distill", "-q", "讲一下光流和 Lucas-Kanade 的假设", "-r", str(ref),
                                 "--id", "optical-flow", "--category", "detection", "-o", str(out), "--judge", "offline"])
    assert result.exit_code == 0, result.output
    path = out / "optical-flow.yaml"
    assert path.read_text(encoding="utf-8").startswith("# Draft distilled offline from 1 reference answer(s)")
    rubric, problems = load_file(path)
    assert problems == [] and rubric is not None
    assert 3 <= len(rubric.criteria) <= 7
    terms = {t.lower() for c in rubric.criteria for g in c.key_terms for t in g}
    assert {"brightness", "pyramid"} & terms or {"亮度", "金字塔"} & terms
    lint = runner.invoke(app, ["rubric", "lint", str(path)])
    assert lint.exit_code == 0, lint.output
    graded = json.loads(runner.invoke(app, ["grade", "optical-flow", "--rubrics", str(out), "--answer", REFERENCE, "--json"]).stdout)
    assert graded["percent"] >= 90
    off_topic = json.loads(runner.invoke(app, ["grade", "optical-flow", "--rubrics", str(out), "--json",
                                               "--answer", bank.get("svm-vs-lr").reference_answer.zh]).stdout)
    assert off_topic["percent"] <= 20


def test_jsonl_drafts_many_and_refuses_to_overwrite(runner, tmp_path):
    src = tmp_path / "many.jsonl"
    rows = [
        {"id": "optical-flow", "category": "detection", "question": "光流是什么？", "references": [REFERENCE]},
        {"id": "optical-flow-2", "category": "Detection", "question": "LK 光流的假设？", "references": REFERENCE},
    ]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = tmp_path / "d"
    result = runner.invoke(app, ["rubric", "distill", "--jsonl", str(src), "-o", str(out), "-j", "offline"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["optical-flow-2.yaml", "optical-flow.yaml"]
    again = runner.invoke(app, ["rubric", "distill", "--jsonl", str(src), "-o", str(out), "-j", "offline"])
    assert again.exit_code == 1 and again.stderr == f"error: {out / 'optical-flow.yaml'} exists; use --force to overwrite\n"


def test_too_little_reference_is_a_clear_error(runner, tmp_path):
    ref = tmp_path / "short.txt"
    ref.write_text("光流就是像素运动。", encoding="utf-8")
    result = runner.invoke(app, ["rubric", "distill", "-q", "光流？", "-r", str(ref), "--id", "of", "-c", "detection",
                                 "-o", str(tmp_path), "-j", "offline"])
    assert result.exit_code == 1
    assert "a rubric needs at least 3" in result.stderr
    missing = runner.invoke(app, ["rubric", "distill", "-q", "光流？"])
    assert missing.exit_code == 1 and "give --question, --reference, --id and --category" in missing.stderr


def test_llm_draft_is_validated_and_repaired(runner, tmp_path, fake_llm, monkeypatch):
    monkeypatch.setenv("GRADER_LLM_MODEL", "fake")
    monkeypatch.setenv("GRADER_LLM_BASE_URL", fake_llm.base_url)
    ref = tmp_path / "ref.txt"
    ref.write_text(REFERENCE, encoding="utf-8")
    draft = {
        "question_en": "What is optical flow and what does Lucas-Kanade assume?",
        "aliases": ["光流估计的基本假设有哪些？", "Explain the Lucas-Kanade assumptions"],
        "reference_answer": {"zh": REFERENCE, "en": "Optical flow is the per-pixel motion field..."},
        "criteria": [
            {"id": "motion-field", "points": 2, "statement": {"zh": "光流是像素运动场", "en": "Per-pixel motion field"},
             "key_terms": [["运动场", "motion field"]]},
            {"id": "brightness-constancy", "points": 3, "statement": {"zh": "亮度恒定", "en": "Brightness constancy"},
             "key_terms": [["亮度恒定", "brightness constancy"]]},
            {"id": "least-squares", "points": 3, "statement": {"zh": "窗口内最小二乘", "en": "Least squares in a window"},
             "key_terms": [["最小二乘", "least squares"]]},
        ],
        "misconceptions": [],
        "follow_ups": [{"zh": "大位移怎么办？", "en": "What about large motion?"}],
    }
    fake_llm.push("Here is the rubric you asked for.", json.dumps(draft, ensure_ascii=False))
    out = tmp_path / "d"
    result = runner.invoke(app, ["rubric", "distill", "-q", "光流是什么？", "-r", str(ref), "--id", "optical-flow",
                                 "-c", "detection", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load((out / "optical-flow.yaml").read_text(encoding="utf-8"))
    assert [c["id"] for c in data["criteria"]] == ["motion-field", "brightness-constancy", "least-squares"]
    assert len(fake_llm.requests) == 2  # the unusable first reply was sent back for repair
    assert "could not be used" in fake_llm.requests[1]["messages"][-1]["content"]
