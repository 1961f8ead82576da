"""SubRip (.srt) subtitles, parsed by the `srt` library."""

from __future__ import annotations

from grader.transcripts.errors import FormatProblem
from grader.transcripts.labels import Labels
from grader.transcripts.models import SourceRange
from grader.transcripts.readers import ReadResult
from grader.transcripts.readers.speech import speech_turns


def read(text: str, labels: Labels) -> ReadResult:
    import srt  # lazy: only needed for subtitle files

    try:
        cues = list(srt.parse(text))
    except srt.SRTParseError as exc:
        raise FormatProblem(f"not a valid SRT file: {str(exc)[:200]}") from None
    if not cues:
        raise FormatProblem("no subtitle cues found")
    result = ReadResult()
    for n, cue in enumerate(cues, start=1):
        result.turns.extend(
            speech_turns(
                cue.content.split("\n"),
                labels,
                start=cue.start.total_seconds(),
                end=cue.end.total_seconds(),
                source=SourceRange(unit="cue", first=n, last=n),
            )
        )
    return result
