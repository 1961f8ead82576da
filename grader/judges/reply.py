"""Parsing the LLM judge's reply: JSON extraction, shape validation against the rubric."""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from grader.rubric.models import Rubric


class ReplyError(ValueError):
    """The reply cannot be used as a grading; the message says why (sent back for repair)."""


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ReplyCriterion(_Loose):
    id: str
    reasoning: str = ""
    evidence: list[str] = Field(default_factory=list)
    verdict: Literal["met", "partial", "missed"]


class ReplyMisconception(_Loose):
    id: str
    evidence: list[str] = Field(default_factory=list)


class ReplyFeedback(_Loose):
    missing: list[str] = Field(default_factory=list)
    fix: list[str] = Field(default_factory=list)
    follow_up: str = ""


class JudgeReply(_Loose):
    reasoning: str = ""
    criteria: list[ReplyCriterion]
    misconceptions: list[ReplyMisconception] = Field(default_factory=list)
    feedback: ReplyFeedback = Field(default_factory=ReplyFeedback)


_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*\n(.*?)\n?```\s*$", re.S)
# A grading of a few criteria is a few kilobytes; anything far larger is a runaway reply
# (a digit loop, a repeated phrase) and is refused before any parsing.
MAX_REPLY_CHARS = 100_000


def _loads(body: str) -> object:
    """json.loads, with every way it can fail on hostile input (huge integers, deep nesting)
    turned into a ReplyError."""
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise ReplyError("the reply is nested too deeply") from None
    except (ValueError, OverflowError, MemoryError) as exc:
        if "integer string conversion" in str(exc):
            raise ReplyError("the reply holds an integer with too many digits") from None
        raise ReplyError(f"the reply is not usable JSON: {str(exc).splitlines()[0][:120]}") from None


def extract_json(text: str) -> object:
    if not text or not text.strip():
        raise ReplyError("the reply was empty")
    if len(text) > MAX_REPLY_CHARS:
        raise ReplyError(f"the reply is {len(text):,} characters; the limit is {MAX_REPLY_CHARS:,}")
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        return _loads(body)
    except json.JSONDecodeError:
        start, end = body.find("{"), body.rfind("}")
        if 0 <= start < end:
            try:
                return _loads(body[start : end + 1])
            except json.JSONDecodeError as exc:
                raise ReplyError(f"the reply is not valid JSON: {exc.msg} at position {exc.pos}") from None
        raise ReplyError("the reply contains no JSON object") from None


def parse_reply(text: str, rubric: Rubric) -> JudgeReply:
    data = extract_json(text)
    if not isinstance(data, dict):
        raise ReplyError("the reply is JSON but not an object")
    try:
        reply = JudgeReply.model_validate(data)
    except RecursionError:
        raise ReplyError("the reply is nested too deeply") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ReplyError(f"the reply has the wrong shape: {where}: {err['msg']}") from None
    expected = [c.id for c in rubric.criteria]
    got = [c.id for c in reply.criteria]
    missing = [i for i in expected if i not in got]
    unknown = [i for i in got if i not in expected]
    duplicated = sorted({i for i in got if got.count(i) > 1})
    if missing or unknown or duplicated:
        parts = []
        if missing:
            parts.append(f"missing criteria {missing}")
        if unknown:
            parts.append(f"unknown criteria {unknown}")
        if duplicated:
            parts.append(f"criteria given twice {duplicated}")
        raise ReplyError("the reply has the wrong shape: " + "; ".join(parts))
    return reply
