"""Golden sets: answers written for this project with the grade an expert gives them, one file
per question (evals/golden/<question-id>.yaml)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from grader.grading.models import PENALTY_SHARE, VERDICT_FRACTION, turned_penalty

# What an answer is built to test. The wrong-with-the-right-words kinds: `swapped` (roles of two
# things exchanged), `reversed` (a direction or order turned round), `negated` (a true statement
# denied); `refutation` states a listed wrong claim in order to reject it; `spoken-code` answers a
# coding question in words or pseudo-code, as a candidate says it in an interview.
AnswerKind = Literal[
    "complete", "partial", "wrong", "off-topic", "misconception", "english", "code-switched",
    "swapped", "reversed", "negated", "refutation", "spoken-code",
]


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")

    band: tuple[float, float]  # acceptable score range, percent of the maximum
    verdicts: dict[str, Literal["met", "partial", "missed"]]  # every criterion of the rubric
    misconceptions: list[str] = Field(default_factory=list)  # misconception ids the answer asserts
    # criteria whose relation the answer turns round (and says nowhere right): each costs its
    # share of the criterion's points, as graded (see grading.models.turned_penalty)
    turned: list[str] = Field(default_factory=list)
    # criteria whose whole point the answer denies (and says nowhere right): charged the same way
    denied: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _band_ordered(self) -> Expected:
        lo, hi = self.band
        if not (0 <= lo <= hi <= 100):
            raise ValueError(f"band must satisfy 0 <= low <= high <= 100, got {list(self.band)}")
        return self


class GoldenAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    kind: AnswerKind
    lang: Literal["zh", "en", "mixed"]
    text: str = Field(min_length=1)
    expected: Expected
    note: str | None = None  # why the expectation is what it is, for the next author


class GoldenSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_id: str
    rubric_version: int = Field(ge=1)
    answers: list[GoldenAnswer] = Field(min_length=4)


def expected_percent(answer: GoldenAnswer, rubric) -> float:
    """The score the expected verdicts and misconceptions add up to, as a percent."""
    points = sum(c.points * VERDICT_FRACTION[answer.expected.verdicts[c.id]] for c in rubric.criteria)
    penalty = sum(m.penalty for m in rubric.misconceptions if m.id in answer.expected.misconceptions)
    charged = {*answer.expected.turned, *answer.expected.denied}
    penalty += sum(turned_penalty(c.points) for c in rubric.criteria if c.id in charged)
    penalty = min(penalty, PENALTY_SHARE * points)  # as graded: see grading.models.penalty_applied
    return round(100 * min(max(points - penalty, 0.0), rubric.max_points) / rubric.max_points, 1)


def golden_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    installed = here / "_data" / "evals" / "golden"
    return installed if installed.is_dir() else here.parent / "evals" / "golden"


def load_golden(path: Path) -> GoldenSet:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ValueError(f"{path}: {where}invalid YAML: {getattr(exc, 'problem', exc)}") from None
    try:
        return GoldenSet.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"{path}: {field}: {err['msg'].removeprefix('Value error, ')}") from None


def check_against_rubric(gs: GoldenSet, rubric) -> list[str]:
    """Problems that make a golden set unusable with its rubric."""
    problems = []
    if gs.rubric_version != rubric.version:
        problems.append(f"written for rubric version {gs.rubric_version}, the rubric is version {rubric.version}")
    ids = [c.id for c in rubric.criteria]
    mis = {m.id for m in rubric.misconceptions}
    relational = {c.id for c in rubric.criteria if c.relations}
    seen = set()
    for a in gs.answers:
        if a.id in seen:
            problems.append(f"answer id {a.id!r} is used twice")
        seen.add(a.id)
        if sorted(a.expected.verdicts) != sorted(ids):
            missing = [i for i in ids if i not in a.expected.verdicts]
            extra = [i for i in a.expected.verdicts if i not in ids]
            problems.append(f"{a.id}: verdicts must name every criterion (missing {missing}, unknown {extra})")
        unknown = [m for m in a.expected.misconceptions if m not in mis]
        if unknown:
            problems.append(f"{a.id}: unknown misconception ids {unknown}")
        for cid in a.expected.turned:
            if cid not in relational or a.expected.verdicts.get(cid) != "missed":
                problems.append(f"{a.id}: turned {cid!r} must be a criterion with relations, expected missed")
        for cid in a.expected.denied:
            if a.expected.verdicts.get(cid) != "missed" or cid in a.expected.turned:
                problems.append(f"{a.id}: denied {cid!r} must be a criterion expected missed, and not also turned")
        if not unknown and not (set(ids) ^ set(a.expected.verdicts)):
            pct = expected_percent(a, rubric)
            lo, hi = a.expected.band
            if not lo <= pct <= hi:
                problems.append(f"{a.id}: the expected verdicts add up to {pct}%, outside the band {list(a.expected.band)}")
    kinds = {a.kind for a in gs.answers}
    for needed in ("complete", "partial", "misconception"):
        if needed not in kinds:
            problems.append(f"no {needed!r} answer")
    if not kinds & {"wrong", "off-topic"}:
        problems.append("no 'wrong' or 'off-topic' answer")
    return problems


def main(argv: list[str]) -> int:
    """python -m grader.evals.golden FILE...: validate golden files against their rubrics."""
    from grader.rubric.bank import Bank

    bank = Bank.load()
    status = 0
    for arg in argv:
        try:
            gs = load_golden(Path(arg))
            problems = check_against_rubric(gs, bank.get(gs.question_id))
        except (ValueError, LookupError) as exc:
            problems = [str(exc)]
        for p in problems:
            print(f"{arg}: {p}")
        status |= bool(problems)
        if not problems:
            print(f"{arg}: ok")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
