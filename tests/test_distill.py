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
    assert 3 <= len(rubric.criteria) <= 7 and rubric.origin == "distilled"
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


def test_one_sentence_reference_gives_a_small_rubric_that_lints_clean(runner, tmp_path):
    ref = tmp_path / "short.txt"
    ref.write_text("To simulate the behaviour of portions of the desired software product.", encoding="utf-8")
    result = runner.invoke(app, ["rubric", "distill", "-q", "What is the role of a prototype program in problem solving?",
                                 "-r", str(ref), "--id", "proto", "-c", "coding-algorithms", "-o", str(tmp_path), "-j", "offline"])
    assert result.exit_code == 0, result.output
    rubric, problems = load_file(tmp_path / "proto.yaml")
    assert problems == [] and rubric is not None and rubric.origin == "distilled"
    assert len(rubric.criteria) == 1
    terms = [t for g in rubric.criteria[0].key_terms for t in g]
    # distinguishing content words only: no function words, nothing taken from the question
    assert "simulate" in terms and not {"to", "of", "the", "program", "problem"} & set(terms)
    lint = runner.invoke(app, ["rubric", "lint", str(tmp_path / "proto.yaml")])
    assert lint.exit_code == 0, lint.output
    # a paraphrase in other inflections earns credit; an unrelated answer little
    close = json.loads(runner.invoke(app, ["grade", "proto", "--rubrics", str(tmp_path), "--no-builtin", "--json", "--answer",
                                           "It simulates how parts of the desired software products behave."]).stdout)
    far = json.loads(runner.invoke(app, ["grade", "proto", "--rubrics", str(tmp_path), "--no-builtin", "--json", "--answer",
                                         "A linked list stores nodes with pointers."]).stdout)
    assert close["percent"] >= 60 and far["percent"] <= 25
    assert close["judge"]["params"]["blend"] > 0


def test_several_references_are_all_kept(runner, tmp_path):
    src = tmp_path / "q.jsonl"
    row = {"id": "stack-use", "category": "coding-algorithms", "question": "What is a stack used for?",
           "references": ["Function calls keep their frames on a stack.", "Undo in editors pops the last action."]}
    src.write_text(json.dumps(row), encoding="utf-8")
    result = runner.invoke(app, ["rubric", "distill", "--jsonl", str(src), "-o", str(tmp_path / "d"), "-j", "offline"])
    assert result.exit_code == 0, result.output
    rubric, problems = load_file(tmp_path / "d" / "stack-use.yaml")
    assert problems == [] and rubric is not None
    assert rubric.reference_answer.others == ["Undo in editors pops the last action."]
    assert len(rubric.criteria) == 2


def test_jsonl_reports_a_refused_question_and_goes_on(runner, tmp_path):
    src = tmp_path / "q.jsonl"
    rows = [{"id": "empty", "category": "coding-algorithms", "question": "Why?", "references": ["   "]},
            {"id": "queue", "category": "coding-algorithms", "question": "What is a queue?",
             "references": ["First in, first out: elements leave in arrival order."]}]
    src.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out = tmp_path / "d"
    result = runner.invoke(app, ["rubric", "distill", "--jsonl", str(src), "-o", str(out), "-j", "offline"])
    assert result.exit_code == 1
    assert "error: empty: the reference answers are empty" in result.stderr
    assert [p.name for p in out.iterdir()] == ["queue.yaml"]
    assert "1 draft(s) written; 1 refused" in result.stdout


def test_a_malformed_line_costs_only_that_question_and_a_team_may_name_its_own_category(runner, tmp_path):
    src = tmp_path / "q.jsonl"
    good = {"id": "queue", "category": "software-engineering", "question": "What is a queue?",
            "references": "First in, first out: elements leave in arrival order."}
    src.write_text("\n".join([
        json.dumps(good),
        '{"id": "broken", "category": "x", "question": "Why?", "references": ["unterminated]',
        json.dumps({"id": "no-refs", "category": "coding-algorithms", "question": "What is a heap?"}),
        json.dumps({"id": "bad-category", "category": "Software Engineering!", "question": "What is a heap?", "references": "A tree."}),
        json.dumps({**good, "id": "stack", "question": "What is a stack?", "references": "Last in, first out."}),
    ]), encoding="utf-8")
    out = tmp_path / "d"
    result = runner.invoke(app, ["rubric", "distill", "--jsonl", str(src), "-o", str(out), "-j", "offline"])
    assert result.exit_code == 1
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"error: {src}: line 2: expected {{id, category, question, references}}: ")
    assert errors[1] == f"error: {src}: line 3: expected {{id, category, question, references}}: references: Field required"
    assert errors[2] == f"error: {src}: line 4: category 'Software Engineering!' is neither a bank category nor a slug"
    assert sorted(p.name for p in out.iterdir()) == ["queue.yaml", "stack.yaml"]
    assert "2 draft(s) written; 3 refused" in result.stdout
    rubric, problems = load_file(out / "queue.yaml")
    assert problems == [] and rubric.category == "software-engineering"
    listed = runner.invoke(app, ["questions", "--rubrics", str(out), "--no-builtin", "-c", "software-engineering", "--json"])
    assert listed.exit_code == 0, listed.output
    assert sorted(q["id"] for q in json.loads(listed.stdout)) == ["queue", "stack"]
    unknown = runner.invoke(app, ["questions", "--rubrics", str(out), "--no-builtin", "-c", "hardware"])
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error: unknown category 'hardware'; choose one of: cnn-architectures")


def test_shipped_bank_keeps_its_minimum_of_three_criteria(tmp_path):
    from pathlib import Path

    from grader.rubric.lint import lint_rubric
    from grader.rubric.loader import shipped_bank_dir

    path = next(shipped_bank_dir().rglob("*.yaml"))
    rubric, problems = load_file(path)
    small = rubric.model_copy(update={"criteria": rubric.criteria[:2]})
    assert any(p.message == "a shipped rubric needs at least 3 criteria" for p in lint_rubric(path, small))
    assert not any("at least 3" in p.message for p in lint_rubric(Path(tmp_path / path.name), small))


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


def test_the_continuous_score_counts_the_references_words_but_not_the_questions():
    from types import SimpleNamespace

    from grader.judges.semantic import continuous, reference_recall
    from grader.text.terms import content_words

    rubric = SimpleNamespace(
        question=SimpleNamespace(zh="What is the role of a prototype program?", en="What does a prototype program do?"),
        reference_answer=SimpleNamespace(texts=lambda: ["A prototype program simulates the behaviour of parts of the product."]),
    )
    # reference content words less the question's: simul, behaviour, part, product
    assert reference_recall(rubric, content_words("It simulated how parts behave.")) == 0.5
    assert reference_recall(rubric, content_words("A prototype program is a program.")) == 0.0
    assert reference_recall(rubric, content_words("Simulating the behaviours of the product's parts")) == 1.0
    assert continuous(0, 3, 0.0, 0.0) == 0.0 and continuous(3, 3, 0.8, 1.0) == 1.0


def test_the_continuous_score_reads_only_what_the_answer_asserts(runner, tmp_path):
    ref = tmp_path / "short.txt"
    ref.write_text("To simulate the behaviour of portions of the desired software product.", encoding="utf-8")
    runner.invoke(app, ["rubric", "distill", "-q", "What is the role of a prototype program in problem solving?",
                        "-r", str(ref), "--id", "proto", "-c", "coding-algorithms", "-o", str(tmp_path), "-j", "offline"])

    def percent(answer: str) -> float:
        out = runner.invoke(app, ["grade", "proto", "--rubrics", str(tmp_path), "--no-builtin", "--json", "--answer", answer])
        return json.loads(out.stdout)["percent"]

    # the reference's own words, denied or listed without a claim, earn (almost) nothing
    assert percent("It does not simulate the behaviour of portions of the desired software product.") == 0
    assert percent("simulate behaviour portions desired software product") <= 15
    assert percent("It simulates how parts of the desired software products behave.") >= 60


def _distilled_percent(runner, tmp_path, question: str, reference: str, qid: str, category: str):
    ref = tmp_path / f"{qid}.txt"
    ref.write_text(reference, encoding="utf-8")
    runner.invoke(app, ["rubric", "distill", "-q", question, "-r", str(ref), "--id", qid, "-c", category,
                        "-o", str(tmp_path), "-j", "offline"])

    def percent(answer: str) -> float:
        out = runner.invoke(app, ["grade", qid, "--rubrics", str(tmp_path), "--no-builtin", "--json", "--answer", answer])
        return json.loads(out.stdout)["percent"]

    return percent


def test_a_point_that_denies_something_is_met_by_a_candidate_who_denies_it_too(runner, tmp_path):
    percent = _distilled_percent(
        runner, tmp_path, "When does C++ create a default constructor?",
        "If no constructor is provided, the compiler provides one by default.", "ctor", "coding-algorithms",
    )
    # the reference's "no constructor is provided" said as "not provided": agreement, not denial
    assert percent("The compiler provides a default one when a constructor is not provided in the class.") >= 60
    assert percent("The compiler provides a default constructor even when one is provided.") < 60


def test_a_list_answers_a_point_that_is_a_list_but_no_other(runner, tmp_path):
    percent = _distilled_percent(
        runner, tmp_path, "5S 管理是指哪五项？", "5S 是指整理、整顿、清扫、清洁、素养。", "five-s", "classical-ml",
    )
    assert percent("整理、整顿、清扫、清洁、素养。") >= 90
    assert percent("整理、整顿。") < percent("整理、整顿、清扫、清洁、素养。")



def test_a_point_about_avoiding_something_is_met_by_saying_it_is_not_done(runner, tmp_path):
    percent = _distilled_percent(
        runner, tmp_path, "Why pass large objects by reference?",
        "Passing by reference avoids making copies of large data structures.", "byref", "coding-algorithms",
    )
    agrees = percent("Because then the function does not copy the large data structures.")
    # a negated privative word says the thing happens after all
    assert agrees >= 60
    assert percent("Passing by reference cannot avoid making copies of large data structures.") < agrees
