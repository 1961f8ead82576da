"""Shared by the subtitle and ASR readers: one timed piece of speech -> turns.

A subtitle cue or ASR segment may name its speaker (a VTT voice tag, a diarisation id, or a
"面试官：" prefix in the text), may hold two speakers on dash-led lines, or may name no one.
"""

from __future__ import annotations

import html
import re

from grader.transcripts.labels import Labels
from grader.transcripts.models import SourceRange, Turn
from grader.transcripts.segment import join_speech

_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")  # HTML-ish cue tags and ASS override codes
_DIALOGUE_DASH = re.compile(r"^\s*[-–—]\s+")


def clean_markup(text: str) -> str:
    return html.unescape(_TAG.sub("", text)).replace("\u00a0", " ")


def speech_turns(
    lines: list[str],
    labels: Labels,
    start: float | None,
    end: float | None,
    source: SourceRange,
    speaker: str | None = None,
) -> list[Turn]:
    turns: list[Turn] = []
    for raw in lines:
        line = _DIALOGUE_DASH.sub("", clean_markup(raw)).strip()
        if not line:
            continue
        labelled = labels.split(line)
        if labelled is not None:
            turns.append(
                Turn(
                    role=labelled.role, speaker=labelled.speaker, text=labelled.text, start=start, end=end, source=source
                )
            )
        elif turns:
            turns[-1] = turns[-1].model_copy(update={"text": join_speech(turns[-1].text, line, source.unit)})
        elif speaker:
            role = labels.role_of(speaker) or "unknown"
            turns.append(Turn(role=role, speaker=speaker, text=line, start=start, end=end, source=source))
        else:
            turns.append(Turn(role="unknown", text=line, start=start, end=end, source=source))
    return [t for t in turns if t.text]
