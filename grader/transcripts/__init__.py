"""Read interview transcripts (notes, subtitles, speech-recognition JSON, answer sheets) into
question/answer pairs ready for grading.

    >>> t = read_transcript("examples/mock_interview_zh.md")
    >>> [(p.index, p.question) for p in t.pairs]

Matching each pair to a bank question is done by the caller; this package only reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from pathlib import Path

from grader.transcripts.errors import FormatProblem, TranscriptError, unusable_json
from grader.transcripts.models import FollowUp, QAPair, SkippedItem, SourceRange, Transcript, Turn

__all__ = [
    "FollowUp",
    "QAPair",
    "SkippedItem",
    "SourceRange",
    "Transcript",
    "TranscriptError",
    "Turn",
    "read_transcript",
]

_READERS = {
    "text": "text_reader",
    "srt": "srt_reader",
    "vtt": "vtt_reader",
    "asr-json": "asr_reader",
    "jsonl": "jsonl_reader",
}
MAX_PAIRS = 1_000  # a mock interview has tens; a longer file is an export of many, to be split
_NAMES = {"text": "text notes", "srt": "SRT", "vtt": "WebVTT", "asr-json": "ASR JSON", "jsonl": "JSONL"}


def read_transcript(
    path: str | Path, format: str = "auto", labels: Mapping[str, str] | None = None
) -> Transcript:
    """Read one transcript file.

    format: "auto" (default), or text | srt | vtt | asr-json | jsonl (aliases: md, txt, webvtt,
    json, whisper, ndjson). labels: extra speaker labels, label -> "interviewer" | "candidate" |
    "unknown", laid over the built-in ones. Raises TranscriptError with a one-line message naming
    the file for anything unreadable.
    """
    from grader.transcripts.detect import FORMATS, detect_format, format_name
    from grader.transcripts.encoding import read_text
    from grader.transcripts.labels import Labels
    from grader.transcripts.roles import resolve_roles
    from grader.transcripts.segment import build_pairs, pairs_from_given

    try:
        label_table = Labels(labels)
    except ValueError as exc:
        raise TranscriptError(path, f"bad label mapping: {exc}") from None
    if format != "auto" and format_name(format) is None:
        raise TranscriptError(path, f"unknown format {format!r}; use auto or one of {', '.join(FORMATS)}")

    decoded = read_text(path)
    fmt = detect_format(path, decoded.text) if format == "auto" else format_name(format)
    reader = import_module(f"grader.transcripts.readers.{_READERS[fmt]}")
    try:
        read = reader.read(decoded.text, label_table)
    except FormatProblem as exc:
        raise TranscriptError(path, f"{_NAMES[fmt]}: {exc}") from None
    except RecursionError:
        raise TranscriptError(path, f"{_NAMES[fmt]}: nested too deeply to be a transcript") from None
    except (ValueError, OverflowError) as exc:  # e.g. an integer of thousands of digits in JSON
        raise TranscriptError(path, f"{_NAMES[fmt]}: unusable content: {unusable_json(exc)}") from None

    warnings = list(read.warnings)
    if read.given is not None:
        pairs, skipped, more = pairs_from_given(read.given)
        role_source = "given"
    else:
        if not read.turns:
            raise TranscriptError(path, f"{_NAMES[fmt]}: no speech found")
        resolved = resolve_roles(read.turns)
        role_source = resolved.source
        warnings += resolved.warnings
        pairs, skipped, more = build_pairs(resolved.turns)
        skipped = resolved.skipped + skipped
    if len(pairs) > MAX_PAIRS:
        raise TranscriptError(
            path, f"{len(pairs):,} question/answer pairs; the limit is {MAX_PAIRS:,} per file: split it into smaller files"
        )
    return Transcript(
        path=str(path),
        format=fmt,
        encoding=decoded.encoding,
        role_source=role_source,
        pairs=pairs,
        skipped=sorted([*read.skipped, *skipped], key=lambda s: s.source.first),
        warnings=warnings + more,
    )
