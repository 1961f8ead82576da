"""Speech-recognition JSON: Whisper-style {"segments": [...]} or a bare list of segments, each with
start, end, text and, after diarisation, a speaker."""

from __future__ import annotations

import json

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from grader.transcripts.encoding import no_lone_surrogates
from grader.transcripts.errors import FormatProblem
from grader.transcripts.labels import Labels
from grader.transcripts.models import SourceRange
from grader.transcripts.readers import ReadResult
from grader.transcripts.readers.speech import speech_turns


class Segment(BaseModel):
    # Tools add their own fields (tokens, words, avg_logprob...): ignored, not an error.
    model_config = ConfigDict(extra="ignore")

    text: str
    start: float | None = Field(default=None, ge=0)
    end: float | None = Field(default=None, ge=0)
    speaker: str | None = Field(
        default=None, validation_alias=AliasChoices("speaker", "spk", "speaker_id", "speaker_label")
    )

    _text = field_validator("text", "speaker")(no_lone_surrogates)

    @field_validator("speaker", mode="before")
    @classmethod
    def _id_as_text(cls, v):
        return str(v) if isinstance(v, int) else v


def read(text: str, labels: Labels) -> ReadResult:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatProblem(f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    if isinstance(data, dict) and isinstance(data.get("segments"), list):
        raw = data["segments"]
    elif isinstance(data, list):
        raw = data
    else:
        raise FormatProblem('expected speech-recognition JSON: {"segments": [...]} or a list of segments')
    if not raw:
        raise FormatProblem("no segments found")

    result = ReadResult()
    for n, item in enumerate(raw, start=1):
        try:
            seg = Segment.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "segment"
            raise FormatProblem(f"segment {n}: {where}: {err['msg'].removeprefix('Value error, ')}") from None
        result.turns.extend(
            speech_turns(
                seg.text.strip().split("\n"),
                labels,
                start=seg.start,
                end=seg.end,
                source=SourceRange(unit="segment", first=n, last=n),
                speaker=seg.speaker,
            )
        )
    return result
