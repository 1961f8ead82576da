"""Drafting a rubric with the configured LLM: JSON mode, pydantic validation, one repair."""

from __future__ import annotations

import json

from grader.rubric.distill import Draft, DistillError

SYSTEM = """You write grading rubrics for computer-vision interview questions. From the question and the
reference answers, write ONE JSON object with these fields:
{"question_en": str, "aliases": [2-4 other ways an interviewer asks it, Chinese and English],
 "reference_answer": {"zh": str, "en": str},
 "criteria": [3-7 items: {"id": "lowercase-hyphen", "points": 1-4, "statement": {"zh": str, "en": str},
   "key_terms": [[synonyms of one concept in Chinese, English, abbreviations, formulas], ...]}],
 "misconceptions": [{"id": "lowercase-hyphen", "claim": {"zh","en"}, "correction": {"zh","en"}, "penalty": 1-3,
   "patterns": [Python regexes matching the wrong claim in lower-cased Simplified Chinese or English]}],
 "follow_ups": [1-3 items {"zh": str, "en": str}]}
Each criterion is one checkable point. The reference answers may contain errors: correct them. Reply
with the JSON object only."""


def distill_llm(d: Draft, settings) -> dict:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    from grader.judges.llm import make_chat_model
    from grader.judges.reply import ReplyError, extract_json

    model = make_chat_model(settings, 0.0)
    refs = "\n\n".join(f"Reference answer {i + 1}:\n{r}" for i, r in enumerate(d.references))
    messages = [SystemMessage(SYSTEM), HumanMessage(f"Question: {d.question_zh}\n\n{refs}")]
    error = ""
    for _ in range(2):
        try:
            msg = model.invoke(messages)
        except Exception as exc:  # noqa: BLE001 - reported as one line
            raise DistillError(f"the model could not be reached: {type(exc).__name__}") from None
        text = msg.content if isinstance(msg.content, str) else str(msg.content)
        try:
            data = extract_json(text)
            if not isinstance(data, dict):
                raise ReplyError("the reply is not a JSON object")
            return _assemble(d, data)
        except (ReplyError, DistillError, KeyError, TypeError) as exc:
            error = str(exc)
            messages += [AIMessage(text), HumanMessage(f"That could not be used: {error}. Reply with the JSON object only.")]
    raise DistillError(f"the model's draft could not be used: {error}")


def _assemble(d: Draft, data: dict) -> dict:
    from grader.rubric.distill import finish

    draft = {
        "id": d.question_id,
        "version": 1,
        "category": d.category,
        "type": d.qtype,
        "sources": d.sources or ["distilled"],
        "question": {"zh": d.question_zh, "en": d.question_en or data["question_en"]},
        "aliases": data["aliases"],
        "reference_answer": data["reference_answer"],
        "criteria": data["criteria"],
        "misconceptions": data.get("misconceptions", []),
        "follow_ups": data["follow_ups"],
    }
    finish(json.loads(json.dumps(draft)))  # raises DistillError when the shape is wrong
    return draft
