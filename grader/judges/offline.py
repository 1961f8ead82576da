"""The offline judge: key-term coverage plus multilingual sentence embeddings. Runs with no
key and no network, and gives the same grading for the same answer every time."""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from grader.grading.models import (
    VERDICT_FRACTION,
    CriterionGrade,
    Evidence,
    Grading,
    JudgeInfo,
    MisconceptionHit,
    Usage,
    graded,
)
from grader.grading.feedback import build_feedback, answer_language
from grader.rubric.models import Criterion, Rubric
from grader.text import embed
from grader.text.normalize import normalize
from grader.text.sentences import Unit, split_units
from grader.text.terms import find_claim, find_term_all, norm_term, term_spans, words_of

VERSION = "offline-v1"

# Similarity (cosine, multilingual USE) between an answer sentence and a criterion statement.
SIM_SUPPORT = 0.30  # below this, key terms alone look like a keyword list, not a claim
SIM_PARTIAL = 0.52  # a paraphrase without the key terms earns partial credit
SIM_MET = 0.60  # with all but one concept group present, a close paraphrase completes it
LIST_LEFTOVER = 0.6  # word characters outside key terms, per term segment, in a keyword list

ECHO_SIM = 0.85  # a sentence this similar to the question restates it
_INTERROGATIVE = re.compile(r"([?？]|[吗呢么][\s。.!！]*)$")

_IDK = re.compile(
    r"^(嗯|呃|啊|那个|这个|抱歉|对不起|sorry|um|uh|\W)*"
    r"(我?(真的|完全|确实)?(不知道|不清楚|不了解|不会|不太懂|不懂|没学过|没有学过|忘了|记不清|答不上来?)"
    r"|i\s*(really\s*)?(don'?t|do not)\s*know|no idea|not sure|i forgot|pass|skip)"
)


@dataclass
class _UnitInfo:
    unit: Unit
    norm: str
    is_list: bool = False
    is_wrong: bool = False  # asserts one of the rubric's misconceptions


class _Answer:
    """The answer's sentences, normalised and joined once, so each key term is searched once."""

    def __init__(self, units: list[_UnitInfo]):
        self.units = units
        self.starts: list[int] = []
        pos = 0
        for u in units:
            self.starts.append(pos)
            pos += len(u.norm) + 1
        # NUL joins the sentences: no term pattern can match across it.
        self.text = "\x00".join(u.norm for u in units)
        self.words = words_of(self.text)

    def unit_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def units_with(self, term: str) -> list[int]:
        return sorted({self.unit_of(s) for s, _ in find_term_all(term, self.text, self.words)})


@dataclass
class _GroupHit:
    group: int
    unit: int
    term: str
    echo: bool  # the term also occurs in the question itself


def judge_info() -> JudgeInfo:
    return JudgeInfo(
        kind="offline",
        model=f"{VERSION}+{embed.MODEL_NAME}",
        params={
            "sim_support": SIM_SUPPORT,
            "sim_partial": SIM_PARTIAL,
            "sim_met": SIM_MET,
            "list_leftover": LIST_LEFTOVER,
        },
    )


class OfflineJudge:
    kind = "offline"

    def info(self) -> JudgeInfo:
        return judge_info()

    def grade(self, rubric: Rubric, answer: str) -> Grading:
        started = time.perf_counter()
        info = self.info()
        units = [_UnitInfo(u, normalize(u.text)) for u in split_units(answer)]
        lang = answer_language(answer)
        idk = _is_idk(answer)
        sims = None
        if units and not idk:
            sims, echo = _similarities(rubric, units)
            # Questions and restatements of the question make no claim: no credit, no penalty.
            keep = [j for j, u in enumerate(units) if not (echo[j] or _INTERROGATIVE.search(u.norm))]
            units, sims = [units[j] for j in keep], sims[:, keep]
        misconceptions = [] if idk else _find_misconceptions(rubric, units, lang)
        parsed = _Answer(units)
        _mark_keyword_lists(parsed, rubric)
        criteria = [
            _grade_criterion(rubric, c, i, parsed, sims, idk) for i, c in enumerate(rubric.criteria)
        ]
        feedback = build_feedback(rubric, criteria, misconceptions, lang, idk=idk)
        usage = Usage(calls=0, latency_s=round(time.perf_counter() - started, 4))
        return graded(rubric, info, criteria, misconceptions, feedback, usage=usage)


def _is_idk(answer: str) -> bool:
    norm = normalize(answer)
    return len(re.sub(r"\W", "", norm)) <= 40 and bool(_IDK.search(norm))


@lru_cache(maxsize=512)
def _question_text(rubric: Rubric) -> str:
    phrasings = [rubric.question.zh, rubric.question.en, *rubric.aliases]
    return "\n".join(normalize(p) for p in phrasings)


@lru_cache(maxsize=512)
def _all_terms(rubric: Rubric) -> tuple[str, ...]:
    terms = {t for c in rubric.criteria for g in c.key_terms for t in g}
    return tuple(sorted(terms, key=len, reverse=True))


def _mark_keyword_lists(parsed: _Answer, rubric: Rubric) -> None:
    """A sentence that is mostly bare key terms ("running mean, EMA, momentum, eval, 冻结")
    makes no claim: at least four term segments with almost nothing said between them."""
    spans_by_unit: dict[int, list[tuple[int, int]]] = {}
    for s, e in term_spans(_all_terms(rubric), parsed.text):
        j = parsed.unit_of(s)
        spans_by_unit.setdefault(j, []).append((s - parsed.starts[j], e - parsed.starts[j]))
    for j, spans in spans_by_unit.items():
        norm = parsed.units[j].norm
        covered = [False] * len(norm)
        segments, last_end = 0, -1
        for s, e in sorted(spans):
            if s > last_end:
                segments += 1
            last_end = max(last_end, e)
            covered[s:e] = [True] * (e - s)
        if segments >= 4:
            leftover = sum(1 for ch, c in zip(norm, covered) if not c and ch.isalnum())
            parsed.units[j].is_list = leftover <= LIST_LEFTOVER * segments


@lru_cache(maxsize=256)
def _rubric_vectors(rubric: Rubric) -> tuple[np.ndarray, np.ndarray]:
    """Criterion statements (zh, en interleaved) and the question, embedded once per rubric."""
    texts = [t for c in rubric.criteria for t in (c.statement.zh, c.statement.en)]
    vecs = embed.encode(texts + [rubric.question.zh, rubric.question.en])
    return vecs[: len(texts)], vecs[len(texts) :]


def _similarities(rubric: Rubric, units: list[_UnitInfo]) -> tuple[np.ndarray, np.ndarray]:
    """sims[i, j]: best similarity between criterion i's statement (zh or en) and unit j;
    echo[j]: unit j restates the question."""
    answer_vecs = embed.encode([u.unit.text for u in units])
    statements, question = _rubric_vectors(rubric)
    pair = (statements @ answer_vecs.T).reshape(len(rubric.criteria), 2, len(units))
    sims = pair.max(axis=1)
    echo = (question @ answer_vecs.T).max(axis=0) >= ECHO_SIM
    return sims, echo


def _group_hits(rubric: Rubric, crit: Criterion, parsed: _Answer, row: np.ndarray) -> list[_GroupHit]:
    """For each concept group, the best sentence that expresses it: a substantive term over a
    word of the question, then the sentence closest to the criterion."""
    question = _question_text(rubric)
    units = parsed.units
    hits: list[_GroupHit] = []
    for g, group in enumerate(crit.key_terms):
        candidates = [
            _GroupHit(g, j, term, norm_term(term) in question) for term in group for j in parsed.units_with(term)
        ]
        if candidates:
            hits.append(max(candidates, key=lambda h: (not h.echo, not units[h.unit].is_list, float(row[h.unit]))))
    return hits


def _grade_criterion(
    rubric: Rubric, crit: Criterion, index: int, parsed: _Answer, sims: np.ndarray | None, idk: bool
) -> CriterionGrade:
    units = parsed.units
    need = crit.groups_needed
    if idk or not units:
        return _make(crit, "missed", [], 0.95, "The answer does not address this point.", units)
    row = sims[index] if sims is not None and sims.shape[1] else np.zeros(len(units))
    hits = _group_hits(rubric, crit, parsed, row)
    flags: list[str] = []
    # Words taken from the question earn nothing unless a substantive term comes with them.
    if hits and all(h.echo for h in hits):
        hits, flags = [], ["question_words_only"]
    # Terms found only inside keyword lists count for at most partial credit, and a sentence
    # that asserts a known wrong claim is no evidence for a criterion.
    claim_hits = [h for h in hits if not units[h.unit].is_list and not units[h.unit].is_wrong]
    if any(units[h.unit].is_list for h in hits):
        flags.append("keyword_list")
    if any(units[h.unit].is_wrong for h in hits):
        flags.append("in_wrong_claim")
    hit_units = sorted({h.unit for h in claim_hits})
    support = float(max((row[j] for j in hit_units), default=0.0))
    best_sim = float(row.max())
    m = len(claim_hits)

    if m >= need and support >= SIM_SUPPORT:
        verdict = "met"
    elif m >= need - 1 and m >= 1 and best_sim >= SIM_MET:
        verdict = "met"
    elif m >= 1 or best_sim >= SIM_PARTIAL:
        verdict = "partial"
    else:
        verdict = "missed"
    if m >= need and support < SIM_SUPPORT:
        flags.append("weak_context")

    evidence_units = hit_units or ([int(row.argmax())] if verdict != "missed" else [])
    strength = 0.7 * min(m / need, 1.0) + 0.3 * min(max((best_sim - 0.2) / 0.5, 0.0), 1.0)
    confidence = _margin_confidence(strength)
    found = ", ".join(h.term for h in claim_hits) or "none"
    rationale = (
        f"Key concepts found {m}/{len(crit.key_terms)} (needed {need}): {found}; "
        f"closest sentence similarity {best_sim:.2f}."
    )
    return _make(crit, verdict, evidence_units, confidence, rationale, units, flags)


def _margin_confidence(strength: float) -> float:
    """Distance of the evidence strength from the nearest verdict boundary, mapped to [0.5, 1]."""
    margin = min(abs(strength - 0.35), abs(strength - 0.75))
    return round(min(1.0, 0.5 + margin / 0.5), 2)


def _make(
    crit: Criterion,
    verdict: str,
    unit_ids: list[int],
    confidence: float,
    rationale: str,
    units: list[_UnitInfo],
    flags: list[str] | None = None,
) -> CriterionGrade:
    evidence = [
        Evidence(quote=units[j].unit.text, start=units[j].unit.start, end=units[j].unit.end, verified=True)
        for j in unit_ids[:3]
    ]
    return CriterionGrade(
        id=crit.id,
        verdict=verdict,  # type: ignore[arg-type]
        points=round(crit.points * VERDICT_FRACTION[verdict], 2),
        max_points=crit.points,
        evidence=evidence,
        evidence_verified=bool(evidence),
        rationale=rationale,
        confidence=confidence,
        flags=flags or [],
        needs_review=confidence < 0.6,
    )


def _find_misconceptions(rubric: Rubric, units: list[_UnitInfo], lang: str) -> list[MisconceptionHit]:
    found: list[MisconceptionHit] = []
    for mis in rubric.misconceptions:
        for u in units:
            if find_claim(mis.patterns, u.norm):
                u.is_wrong = True
                found.append(
                    MisconceptionHit(
                        id=mis.id,
                        claim=getattr(mis.claim, lang),
                        correction=getattr(mis.correction, lang),
                        penalty=mis.penalty,
                        evidence=[Evidence(quote=u.unit.text, start=u.unit.start, end=u.unit.end, verified=True)],
                    )
                )
                break
    return found


__all__ = ["OfflineJudge", "judge_info"]
