"""Turns with roles -> graded question/answer pairs.

Consecutive turns of one role are one turn; an interviewer's "嗯/好的" while the candidate talks
is dropped; a short probe on the same topic becomes a follow-up of the question before it; small
talk is set aside with a reason rather than graded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.transcripts.cues import (
    is_backchannel,
    is_follow_up,
    is_question,
    is_small_talk,
    opens_closing,
    strip_acknowledgement,
)
from grader.transcripts.fillers import strip_fillers
from grader.transcripts.models import FollowUp, QAPair, SkippedItem, SourceRange, Turn

NOT_TECHNICAL = "not a technical question"
NO_QUESTION = "candidate speech with no question before it"
NO_QUESTION_ASKED = "interviewer said nothing that asks a question"


@dataclass(frozen=True)
class GivenPair:
    """A question and answer stated outright (JSONL), so no turn-taking needs reconstructing."""

    question: str | None
    question_id: str | None
    answer: str
    source: SourceRange


_CJK_EDGE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_CJK_PUNCT = re.compile(r"[\u3000-\u303f\uff00-\uffef]")


def join_speech(a: str, b: str, unit: str) -> str:
    """Join two pieces of one speaker's speech. Lines of notes keep their line break (code, lists);
    subtitle cues and ASR segments are one flow of speech, split only by timing: Chinese runs on
    with no space, other text gets one."""
    a, b = a.strip(), b.strip()
    if not a or not b:
        return a or b
    if unit == "line":
        return f"{a}\n{b}"
    tight = _CJK_PUNCT.match(a[-1]) or _CJK_PUNCT.match(b[0]) or (_CJK_EDGE.match(a[-1]) and _CJK_EDGE.match(b[0]))
    return a + ("" if tight else " ") + b


def merge_same_role(turns: list[Turn]) -> list[Turn]:
    out: list[Turn] = []
    for t in turns:
        if out and out[-1].role == t.role:
            a = out[-1]
            out[-1] = a.model_copy(
                update={
                    "text": join_speech(a.text, t.text, t.source.unit),
                    "start": a.start if a.start is not None else t.start,
                    "end": t.end if t.end is not None else a.end,
                    "source": a.source.merge(t.source),
                }
            )
        else:
            out.append(t)
    return out


def _drop_backchannels(turns: list[Turn]) -> list[Turn]:
    """An interviewer's bare "嗯" between two stretches of the answer belongs to neither."""
    keep = []
    for i, t in enumerate(turns):
        after_answer = i > 0 and turns[i - 1].role == "candidate"
        before_answer = i + 1 >= len(turns) or turns[i + 1].role == "candidate"
        if t.role == "interviewer" and after_answer and before_answer and is_backchannel(t.text):
            continue
        keep.append(t)
    return merge_same_role(keep)


def _end(*turns: Turn | None) -> float | None:
    ends = [t.end for t in turns if t is not None and t.end is not None]
    return max(ends) if ends else None


def _skip(reason: str, *turns: Turn | None) -> SkippedItem:
    ts = [t for t in turns if t is not None]
    source = ts[0].source
    for t in ts[1:]:
        source = source.merge(t.source)
    return SkippedItem(
        text="\n".join(t.text for t in ts), reason=reason, source=source, start=ts[0].start, end=_end(*ts)
    )


def build_pairs(turns: list[Turn]) -> tuple[list[QAPair], list[SkippedItem], list[str]]:
    turns = _drop_backchannels(merge_same_role(turns))
    exchanges: list[tuple[Turn | None, Turn | None]] = []
    i = 0
    while i < len(turns):
        t = turns[i]
        if t.role == "candidate":
            exchanges.append((None, t))
            i += 1
            continue
        answer = turns[i + 1] if i + 1 < len(turns) and turns[i + 1].role == "candidate" else None
        exchanges.append((t, answer))
        i += 2 if answer else 1

    pairs: list[QAPair] = []
    skipped: list[SkippedItem] = []
    warnings: list[str] = []
    last: str | None = None  # what the previous exchange became: "pair" or "skipped"
    closing = False  # after "你有什么想问我的", the interviewer's statements are chat about the job
    for q, a in exchanges:
        if q is None:
            skipped.append(_skip(NO_QUESTION, a))
            continue
        question = strip_acknowledgement(q.text)
        closing = closing or opens_closing(q.text)
        answer_raw = a.text if a else ""
        if is_small_talk(q.text) or (closing and not is_question(question)):
            skipped.append(_skip(NOT_TECHNICAL, q, a))
            last = "skipped"
        elif not question:
            skipped.append(_skip(NO_QUESTION_ASKED, q, a))
        elif last is not None and is_follow_up(q.text):
            if last == "skipped":
                skipped.append(_skip(skipped[-1].reason, q, a))  # a probe into small talk is small talk
                continue
            pair = pairs[-1]
            pair.follow_ups.append(
                FollowUp(
                    question=question,
                    answer=strip_fillers(answer_raw),
                    question_raw=q.text,
                    answer_raw=answer_raw,
                    start=q.start,
                    end=_end(q, a),
                    source=q.source.merge(a.source) if a else q.source,
                )
            )
            pair.end = _end(q, a) if _end(q, a) is not None else pair.end
            pair.source = pair.source.merge(a.source if a else q.source)
        else:
            pairs.append(
                QAPair(
                    index=len(pairs) + 1,
                    question=question,
                    answer=strip_fillers(answer_raw),
                    question_raw=q.text,
                    answer_raw=answer_raw,
                    start=q.start,
                    end=_end(q, a),
                    source=q.source.merge(a.source) if a else q.source,
                )
            )
            if not pairs[-1].answer:
                warnings.append(f"Q{len(pairs)} ({q.source}) has no answer")
            last = "pair"
    return pairs, skipped, warnings


def pairs_from_given(items: list[GivenPair]) -> tuple[list[QAPair], list[SkippedItem], list[str]]:
    pairs: list[QAPair] = []
    skipped: list[SkippedItem] = []
    warnings: list[str] = []
    for item in items:
        question_raw = item.question or ""
        if question_raw and not item.question_id and is_small_talk(question_raw):
            skipped.append(SkippedItem(text=f"{question_raw}\n{item.answer}", reason=NOT_TECHNICAL, source=item.source))
            continue
        pairs.append(
            QAPair(
                index=len(pairs) + 1,
                question=strip_acknowledgement(question_raw) if question_raw else "",
                answer=strip_fillers(item.answer),
                question_raw=question_raw,
                answer_raw=item.answer,
                question_id=item.question_id,
                source=item.source,
            )
        )
        if not pairs[-1].answer:
            warnings.append(f"Q{len(pairs)} ({item.source}) has no answer")
    return pairs, skipped, warnings
