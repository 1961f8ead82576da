"""One reader per transcript format. Each turns decoded text into speaker turns (or, for JSONL,
into question/answer pairs given outright); pairing and cleaning happen afterwards, the same for all."""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.transcripts.models import SkippedItem, Turn
from grader.transcripts.segment import GivenPair


@dataclass
class ReadResult:
    turns: list[Turn] = field(default_factory=list)
    given: list[GivenPair] | None = None  # set only by readers whose format states the pairs
    skipped: list[SkippedItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
