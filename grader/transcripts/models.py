"""What reading a transcript produces: turns, question/answer pairs, and what was left out and why.

Positions are 1-based (lines, subtitle cues, ASR segments) because they are shown to people.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Role = Literal["interviewer", "candidate", "unknown"]
Format = Literal["text", "srt", "vtt", "asr-json", "jsonl"]
# Where the roles came from: speaker labels, diarised speaker ids mapped to roles by who asks the
# questions, reconstruction from question cues and pauses, or given outright (JSONL).
RoleSource = Literal["labels", "speakers", "cues", "given"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceRange(_Model):
    """Where in the file something came from, inclusive."""

    unit: Literal["line", "cue", "segment"]
    first: int = Field(ge=1)
    last: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> SourceRange:
        if self.last < self.first:
            raise ValueError("last must not be before first")
        return self

    def merge(self, other: SourceRange) -> SourceRange:
        return SourceRange(unit=self.unit, first=min(self.first, other.first), last=max(self.last, other.last))

    def __str__(self) -> str:
        return f"{self.unit} {self.first}" if self.first == self.last else f"{self.unit}s {self.first}-{self.last}"


class Turn(_Model):
    """One stretch of speech by one speaker."""

    role: Role
    speaker: str | None = None  # the label as written in the file ("面试官", "SPEAKER_01"), if any
    text: str
    start: float | None = Field(default=None, ge=0)
    end: float | None = Field(default=None, ge=0)
    source: SourceRange


class Exchange(_Model):
    """A question and the candidate's answer. `question`/`answer` are what gets graded (fillers
    removed); the `*_raw` fields keep what was said."""

    question: str
    answer: str
    question_raw: str
    answer_raw: str
    start: float | None = None
    end: float | None = None
    source: SourceRange


class FollowUp(Exchange):
    """A short probe on the same topic ("那测试的时候呢？"), kept with the question it follows."""


class QAPair(Exchange):
    index: int = Field(ge=1)  # Q1, Q2, ... in transcript order
    question_id: str | None = None  # only when the file names the bank question (JSONL)
    follow_ups: list[FollowUp] = Field(default_factory=list)

    def full_answer(self) -> str:
        """The answer plus the answers to its follow-ups: everything the candidate said on this question."""
        return "\n".join(p for p in [self.answer, *(f.answer for f in self.follow_ups)] if p)


class SkippedItem(_Model):
    """Something in the transcript that is not graded, with the reason."""

    text: str
    reason: str
    source: SourceRange
    start: float | None = None
    end: float | None = None


class Transcript(_Model):
    path: str
    format: Format
    encoding: str
    role_source: RoleSource
    pairs: list[QAPair] = Field(default_factory=list)
    skipped: list[SkippedItem] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
