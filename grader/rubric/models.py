"""The rubric contract: what one YAML file in the question bank must hold."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from grader.rubric.categories import category_names
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator, model_validator

QuestionType = Literal["concept", "derivation", "coding"]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# Bounds on what one rubric may hold: far above the bank's largest (52 terms in a group, 11
# patterns of at most 376 characters), far below what could slow every grading.
MAX_TERMS_PER_GROUP = 100
MAX_GROUPS = 20
MAX_PATTERNS = 30
MAX_PATTERN_CHARS = 1_000
MAX_MISCONCEPTIONS = 20


def _check_regex(pattern: str, answer_pattern: bool = True) -> None:
    """Parsing finds every syntax error and costs a quarter of compiling, which loading the bank
    would otherwise pay for each of several hundred patterns. A pattern that nests quantifiers
    so it can backtrack catastrophically, such as (a+)+ or (\\w+\\s?)*, is refused where it runs
    on answer text (misconception patterns)."""
    import re._parser

    try:
        tree = re._parser.parse(pattern)
    except re.error as exc:
        raise ValueError(f"pattern {pattern!r} is not a valid regular expression: {exc}") from exc
    except RecursionError:
        raise ValueError(f"pattern {pattern!r} is nested too deeply") from None
    if answer_pattern and _nested_quantifier(tree, None):
        raise ValueError(
            f"pattern {pattern!r} nests a repeat inside an unbounded repeat (like (a+)+), which can "
            "take exponential time; bound the inner or outer repeat or rewrite it"
        )


def _nested_quantifier(items, outer: int | None) -> bool:
    """Whether a repeat sits inside another so that the text can be split between them in
    exponentially (or highly polynomially) many ways: an unbounded repeat around any repeat of
    more than one, or any repeat of more than one around an unbounded one."""
    from re import _constants as c

    repeats = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)}
    for op, av in items:
        if op in repeats:
            _, hi, sub = av
            if outer is not None and ((outer == c.MAXREPEAT and hi > 1) or (outer > 1 and hi == c.MAXREPEAT)):
                return True
            inner_outer = (max(hi, outer or 0) if hi > 1 else outer)
            if _nested_quantifier(sub, inner_outer):
                return True
        elif op is c.SUBPATTERN:
            if _nested_quantifier(av[3], outer):
                return True
        elif op is c.BRANCH:
            if any(_nested_quantifier(b, outer) for b in av[1]):
                return True
        elif op in (c.ASSERT, c.ASSERT_NOT):
            if _nested_quantifier(av[1], None):
                return True
        elif op is c.ATOMIC_GROUP:
            if _nested_quantifier(av, outer):
                return True
        elif op is c.GROUPREF_EXISTS:
            if _nested_quantifier(av[1], outer) or (av[2] is not None and _nested_quantifier(av[2], outer)):
                return True
    return False


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(Strict):
    zh: Text
    en: Text


class ReferenceAnswer(Strict):
    zh: Text
    en: Text | None = None
    others: list[Text] = Field(default_factory=list)  # further reference answers a team supplied

    def texts(self) -> list[str]:
        return [self.zh, *([self.en] if self.en else []), *self.others]


TermList = Annotated[list[Text], Field(min_length=1)]


class BindsPair(Strict):
    entity: TermList
    property: TermList


class RelationBase(Strict):
    # False when the point does not hinge on saying which way: a claim that names the relation's
    # terms without settling it is not held back ("1×1 降维、3×3、1×1 升维" lists the steps with no
    # order word); one that turns it round still earns nothing and is charged.
    required: bool = True


class Binds(RelationBase):
    """Which entity has which property: a claim that gives an entity another pair's property has
    the roles swapped."""

    kind: Literal["binds"]
    pairs: list[BindsPair] = Field(min_length=2, max_length=4)


class Order(RelationBase):
    """`first` comes (or happens) before `then`."""

    kind: Literal["order"]
    first: TermList
    then: TermList


class Movement(Strict):
    subject: TermList
    dir: Literal["up", "down"]


class Direction(RelationBase):
    """How a quantity moves, optionally given how another one moves ("larger batch -> lower
    gradient variance")."""

    kind: Literal["direction"]
    subject: TermList
    dir: Literal["up", "down"]
    given: Movement | None = None
    # Which way is an improvement for the subject, so that "更好/更差", "better/worse" say which
    # way it moves: down for a cost (latency, error, variance), up for a quality (accuracy).
    # Unset, such words say nothing about it.
    better: Literal["up", "down"] | None = None


class Ratio(RelationBase):
    """`numerator` over `denominator`."""

    kind: Literal["ratio"]
    numerator: TermList
    denominator: TermList


Relation = Annotated[Binds | Order | Direction | Ratio, Field(discriminator="kind")]


class Criterion(Strict):
    """One checkable point of a good answer."""

    id: Slug
    points: float = Field(gt=0, le=10)
    statement: Bilingual
    # Each inner list is one concept; its entries are interchangeable ways of saying it
    # (Chinese, English, abbreviations, formulas). The offline judge looks for these.
    key_terms: list[Annotated[list[Text], Field(max_length=MAX_TERMS_PER_GROUP)]] = Field(min_length=1, max_length=MAX_GROUPS)
    # How many concept groups must appear for the criterion to count as fully met.
    # Defaults to all groups when there are at most two, else all but one.
    min_groups: int | None = Field(default=None, ge=1)
    # Which way a claim that meets this criterion must go (roles, order, direction, ratio); a
    # claim that reverses one earns nothing for the criterion.
    relations: list[Relation] = Field(default_factory=list, max_length=4)

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
    patterns: list[Annotated[Text, StringConstraints(max_length=MAX_PATTERN_CHARS)]] = Field(min_length=1, max_length=MAX_PATTERNS)

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
        _check_regex(pattern, answer_pattern=False)  # shipped code checks, matched against code only
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
    # One of the bank's categories (see `grader.rubric.categories`); a team may name its own.
    category: Slug
    type: QuestionType
    sources: list[Text] = Field(min_length=1)
    question: Bilingual
    aliases: list[Text] = Field(min_length=2)
    reference_answer: ReferenceAnswer
    # A team's rubric distilled from a one-sentence reference may hold one criterion; the
    # shipped bank's minimum of three is a lint rule (see `grader.rubric.lint`).
    criteria: list[Criterion] = Field(min_length=1, max_length=7)
    misconceptions: list[Misconception] = Field(default_factory=list, max_length=MAX_MISCONCEPTIONS)
    follow_ups: list[Bilingual] = Field(min_length=1, max_length=3)
    code_check: CodeCheck | None = None
    # "distilled": drafted from reference answers, its key terms a sample of the reference's words,
    # so the offline judge blends in a continuous similarity score (grader.judges.semantic).
    origin: Literal["written", "distilled"] = "written"

    _hash: str | None = PrivateAttr(default=None)

    def __hash__(self) -> int:  # lets per-rubric derived data be cached
        return hash((self.id, self.content_hash()))

    @property
    def max_points(self) -> float:
        return sum(c.points for c in self.criteria)

    @property
    def category_name(self) -> str:
        return category_names(self.category)[0]

    def content_hash(self) -> str:
        """Stable hash of the content: independent of YAML layout, comments and key order."""
        if self._hash is None:
            # Fields at their defaults are left out, so adding one does not change existing hashes.
            skip: dict = {} if self.origin != "written" else {"origin": True}
            if not self.reference_answer.others:
                skip["reference_answer"] = {"others"}
            canonical = json.dumps(self.model_dump(mode="json", exclude=skip), sort_keys=True, ensure_ascii=False)
            self._hash = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
        return self._hash

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)
