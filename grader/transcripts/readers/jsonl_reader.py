"""JSONL answer sheets: one {"question": ..., "answer": ...} or {"question_id": ..., "answer": ...}
per line. A bad line is reported and skipped; the rest are still graded."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from grader.transcripts.encoding import no_lone_surrogates
from grader.transcripts.errors import FormatProblem, unusable_json
from grader.transcripts.labels import Labels
from grader.transcripts.models import SkippedItem, SourceRange
from grader.transcripts.readers import ReadResult
from grader.transcripts.segment import GivenPair


class Line(BaseModel):
    model_config = ConfigDict(extra="ignore")  # sheets carry their own bookkeeping fields

    answer: str
    question: str | None = None
    question_id: str | None = None

    _text = field_validator("answer", "question", "question_id")(no_lone_surrogates)

    @model_validator(mode="after")
    def _names_a_question(self) -> Line:
        if not (self.question or "").strip() and not (self.question_id or "").strip():
            raise ValueError("needs a non-empty question or question_id")
        return self


def read(text: str, labels: Labels) -> ReadResult:  # labels unused: JSONL states the roles
    result = ReadResult(given=[])
    problems: list[str] = []
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        source = SourceRange(unit="line", first=n, last=n)
        try:
            item = Line.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            problem = f"invalid JSON: {exc.msg} (column {exc.colno})"
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            problem = f"{field + ': ' if field else ''}{err['msg']}".replace("Value error, ", "")
        except RecursionError:
            problem = "JSON nested too deeply"
        except ValueError as exc:  # an integer of thousands of digits
            problem = f"unusable JSON: {unusable_json(exc)}"
        else:
            result.given.append(
                GivenPair(
                    question=item.question.strip() if item.question else None,
                    question_id=item.question_id.strip() if item.question_id else None,
                    answer=item.answer.strip(),
                    source=source,
                )
            )
            continue
        problems.append(f"line {n}: {problem}")
        result.skipped.append(SkippedItem(text=line.strip()[:500], reason=problem, source=source))
    if not result.given:
        raise FormatProblem("no valid question/answer lines" + (f" ({problems[0]})" if problems else ""))
    result.warnings.extend(f"skipped {p}" for p in problems)
    return result
