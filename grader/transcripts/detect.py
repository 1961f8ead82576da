"""`--format auto`: decide the format from the content first (a WEBVTT header, SRT timing lines,
JSON shape), then from the extension. Content wins because exported files are often misnamed
(subtitles saved as .txt, ASR output as .jsonl)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from grader.transcripts.models import Format

FORMATS: tuple[Format, ...] = ("text", "srt", "vtt", "asr-json", "jsonl")
ALIASES: dict[str, Format] = {
    "text": "text", "txt": "text", "md": "text", "markdown": "text", "notes": "text",
    "srt": "srt", "subrip": "srt",
    "vtt": "vtt", "webvtt": "vtt",
    "asr-json": "asr-json", "asr": "asr-json", "json": "asr-json", "whisper": "asr-json",
    "jsonl": "jsonl", "ndjson": "jsonl",
}  # fmt: skip
_BY_EXTENSION: dict[str, Format] = {
    ".srt": "srt", ".vtt": "vtt", ".json": "asr-json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".txt": "text", ".md": "text", ".markdown": "text",
}  # fmt: skip

_SRT_TIMING = re.compile(r"^\s*\d+\s*\n\s*\d{1,2}:\d{2}:\d{2},\d{1,3}\s*-->\s*\d{1,2}:\d{2}:\d{2},\d{1,3}", re.M)


def format_name(name: str) -> Format | None:
    """A user-given format name or alias -> the canonical one; None if unknown. "auto" is not a format."""
    return ALIASES.get(name.strip().lower())


def detect_format(path: str | Path, text: str) -> Format:
    by_content = _from_content(text)
    if by_content:
        return by_content
    return _BY_EXTENSION.get(Path(path).suffix.lower(), "text")


def _from_content(text: str) -> Format | None:
    head = text.lstrip()
    if head.startswith("WEBVTT"):
        return "vtt"
    if _SRT_TIMING.search(head[:4000]):
        return "srt"
    if head[:1] in "{[":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # not JSON, or hostile JSON: the reader reports which
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:20]
            if lines and all(ln.startswith("{") and ln.endswith("}") for ln in lines):
                return "jsonl"
            return None
        if isinstance(data, dict) and "segments" in data:
            return "asr-json"
        if isinstance(data, dict) and ("answer" in data or "question_id" in data):
            return "jsonl"  # a one-line answer sheet
        if isinstance(data, list) and all(isinstance(s, dict) and "text" in s for s in data[:20]):
            return "asr-json"
    return None
