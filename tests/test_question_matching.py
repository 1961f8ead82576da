"""Matching a heard question to the bank: exact words win, word order counts, near ties are flagged."""

from __future__ import annotations

from types import SimpleNamespace

from grader.batch.matching import QuestionMatcher


def _bank(*questions: tuple[str, str]):
    rubrics = {
        qid: SimpleNamespace(id=qid, question=SimpleNamespace(zh=text, en=f"{text} ({qid})"), aliases=[])
        for qid, text in questions
    }
    return SimpleNamespace(rubrics=rubrics, suggest=lambda text, n=3: [])


def test_exact_words_win_and_word_order_counts():
    matcher = QuestionMatcher(_bank(("arrays-first", "Why prefer arrays over linked lists?"),
                                    ("lists-first", "Why prefer linked lists over arrays?")))
    a, b = matcher.match_many([("Why prefer arrays over linked lists?", None), ("why prefer linked lists over arrays", None)])
    assert (a.question_id, a.confidence, a.method, a.ambiguous) == ("arrays-first", 1.0, "exact", False)
    assert (b.question_id, b.confidence, b.method) == ("lists-first", 1.0, "exact")


def test_two_questions_that_fit_equally_are_flagged_and_not_sure():
    matcher = QuestionMatcher(_bank(("pointer-a", "What is a pointer?"), ("pointer-b", "What is a pointer?")))
    m = matcher.match("What is a pointer?")
    assert m.ambiguous and m.confidence < 1.0
    assert {qid for qid, _ in m.candidates} == {"pointer-a", "pointer-b"}


def test_a_batch_does_not_guess_between_two_questions_that_fit_equally(tmp_path):
    import json

    from grader.batch.runner import load_transcripts

    matcher = QuestionMatcher(_bank(("pointer-a", "What is a pointer?"), ("pointer-b", "What is a pointer?"),
                                    ("queue", "What is a queue?")))
    sheet = tmp_path / "answers.jsonl"
    sheet.write_text("\n".join(json.dumps(r) for r in [
        {"question": "What is a pointer?", "answer": "A variable holding an address."},
        {"question": "What is a queue?", "answer": "First in, first out."},
    ]), encoding="utf-8")
    (result,) = load_transcripts([sheet], matcher, min_match=0.6)
    tie, sure = result.items
    assert (tie.status, tie.question_id) == ("unmatched", None)
    assert tie.error.startswith("matches bank questions 'pointer-") and tie.error.endswith(
        "about equally well; give the question id in the transcript to grade it")
    assert (sure.status, sure.question_id) == ("pending", "queue")
