"""A rubric regression run: grade every golden answer and canary, compare with the expectations,
compute the agreement figures, and check them against the thresholds."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from grader.evals import metrics
from grader.evals.canaries import canaries_for
from grader.evals.golden import GoldenSet, check_against_rubric, expected_percent, golden_dir, load_golden


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


def run_cases(bank, grader, questions: list[str], golden: dict[str, GoldenSet], on_case=None) -> list[CaseResult]:
    results: list[CaseResult] = []
    for qid in questions:
        rubric = bank.get(qid)
        gs = golden.get(qid)
        for answer in gs.answers if gs else []:
            g = grader.grade(rubric, answer.text).grading
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
                    misconceptions=[m.id for m in g.misconceptions],
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
            g = grader.grade(rubric, canary.text).grading if canary.text.strip() else _empty(grader, rubric)
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
                    misconceptions=[m.id for m in g.misconceptions],
                    passed=failure is None,
                    message=failure or "",
                )
            )
            if on_case:
                on_case(results[-1])
    return results


def _empty(grader, rubric):
    return grader.grade(rubric, "").grading


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
    )
    t = thresholds
    checks = [
        ("band pass rate", m.band_pass_rate, t.band_pass_rate),
        ("criterion agreement", m.criterion_agreement, t.criterion_agreement),
        ("Spearman", m.spearman, t.spearman),
        ("QWK", m.qwk, t.qwk),
        ("canary pass rate", m.canary_pass_rate, t.canary_pass_rate),
    ]
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
