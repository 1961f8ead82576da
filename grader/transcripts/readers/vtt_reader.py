"""WebVTT (.vtt) subtitles, parsed by webvtt-py; a <v Speaker> voice tag names the speaker."""

from __future__ import annotations

import re

from grader.transcripts.errors import FormatProblem
from grader.transcripts.labels import Labels
from grader.transcripts.models import SourceRange
from grader.transcripts.readers import ReadResult
from grader.transcripts.readers.speech import speech_turns

_VOICE = re.compile(r"<v(?:\.[\w-]+)*\s+([^>]+)>")


def read(text: str, labels: Labels) -> ReadResult:
    import webvtt  # lazy: only needed for subtitle files
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        captions = list(webvtt.from_string(text))
    except (MalformedFileError, MalformedCaptionError) as exc:
        raise FormatProblem(f"not a valid WebVTT file ({exc}); it must start with a WEBVTT line") from None
    if not captions:
        raise FormatProblem("no subtitle cues found")
    result = ReadResult()
    for n, cap in enumerate(captions, start=1):
        start = cap.start_time.in_milliseconds() / 1000
        end = cap.end_time.in_milliseconds() / 1000
        source = SourceRange(unit="cue", first=n, last=n)
        # A voice span runs to the end of the cue unless another one starts; split where it changes.
        voice: str | None = None
        group: list[str] = []
        for line in cap.lines:
            m = _VOICE.search(line)
            if m and group:
                result.turns.extend(speech_turns(group, labels, start, end, source, speaker=voice))
                group = []
            if m:
                voice = m[1].strip()
            group.append(line)
        result.turns.extend(speech_turns(group, labels, start, end, source, speaker=voice))
    return result
