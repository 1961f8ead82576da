"""A rubric regression run: grade every golden answer and canary, compare with the expectations,
compute the agreement figures, and check them against the thresholds."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grader.evals import metrics
from grader.evals.canaries import canaries_for
from grader.evals.golden import (
    AnswerKind,
    GoldenSet,
    check_against_rubric,
    expected_percent,
    golden_dir,
    load_golden,
)


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    band_pass_rate: float = Field(0.8, ge=0, le=1)
    criterion_agreement: float = Field(0.7, ge=0, le=1)
    spearman: float = Field(0.8, ge=-1, le=1)
    qwk: float = Field(0.7, ge=-1, le=1)
    canary_pass_rate: float = Field(1.0, ge=0, le=1)
    # against a baseline: golden answers whose band passed there and fails now
    max_new_band_failures: int = Field(0, ge=0)
    # against a baseline: verdicts that agreed with the expected one there and no longer do
    max_new_disagreements: int = Field(0, ge=0)
    # optional, per kind of golden answer: the lowest band pass rate (e.g. swapped: 0.5)
    band_pass_rate_by_kind: dict[AnswerKind, float] = Field(default_factory=dict)
    # optional: the lowest band pass rate over swapped, reversed and negated answers together
    wrong_with_right_words: float | None = Field(None, ge=0, le=1)
    # optional: the most misconceptions flagged on refutation answers (which reject the claim)
    max_refutation_false_alarms: int | None = Field(None, ge=0)

    @field_validator("band_pass_rate_by_kind")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, x in v.items() if not 0 <= x <= 1]
        if bad:
            raise ValueError(f"band_pass_rate_by_kind: {', '.join(bad)} must be between 0 and 1")
        return v


class EvalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thresholds: Thresholds = Field(default_factory=Thresholds)


def config_path() -> Path:
    return golden_dir().parent / "config.yaml"


def load_config(path: Path | None = None) -> EvalConfig:
    path = path or config_path()
    if not path.exists():
        return EvalConfig()
    try:
        return EvalConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ValueError(f"{path}: {where}: {err['msg'].removeprefix('Value error, ')}") from None
    except Exception as exc:  # noqa: BLE001 - reported as one line by the CLI
        raise ValueError(f"{path}: {str(exc).splitlines()[0]}") from None


class CaseResult(BaseModel):
    question_id: str
    case_id: str
    kind: str  # a golden answer's kind, or "canary"
    rubric_hash: str
    status: str
    percent: float | None
    verdicts: dict[str, str] = Field(default_factory=dict)
    misconceptions: list[str] = Field(default_factory=list)
    expected_band: tuple[float, float] | None = None
    expected_percent: float | None = None
    expected_verdicts: dict[str, str] = Field(default_factory=dict)
    expected_misconceptions: list[str] = Field(default_factory=list)
    passed: bool
    message: str = ""


# Answers that use the right terms to say something wrong: a judge that counts terms passes them.
WRONG_WITH_RIGHT_WORDS = ("swapped", "reversed", "negated")


class KindFigure(BaseModel):
    answers: int
    passed: int
    band_pass_rate: float | None


class RunMetrics(BaseModel):
    golden_answers: int
    band_pass_rate: float | None
    criterion_agreement: float | None
    criteria_compared: int
    spearman: float | None
    qwk: float | None
    misconception_recall: float | None
    misconception_false_alarms: int
    canaries: int
    canary_pass_rate: float | None
    by_kind: dict[str, KindFigure] = Field(default_factory=dict)  # band pass rate per kind of answer
    wrong_with_right_words: KindFigure | None = None  # swapped, reversed and negated together
    refutation_false_alarms: int = 0  # misconceptions flagged on answers that reject them
    failures: list[str] = Field(default_factory=list)  # thresholds crossed


class Problem(ValueError):
    pass


def load_golden_sets(bank, questions: list[str] | None, directory: Path | None = None) -> dict[str, GoldenSet]:
    directory = directory or golden_dir()
    sets: dict[str, GoldenSet] = {}
    errors: list[str] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            gs = load_golden(path)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        if questions and gs.question_id not in questions:
            continue
        if gs.question_id not in bank.rubrics:
            errors.append(f"{path}: question {gs.question_id!r} is not in the bank")
            continue
        problems = check_against_rubric(gs, bank.rubrics[gs.question_id])
        errors.extend(f"{path}: {p}" for p in problems)
        sets[gs.question_id] = gs
    if errors:
        raise Problem("; ".join(errors[:5]) + (f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""))
    return sets


def bank_hash(rubrics) -> str:
    joined = ",".join(f"{r.id}:{r.content_hash()}" for r in rubrics)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


CODE_WORKERS = 3  # coding answers graded at once: their sandbox runs mostly wait on processes


def run_cases(
    bank, grader, questions: list[str], golden: dict[str, GoldenSet], on_case=None, batched: bool = True
) -> list[CaseResult]:
    """Grade every golden answer and canary of `questions`. With `batched` (the default) and the
    offline judge, every sentence of the run is embedded up front in a few large calls (once,
    however often it recurs across canaries), and coding answers, whose sandbox runs mostly wait,
    are graded in a few threads alongside the others. The results are the same either way."""
    if not (batched and grader.judge.kind == "offline" and grader.store is None):
        return _run_cases(bank, questions, golden, lambda r, t: grader.grade(r, t).grading, on_case)
    from concurrent.futures import ThreadPoolExecutor

    from grader.text import embed

    # The foreign-question canary compares every reference answer with every other.
    embed.prefill(r.reference_answer.zh for r in bank.rubrics.values())
    jobs = [(q, a.text) for q in questions for a in (golden[q].answers if q in golden else [])]
    jobs += [(q, c.text) for q in questions for c in canaries_for(bank.get(q), bank)]
    with embed.prefilled(t for _, t in jobs), ThreadPoolExecutor(CODE_WORKERS) as pool:
        coding = {
            (q, t): pool.submit(grader.grade, bank.get(q), t)
            for q, t in dict.fromkeys(jobs) if bank.get(q).code_check is not None and t.strip()
        }

        def grade(rubric, text):
            job = coding.get((rubric.id, text))
            return (job.result() if job else grader.grade(rubric, text)).grading

        try:
            return _run_cases(bank, questions, golden, grade, on_case)
        finally:
            for job in coding.values():
                job.cancel()


def _run_cases(bank, questions: list[str], golden: dict[str, GoldenSet], grade, on_case=None) -> list[CaseResult]:
    results: list[CaseResult] = []
    for qid in questions:
        rubric = bank.get(qid)
        gs = golden.get(qid)
        for answer in gs.answers if gs else []:
            g = grade(rubric, answer.text)
            got = {c.id: c.verdict for c in g.criteria}
            lo, hi = answer.expected.band
            ok = g.status == "graded" and lo <= g.percent <= hi
            results.append(
                CaseResult(
                    question_id=qid,
                    case_id=answer.id,
                    kind=answer.kind,
                    rubric_hash=rubric.content_hash(),
                    status=g.status,
                    percent=g.percent,
                    verdicts=got,
                    misconceptions=g.listed_misconception_ids,
                    expected_band=(lo, hi),
                    expected_percent=expected_percent(answer, rubric),
                    expected_verdicts=dict(answer.expected.verdicts),
                    expected_misconceptions=list(answer.expected.misconceptions),
                    passed=ok,
                    message="" if ok else f"scored {g.percent if g.percent is not None else g.status}, expected {lo:g}-{hi:g}%",
                )
            )
            if on_case:
                on_case(results[-1])
        reference = None
        for canary in canaries_for(rubric, bank):
            g = grade(rubric, canary.text)
            if canary.id == "reference":
                reference = g
            failure = canary.check(g, reference)
            results.append(
                CaseResult(
                    question_id=qid,
                    case_id=f"canary-{canary.id}",
                    kind="canary",
                    rubric_hash=rubric.content_hash(),
                    status=g.status,
                    percent=g.percent,
                    verdicts={c.id: c.verdict for c in g.criteria},
                    misconceptions=g.listed_misconception_ids,
                    passed=failure is None,
                    message=failure or "",
                )
            )
            if on_case:
                on_case(results[-1])
    return results


def compute_metrics(
    results: list[CaseResult], thresholds: Thresholds, new_band_failures: int = 0, new_disagreements: int = 0
) -> RunMetrics:
    golden = [r for r in results if r.kind != "canary"]
    canaries = [r for r in results if r.kind == "canary"]
    graded = [r for r in golden if r.percent is not None]
    pairs = [(r.expected_verdicts[c], r.verdicts[c]) for r in golden for c in r.expected_verdicts if c in r.verdicts]
    expected_mis = sum(len(r.expected_misconceptions) for r in golden)
    found_mis = sum(len(set(r.expected_misconceptions) & set(r.misconceptions)) for r in golden)
    false_alarms = sum(len(set(r.misconceptions) - set(r.expected_misconceptions)) for r in golden)
    m = RunMetrics(
        golden_answers=len(golden),
        band_pass_rate=round(sum(r.passed for r in golden) / len(golden), 4) if golden else None,
        criterion_agreement=round(sum(e == g for e, g in pairs) / len(pairs), 4) if pairs else None,
        criteria_compared=len(pairs),
        spearman=metrics.spearman([r.expected_percent for r in graded], [r.percent for r in graded]),
        qwk=metrics.quadratic_kappa([r.expected_percent for r in graded], [r.percent for r in graded]),
        misconception_recall=round(found_mis / expected_mis, 4) if expected_mis else None,
        misconception_false_alarms=false_alarms,
        canaries=len(canaries),
        canary_pass_rate=round(sum(r.passed for r in canaries) / len(canaries), 4) if canaries else None,
        by_kind={k: _figure([r for r in golden if r.kind == k]) for k in get_args(AnswerKind) if any(r.kind == k for r in golden)},
        wrong_with_right_words=_figure([r for r in golden if r.kind in WRONG_WITH_RIGHT_WORDS]),
        refutation_false_alarms=sum(
            len(set(r.misconceptions) - set(r.expected_misconceptions)) for r in golden if r.kind == "refutation"
        ),
    )
    t = thresholds
    checks = [
        ("band pass rate", m.band_pass_rate, t.band_pass_rate),
        ("criterion agreement", m.criterion_agreement, t.criterion_agreement),
        ("Spearman", m.spearman, t.spearman),
        ("QWK", m.qwk, t.qwk),
        ("canary pass rate", m.canary_pass_rate, t.canary_pass_rate),
    ]
    for kind, limit in t.band_pass_rate_by_kind.items():
        fig = m.by_kind.get(kind)
        checks.append((f"band pass rate of {kind} answers", fig.band_pass_rate if fig else None, limit))
    if t.wrong_with_right_words is not None and m.wrong_with_right_words is not None:
        checks.append(("wrong claims with the right words", m.wrong_with_right_words.band_pass_rate, t.wrong_with_right_words))
    if t.max_refutation_false_alarms is not None and m.refutation_false_alarms > t.max_refutation_false_alarms:
        m.failures.append(
            f"{m.refutation_false_alarms} misconception false alarm(s) on refutation answers "
            f"(allowed {t.max_refutation_false_alarms})"
        )
    for name, value, limit in checks:
        if value is not None and value < limit:
            m.failures.append(f"{name} {value:.3f} < {limit:.3f}")
    if new_band_failures > t.max_new_band_failures:
        m.failures.append(f"{new_band_failures} band(s) broke against the baseline (allowed {t.max_new_band_failures})")
    if new_disagreements > t.max_new_disagreements:
        m.failures.append(
            f"{new_disagreements} verdict(s) that matched the expected one in the baseline no longer do "
            f"(allowed {t.max_new_disagreements})"
        )
    return m


def _figure(cases: list[CaseResult]) -> KindFigure | None:
    if not cases:
        return None
    passed = sum(r.passed for r in cases)
    return KindFigure(answers=len(cases), passed=passed, band_pass_rate=round(passed / len(cases), 4))


class Flip(BaseModel):
    question_id: str
    case_id: str
    criterion: str
    before: str
    after: str
    expected: str | None = None

    @property
    def regression(self) -> bool:
        """It agreed with the expected verdict before and does not now."""
        return self.expected is not None and self.before == self.expected != self.after


def diff_results(before: list[CaseResult], after: list[CaseResult]) -> tuple[list[Flip], list[CaseResult], list[CaseResult]]:
    """Verdicts that flipped, cases that broke (passed before, fail now) and cases that were fixed."""
    old = {(r.question_id, r.case_id): r for r in before}
    flips: list[Flip] = []
    broke: list[CaseResult] = []
    fixed: list[CaseResult] = []
    for r in after:
        o = old.get((r.question_id, r.case_id))
        if o is None:
            continue
        for c, v in r.verdicts.items():
            if c in o.verdicts and o.verdicts[c] != v:
                flips.append(Flip(question_id=r.question_id, case_id=r.case_id, criterion=c, before=o.verdicts[c],
                                  after=v, expected=r.expected_verdicts.get(c)))
        if o.passed and not r.passed:
            broke.append(r)
        elif r.passed and not o.passed:
            fixed.append(r)
    return flips, broke, fixed
