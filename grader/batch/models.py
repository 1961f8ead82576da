"""What a batch run produces, per transcript: each question/answer pair with its match to the
bank and its grading (or why it has none)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.grading.models import Grading
from grader.transcripts import SkippedItem

# graded / unscored: the judge ran; failed: an error stopped this item; unmatched: no bank
# question fits well enough (below --min-match); pending: not run (dry run, or interrupted).
ItemStatus = Literal["graded", "unscored", "failed", "unmatched", "pending"]


class BatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transcript: str
    index: int
    question: str
    answer: str
    follow_ups: list[str] = Field(default_factory=list)
    start: float | None = None
    source: str = ""
    question_id: str | None = None
    match_confidence: float = 0.0
    match_method: str = "none"
    candidates: list[tuple[str, float]] = Field(default_factory=list)
    status: ItemStatus = "pending"
    error: str | None = None
    grading: Grading | None = None
    grading_id: int | None = None

    @property
    def key(self) -> str:
        return f"{self.transcript}#{self.index}"


class TranscriptResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    format: str
    encoding: str
    role_source: str
    items: list[BatchItem] = Field(default_factory=list)
    skipped: list[SkippedItem] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    error: str | None = None  # the file could not be read at all


class BatchSummary(BaseModel):
    transcripts: int
    items: int
    graded: int
    unscored: int
    failed: int
    unmatched: int
    pending: int
    from_store: int  # served from the store (resumed or identical request)
    judge_calls: int
    interrupted: bool = False

    @property
    def all_graded(self) -> bool:
        return self.unscored == 0 and self.failed == 0 and self.pending == 0
