"""The rubric contract: what one YAML file in the question bank must hold."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from grader.rubric.categories import CATEGORIES
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator, model_validator

Category = Literal[
    "cnn-architectures",
    "normalization",
    "activations-optimisation",
    "losses",
    "detection",
    "segmentation",
    "classical-ml",
    "python",
    "os-systems",
    "linear-algebra",
    "coding-algorithms",
]
QuestionType = Literal["concept", "derivation", "coding"]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _check_regex(pattern: str) -> None:
    """Parsing finds every syntax error and costs a quarter of compiling, which loading the bank
    would otherwise pay for each of several hundred patterns."""
    import re._parser

    try:
        re._parser.parse(pattern)
    except re.error as exc:
        raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from exc


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(Strict):
    zh: Text
    en: Text


class ReferenceAnswer(Strict):
    zh: Text
    en: Text | None = None


class Criterion(Strict):
    """One checkable point of a good answer."""

    id: Slug
    points: float = Field(gt=0, le=10)
    statement: Bilingual
    # Each inner list is one concept; its entries are interchangeable ways of saying it
    # (Chinese, English, abbreviations, formulas). The offline judge looks for these.
    key_terms: list[list[Text]] = Field(min_length=1)
    # How many concept groups must appear for the criterion to count as fully met.
    # Defaults to all groups when there are at most two, else all but one.
    min_groups: int | None = Field(default=None, ge=1)

    @field_validator("key_terms")
    @classmethod
    def _groups_not_empty(cls, groups: list[list[str]]) -> list[list[str]]:
        for i, group in enumerate(groups):
            if not group:
                raise ValueError(f"key-term group {i} is empty")
        return groups

    @model_validator(mode="after")
    def _min_groups_in_range(self) -> Criterion:
        if self.min_groups is not None and self.min_groups > len(self.key_terms):
            raise ValueError(
                f"min_groups is {self.min_groups} but there are only {len(self.key_terms)} key-term groups"
            )
        return self

    @property
    def groups_needed(self) -> int:
        if self.min_groups is not None:
            return self.min_groups
        n = len(self.key_terms)
        return n if n <= 2 else n - 1


class Misconception(Strict):
    """A wrong claim a candidate is likely to make, and how to spot it."""

    id: Slug
    claim: Bilingual
    correction: Bilingual
    penalty: float = Field(gt=0, le=10)
    # Regular expressions (case-insensitive) that match the wrong claim in an answer.
    patterns: list[Text] = Field(min_length=1)

    @field_validator("patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for p in patterns:
            _check_regex(p)
        return patterns


class CodeTest(Strict):
    """One test case of a coding question.

    `call` is a Python expression evaluated in a namespace holding the names `setup` defines and
    the candidate's `entry`. Its value is judged by exactly one oracle: `expect` (a Python
    expression for the expected value), `compare_reference: true` (the same call against the
    reference implementation, with `setup` run afresh), or `check` (a Python expression that is
    true when `result` is acceptable; for questions with several valid answers). Numbers and
    arrays compare with `tolerance`."""

    name: Slug
    call: Text
    expect: str | None = None
    compare_reference: bool = False
    check: str | None = None
    tolerance: float = Field(default=1e-6, ge=0)
    # Which criterion this case provides evidence for.
    criterion: Slug
    # Shown to the candidate when the case fails, instead of the raw call.
    description: str | None = None

    @model_validator(mode="after")
    def _one_oracle(self) -> CodeTest:
        given = (self.expect is not None) + self.compare_reference + (self.check is not None)
        if given != 1:
            raise ValueError("give exactly one of `expect`, `compare_reference: true` or `check`")
        return self


class StructureCheck(Strict):
    """A static check of the candidate's code, used when a module the tests need (e.g. torch)
    is not installed: `pattern` is a regular expression searched in the code."""

    criterion: Slug
    description: Bilingual
    pattern: Text

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str) -> str:
        _check_regex(pattern)
        return pattern


class CodeCheck(Strict):
    """What makes a coding answer executable and checkable."""

    language: Literal["python"] = "python"
    entry: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
    kind: Literal["function", "class"] = "function"
    signature: Text
    # Reference implementation written for this project; defines `entry` too.
    reference: Text
    # Setup code shared by all tests (imports, fixtures); runs before each test.
    setup: str = ""
    tests: list[CodeTest] = Field(min_length=1)
    # Checked structurally when a required module (e.g. torch) is missing.
    requires: list[str] = Field(default_factory=list)
    structure: list[StructureCheck] = Field(default_factory=list)
    time_limit_s: float = Field(default=5.0, gt=0, le=60)
    memory_limit_mb: int = Field(default=512, ge=64, le=4096)


class Rubric(Strict):
    id: Slug
    version: int = Field(ge=1)
    category: Category
    type: QuestionType
    sources: list[Text] = Field(min_length=1)
    question: Bilingual
    aliases: list[Text] = Field(min_length=2)
    reference_answer: ReferenceAnswer
    criteria: list[Criterion] = Field(min_length=3, max_length=7)
    misconceptions: list[Misconception] = Field(default_factory=list)
    follow_ups: list[Bilingual] = Field(min_length=1, max_length=3)
    code_check: CodeCheck | None = None

    _hash: str | None = PrivateAttr(default=None)

    def __hash__(self) -> int:  # lets per-rubric derived data be cached
        return hash((self.id, self.content_hash()))

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.criteria)

    @property
    def category_name(self) -> str:
        return CATEGORIES[self.category][0]

    def content_hash(self) -> str:
        """Stable hash of the content: independent of YAML layout, comments and key order."""
        if self._hash is None:
            canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
            self._hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
        return self._hash

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)
