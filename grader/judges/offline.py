"""The offline judge: key-term coverage plus multilingual sentence embeddings. Runs with no
key and no network, and gives the same grading for the same answer every time.

It grades claims, not vocabulary: a criterion's concept groups must be met inside one claim (a
sentence, or two sentences the second of which refers back), terms the sentence denies count for
nothing, and a claim that turns one of the criterion's relations round earns nothing for it."""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from grader.grading.feedback import answer_language, build_feedback, wrong_point_claim
from grader.grading.models import (
    TURNED_SHARE,
    VERDICT_FRACTION,
    CriterionGrade,
    Evidence,
    Grading,
    JudgeInfo,
    MisconceptionHit,
    Usage,
    graded,
    turned_penalty,
    unscored,
)
from grader.judges import relations, semantic
from grader.rubric.models import Criterion, Rubric
from grader.text import embed
from grader.text.negation import Denials, denials, negation_scopes, negators, refutes_previous
from grader.text.normalize import normalize
from grader.text.sentences import Unit, linked, list_runs, same_sentence, split_units
from grader.text.terms import find_claim, find_term_all, norm_term, pattern_timeouts, term_spans, words_of

VERSION = "offline-v6"

# Similarity (cosine, multilingual USE) between an answer sentence and a criterion statement.
SIM_SUPPORT = 0.25  # below this, key terms alone look like a keyword list, not a claim
# One concept earns partial credit in a sentence that reads somewhat like the point, or as a short
# item that names it ("- 剪枝"); inside a longer sentence about something else it is a word.
SIM_LONE = 0.36
LONE_ITEM_WORDS = 12
_WORD = re.compile(r"[\u4e00-\u9fff]|[a-z0-9]+")
SIM_PARTIAL = 0.60  # a paraphrase without the key terms earns partial credit
SIM_MET = 0.65  # with all but one concept group present, a close paraphrase completes it
SIM_MET_ONE = 0.72  # ... and this close when the one group present is the only other one
LIST_LEFTOVER = 0.6  # word characters outside key terms, per term segment, in a keyword list

ECHO_SIM = 0.85  # a sentence this similar to the question (or one of its phrasings) restates it
ECHO_MARGIN = 0.05  # similarity alone earns partial only when a sentence is closer to the point than to the question
ECHO_MIN_CHARS = 8  # a shorter fragment found in the question is no restatement of it
# A question asks rather than claims: it ends in 吗/呢/么, or in "?" with a question word. A
# statement said with a rising tone ("It is passed as a pointer?") still makes its claim.
_INTERROGATIVE = re.compile(
    r"[吗呢么][\s。.!！?？]*$"
    r"|^(?=.*(?:什么|为什么|为何|怎么|怎样|如何|哪|是否|是不是|有没有|能不能|会不会|多少|几)).*[?？]\s*$"
    r"|^\W*(?:what|why|how|which|who|whom|whose|when|where|is|are|was|were|do|does|did|can|could|should|would|will|shall|isn['’]t|aren['’]t|don['’]t|doesn['’]t)\b.*[?？]\s*$"
)

_IDK = re.compile(
    r"^(嗯|呃|啊|那个|这个|抱歉|对不起|sorry|um|uh|\W)*"
    r"(我?(真的|完全|确实)?(不知道|不清楚|不了解|不会|不太懂|不懂|没学过|没有学过|忘了|记不清|答不上来?)"
    r"|i\s*(really\s*)?(don'?t|do not)\s*know|no idea|not sure|i forgot|pass|skip)"
    r"(?![a-z])"  # "pass", not "passed as a pointer"
)


@dataclass
class _UnitInfo:
    unit: Unit
    norm: str
    is_list: bool = False
    refuted: bool = False  # put up only to be rejected ("有人说 X，这是错的")
    den: Denials | None = None
    # Where the sentence asserts one of the rubric's misconceptions (the clauses of each match).
    wrong: list[tuple[int, int]] = field(default_factory=list)

    @property
    def is_wrong(self) -> bool:
        return bool(self.wrong)

    @property
    def usable(self) -> bool:
        """Whether the sentence can be evidence for a criterion (what it says before a wrong
        claim still can; the wrong claim and what follows it in the sentence cannot)."""
        return not self.refuted

    def in_wrong(self, pos: int) -> bool:
        return any(s <= pos < e for s, e in self.wrong)

    def claim_text(self) -> str:
        """The sentence with its wrong part blanked out (offsets kept)."""
        text = self.norm
        for s, e in self.wrong:
            text = text[:s] + " " * (e - s) + text[e:]
        return text



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
        self._seen: dict[tuple, tuple[list[int], list[int], bool]] = {}  # terms recur across criteria
        self._carried: dict[tuple[str, ...], list[tuple[int, int]]] = {}
        self.lists = list_runs([u.unit for u in units])  # a heading and its items

    def unit_of(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def units_with(
        self, term: str, affirmative: bool = False, late: bool = False, carriers: tuple[str, ...] = ()
    ) -> tuple[list[int], list[int], bool]:
        """Sentences that assert `term`, sentences that negate it ("不用 batch 的均值"), and whether
        it occurs inside a wrong claim. Refuted occurrences count for nothing. For a point stated
        affirmatively, a term anywhere in a negation's scope is negated ("原论文也没有把 BN 放在
        非线性之前"); for a point that is itself a negation ("轴对齐框框不住旋转物体"), only a term
        right after a negator is. `carriers` are the point's terms that carry their own negator
        ("没区别", "不依赖 batch"): their negator denies nothing around them, and a term inside one
        ("依赖 batch") is part of it, neither asserted nor denied."""
        key = (term, affirmative, late, carriers)
        if key not in self._seen:
            self._seen[key] = self._units_with(term, affirmative, late, carriers)
        return self._seen[key]

    def _owned(self, carriers: tuple[str, ...]) -> list[tuple[int, int]]:
        if carriers not in self._carried:
            self._carried[carriers] = sorted(s for t in carriers for s in find_term_all(t, self.text, self.words))
        return self._carried[carriers]

    def _units_with(
        self, term: str, affirmative: bool, late: bool, carriers: tuple[str, ...]
    ) -> tuple[list[int], list[int], bool]:
        found, negated, in_wrong = set(), set(), False
        owned_all = self._owned(carriers)
        owned_in: dict[int, list[tuple[int, int]]] = {}  # unit -> carrier spans, local to it
        for a, b in owned_all:
            j = self.unit_of(a)
            owned_in.setdefault(j, []).append((a - self.starts[j], b - self.starts[j]))
        spans = [(s, e) for s, e in find_term_all(term, self.text, self.words)
                 if not any(a <= s and e <= b and (a, b) != (s, e) for a, b in owned_all)]
        # "看的是 x 而不是 Wx+b，Wx+b 是…": a term the sentence rejects is not asserted by it elsewhere.
        rejecting = set()
        for s, _ in spans:
            j = self.unit_of(s)
            if self.units[j].den is not None and self.units[j].den.is_rejected(s - self.starts[j]):
                rejecting.add(j)
        for s, _ in spans:
            j = self.unit_of(s)
            u, local = self.units[j], s - self.starts[j]
            owned = owned_in.get(j, [])
            if u.in_wrong(local):
                in_wrong = True
            elif u.den is not None and u.den.is_refuted(local):
                continue
            elif j in rejecting:
                negated.add(j)
            elif u.den is not None and (
                (u.den.is_negated_beside(local, owned) or (late and u.den.is_late_negated(local, owned)))
                if affirmative
                else u.den.negates_term(local, u.norm)
            ):
                negated.add(j)
            else:
                found.add(j)
        return sorted(found), sorted(negated), in_wrong


@dataclass
class _Claim:
    units: tuple[int, ...]
    groups: set[int]  # concept groups asserted by a substantive term (not only a question word)
    echo_groups: set[int]  # groups present only through words of the question
    list_groups: set[int]  # groups present only inside a keyword list
    terms: list[str]
    sim: float
    clean_sim: float  # similarity of its sentences that assert no wrong claim
    statuses: list[str]
    denied: set[int]  # concept groups the claim negates ("训练时不用 batch 的均值")
    size: int = 0  # words (a Chinese character counts as one) in its sentences
    verdict: str = "missed"

    @property
    def reversed(self) -> bool:
        return "reversed" in self.statuses


def judge_info() -> JudgeInfo:
    return JudgeInfo(
        kind="offline",
        model=f"{VERSION}+{embed.MODEL_NAME}",
        params={
            "sim_support": SIM_SUPPORT,
            "sim_partial": SIM_PARTIAL,
            "sim_met": SIM_MET,
            "sim_met_one": SIM_MET_ONE,
            "list_leftover": LIST_LEFTOVER,
            "turned_share": TURNED_SHARE,
            "blend": semantic.BLEND,  # for distilled rubrics and those with few criteria
            "blend_below_criteria": semantic.FEW_CRITERIA,
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
        _mark_denials(units)
        lang = answer_language(answer)
        idk = _is_idk(answer)
        sims = qsim = None
        if units and not idk:
            sims, qsim = _similarities(rubric, units)
            # Questions and restatements of the question make no claim: no credit, no penalty.
            keep = [
                j for j, u in enumerate(units)
                if not (qsim[j] >= ECHO_SIM or _echoes(rubric, u.norm) or _INTERROGATIVE.search(u.norm))
            ]
            units, sims, qsim = [units[j] for j in keep], sims[:, keep], qsim[keep]
        with pattern_timeouts() as timed_out:
            misconceptions = [] if idk else _find_misconceptions(rubric, units, lang)
        parsed = _Answer(units)
        _mark_keyword_lists(parsed, rubric)
        claims = _claim_units(units)
        judged = [_grade_criterion(rubric, c, i, parsed, claims, sims, idk, qsim) for i, c in enumerate(rubric.criteria)]
        criteria = [g for g, _ in judged]
        if not idk:  # few criteria: verdicts blended with a continuous score (see semantic.py)
            # A bare list of terms says nothing, unless the point is itself a list ("5S：整理、整顿…").
            per_criterion = [
                [u.claim_text() for j, u in enumerate(units)
                 if u.usable and j not in rejected and (not u.is_list or _enumerates(c))]
                for c, (_, rejected) in zip(rubric.criteria, judged)
            ]
            semantic.apply(rubric, criteria, per_criterion, semantic.blend_weight(rubric))
        misconceptions += _wrong_points(rubric, criteria, lang)
        feedback = build_feedback(rubric, criteria, misconceptions, lang, idk=idk)
        usage = Usage(calls=0, latency_s=round(time.perf_counter() - started, 4))
        if timed_out:
            # A wrong-claim check that ran out of time decided nothing: the answer might make that
            # claim unpenalised, so it gets no score (unscored gradings are never served again).
            ids = sorted({m.id for m in rubric.misconceptions for p in timed_out if p in m.patterns})
            reason = f"wrong-claim check incomplete: a pattern of {', '.join(ids) or 'a misconception'} ran out of time"
            return unscored(rubric, info, reason, usage=usage)
        return graded(rubric, info, criteria, misconceptions, feedback, usage=usage)


def _mark_denials(units: list[_UnitInfo]) -> None:
    """What each sentence denies, and which sentences are claims put up to be rejected: refuted
    inside the sentence, or by the next one ("测试时用 batch 的均值。这是错的。")."""
    for j, u in enumerate(units):
        u.den = denials(u.norm)
        u.refuted = u.den.fully_refuted or (j + 1 < len(units) and refutes_previous(units[j + 1].norm))


def _claim_units(units: list[_UnitInfo]) -> list[tuple[int, ...]]:
    """Every sentence on its own, and each pair that makes one claim ("X。它…")."""
    claims: list[tuple[int, ...]] = [(j,) for j in range(len(units))]
    for j in range(len(units) - 1):
        if linked(units[j].unit, units[j + 1].unit):
            claims.append((j, j + 1))
    # A sentence split at semicolons is one claim as a whole too.
    start = 0
    for j in range(1, len(units) + 1):
        if j == len(units) or not same_sentence(units[j - 1].unit, units[j].unit):
            if j - start >= 2:
                claims.append(tuple(range(start, j)))
            start = j
    return list(dict.fromkeys(claims))


def _is_idk(answer: str) -> bool:
    norm = normalize(answer)
    return len(re.sub(r"\W", "", norm)) <= 40 and bool(_IDK.search(norm))


@lru_cache(maxsize=512)
def _question_text(rubric: Rubric) -> str:
    phrasings = [rubric.question.zh, rubric.question.en, *rubric.aliases]
    return "\n".join(normalize(p) for p in phrasings)


@lru_cache(maxsize=512)
def _question_compact(rubric: Rubric) -> str:
    """The question's phrasings with all spacing removed: "/ PH" and "/PH" are one echo."""
    return re.sub(r"\s+", "", _question_text(rubric))


def _echoes(rubric: Rubric, norm: str) -> bool:
    """A sentence copied out of the question (or one of its phrasings), whatever its spacing."""
    compact = re.sub(r"[\s。.!！;；,，]+$", "", re.sub(r"\s+", "", norm))
    return len(compact) >= ECHO_MIN_CHARS and compact in _question_compact(rubric)


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


# An enumeration's items: split at list delimiters and conjunctions; each short and naming a term.
_ITEM_SPLIT = re.compile(r"[、，,;；：:]|以及|和|及|与|\band\b|\bor\b")
ENUMERATION_ITEMS = 3
ITEM_CHARS_ZH, ITEM_WORDS_EN = 12, 6


def _enumerates(crit: Criterion) -> bool:
    """Whether the criterion's statement is itself a list ("标准性，分布性，复杂性，动态性"): three
    or more short items in a row, each naming one of its key terms."""
    return _enumerates_text(crit.statement.zh, crit.statement.en, tuple(t for g in crit.key_terms for t in g))


@lru_cache(maxsize=4096)
def _enumerates_text(zh: str, en: str, terms: tuple[str, ...]) -> bool:
    for statement in (zh, en):
        run = 0
        for item in _ITEM_SPLIT.split(normalize(statement)):
            item = item.strip()
            short = len(item.split()) <= ITEM_WORDS_EN if item.isascii() else len(item) <= ITEM_CHARS_ZH
            run = run + 1 if item and short and any(find_term_all(t, item) for t in terms) else 0
            if run >= ENUMERATION_ITEMS:
                return True
    return False


@lru_cache(maxsize=256)
def _rubric_vectors(rubric: Rubric) -> tuple[np.ndarray, np.ndarray]:
    """Criterion statements (zh, en interleaved) and the question, embedded once per rubric."""
    texts = [t for c in rubric.criteria for t in (c.statement.zh, c.statement.en)]
    vecs = embed.encode(texts + [rubric.question.zh, rubric.question.en, *rubric.aliases])
    return vecs[: len(texts)], vecs[len(texts) :]


def _similarities(rubric: Rubric, units: list[_UnitInfo]) -> tuple[np.ndarray, np.ndarray]:
    """sims[i, j]: best similarity between criterion i's statement (zh or en) and unit j;
    qsim[j]: unit j's similarity to the question (any phrasing)."""
    answer_vecs = embed.encode([u.unit.text for u in units])
    statements, question = _rubric_vectors(rubric)
    pair = (statements @ answer_vecs.T).reshape(len(rubric.criteria), 2, len(units))
    sims = pair.max(axis=1)
    return sims, (question @ answer_vecs.T).max(axis=0)


def _claims_for(
    rubric: Rubric, crit: Criterion, parsed: _Answer, claim_units: list[tuple[int, ...]], row: np.ndarray
) -> tuple[list[_Claim], bool]:
    """The criterion's concept groups found in each claim (sentences that assert a wrong claim or
    are refuted are left out first), and how each claim stands towards its relations."""
    compact = _question_compact(rubric)
    units = parsed.units
    # group -> unit -> (term, echo) of the terms asserted there
    by_unit: dict[int, dict[int, list[tuple[str, bool]]]] = {}
    negated_in: dict[int, set[int]] = {}  # unit -> groups it negates
    in_wrong = False
    affirmative = _affirmative(crit)
    # "遮挡变化也不大" denies its subject; where a direction relation reads that negation itself
    # (a turned-round claim, flagged), the subject must stay.
    late = affirmative and not any(r.kind == "direction" for r in crit.relations)
    said = _statement_groups(crit)
    carriers = tuple(t for group in crit.key_terms for t in group if negators(norm_term(t)))
    for g, group in enumerate(crit.key_terms):
        for term in group:
            echo = re.sub(r"\s+", "", norm_term(term)) in compact
            found, negated, wrong = parsed.units_with(term, affirmative, late, carriers)
            in_wrong |= wrong
            if g in said.privative:  # "缺少归纳偏置" is said "没有卷积的归纳偏置"; "并不缺少…" still denies it
                kept = {j for j in negated if _DENIED_LACK.search(units[j].norm)}
                found, negated = sorted({*found, *negated} - kept), sorted(kept)
            elif g in said.denied:  # "if no constructor is provided": "not provided" agrees, "provided" not
                found, negated = negated, found
            for j in found:
                by_unit.setdefault(j, {}).setdefault(g, []).append((term, echo))
            for j in negated:
                negated_in.setdefault(j, set()).add(g)
    claims: list[_Claim] = []
    # A list under a heading is one claim for a point that is a list or a sequence; a point that
    # binds roles or directions is read item by item, so that items cannot pool.
    lists = parsed.lists if all(r.kind == "order" for r in crit.relations) else []
    enumeration = _enumerates(crit)  # a point that is a list is answered by a list
    for ids in list(dict.fromkeys(claim_units + lists + _contrast_runs(crit, parsed))):
        if not all(units[j].usable for j in ids) or not any(j in by_unit or j in negated_in for j in ids):
            continue
        groups, echo_groups, list_groups, terms = set(), set(), set(), []
        for j in ids:
            for g, found in by_unit.get(j, {}).items():
                substantive = [t for t, echo in found if not echo]
                if units[j].is_list and not enumeration:
                    list_groups.add(g)
                elif substantive:
                    groups.add(g)
                    terms.append(substantive[0])
                else:
                    echo_groups.add(g)
        if groups:
            groups |= echo_groups  # a question word counts beside a substantive term
        denied = set().union(*(negated_in.get(j, set()) for j in ids)) - groups - echo_groups - list_groups
        # A sentence that also asserts a wrong claim reads like the criterion partly because of
        # it: its similarity supports key terms but completes nothing.
        sim = float(max(row[j] for j in ids))
        clean_sim = float(max((row[j] for j in ids if not units[j].is_wrong), default=0.0))
        statuses: list[str] = []
        if crit.relations and groups:
            text = "\x00".join(units[j].claim_text() for j in ids)
            statuses = [_settled_enough(r, relations.evaluate(r, text)) for r in crit.relations]
        claims.append(
            _Claim(ids, groups, echo_groups - groups, list_groups - groups, terms, sim, clean_sim, statuses, denied,
                   size=sum(len(_WORD.findall(units[j].norm)) for j in ids))
        )
    return claims, in_wrong


# Words that say something is missing or kept away without a negator: a point such as "ViT 缺少
# CNN 的归纳偏置" or "it avoids copying large structures" is stated by a candidate as "ViT 没有卷积
# 的归纳偏置" or "it does not copy large data", where the negation is the point itself.
_PRIVATIVE = re.compile(
    r"缺少|缺乏|缺失|避免|防止|免去|省去|\black(?:s|ing)?\b|\bwithout\b|\bavoid(?:s|ed|ing)?\b|\bprevent(?:s|ed|ing)?\b"
)
PRIVATIVE_REACH = 12  # characters after a privative word or a negator that a term may start (Chinese)
PRIVATIVE_REACH_EN = 24  # "do not have a return type"
PRIVATIVE_CLAUSE = 60  # characters of its clause that a privative word ("缺少", "avoids") governs
# "并不缺少", "无法避免", "doesn't lack": a negated privative word says the thing is there after all.
_DENIED_LACK = re.compile(
    r"(?:不|没|没有|并不|并非|不是|并没有|无法|不能)\s?(?:缺少|缺乏|缺失|避免|防止)"
    r"|(?:\bnot|n['’]t|\bnever)\s(?:\w+\s)?(?:lack|avoid|prevent)"
)


class _StatementGroups(NamedTuple):
    """How a criterion's statement speaks of each concept group."""

    stated: frozenset[int]  # groups it names
    privative: frozenset[int]  # said missing ("ViT 缺少归纳偏置"), or both denied and asserted
    denied: frozenset[int]  # only denied ("if no constructor is provided")


def _statement_groups(crit: Criterion) -> _StatementGroups:
    return _statement_groups_of(crit.statement.zh, crit.statement.en, tuple(map(tuple, crit.key_terms)))


@lru_cache(maxsize=4096)
def _statement_groups_of(zh: str, en: str, key_terms: tuple[tuple[str, ...], ...]) -> _StatementGroups:
    """Where a candidate who negates a group agrees with the point: a privative point is also met
    by naming the thing ("归纳偏置更弱"); a group the statement only denies is contradicted by a
    candidate who asserts it; a group it both denies and asserts ("constructors have no return
    type, functions have one") may be named either way."""
    stated, privative, negated, asserted = set(), set(), set(), set()
    for statement in (zh, en):
        norm = normalize(statement)
        inside: set[tuple[int, int]] = set()  # (group, start) of terms in a denial's window
        denials_in = [(m, privative) for m in _PRIVATIVE.finditer(norm)] + [(m, negated) for m in negators(norm)]
        for m, kind in denials_in:
            # what is missing or avoided is the rest of its clause ("avoids making copies of large
            # data structures"); a negator reaches the next few words
            reach = PRIVATIVE_CLAUSE if kind is privative else PRIVATIVE_REACH_EN if m.group()[0].isascii() else PRIVATIVE_REACH
            window = norm[m.end() : m.end() + reach + 10]
            cut = _CLAUSE_END.search(window)
            window = window[: cut.start()] if cut else window
            for g, group in enumerate(key_terms):
                for s in (s for t in group for s, _ in find_term_all(t, window) if s < reach):
                    kind.add(g)
                    inside.add((g, m.end() + s))
        for g, group in enumerate(key_terms):
            spans = [s for t in group for s, _ in find_term_all(t, norm)]
            if spans:
                stated.add(g)
            if any((g, s) not in inside for s in spans):
                asserted.add(g)
    return _StatementGroups(
        frozenset(stated), frozenset(privative | (negated & asserted)), frozenset(negated - asserted - privative)
    )


def _affirmative(crit: Criterion) -> bool:
    """Whether the point is stated without a negation (in either language)."""
    return _affirmative_text(crit.statement.zh, crit.statement.en)


@lru_cache(maxsize=4096)
def _affirmative_text(*statements: str) -> bool:
    return not any(negation_scopes(normalize(t)) for t in statements)


def _contrast_runs(crit: Criterion, parsed: _Answer) -> list[tuple[int, ...]]:
    """A comparison told one entity per sentence ("BN 对 batch 维度统计。LN 对每个样本统计。") is
    one claim: runs of adjacent sentences that each speak of another entity of a `binds` relation."""
    runs: list[tuple[int, ...]] = []
    for rel in crit.relations:
        if rel.kind != "binds":
            continue
        about: dict[int, set[int]] = {}
        for k, pair in enumerate(rel.pairs):
            for term in pair.entity:
                for j in parsed.units_with(term)[0]:
                    about.setdefault(j, set()).add(k)
        j = 0
        while j < len(parsed.units):
            run, seen = [], set()
            while j < len(parsed.units) and j in about and not about[j] <= seen and len(run) < len(rel.pairs):
                run.append(j)
                seen |= about[j]
                j += 1
            if len(run) >= 2:
                runs.append(tuple(run))
            j += 1 if not run else 0
    return runs


# A relation is settled by a claim that states it the right way or names none of its terms.
SETTLED = ("satisfied", "silent")


def _settled_enough(relation, status: str) -> str:
    """A relation that is not `required` holds back no claim that leaves it unsettled."""
    return "silent" if status == "absent" and not relation.required else status


def _claim_verdict(c: _Claim, need: int, elsewhere: list[bool]) -> str:
    """Met needs enough groups in this one claim, a claim that reads like the criterion, and every
    relation satisfied, in this claim or in another claim on the same point; a relation the answer
    does not settle leaves it partial."""
    m = len(c.groups)
    settled = all(s in SETTLED or (s == "absent" and ok) for s, ok in zip(c.statuses, elsewhere))
    if c.reversed or m == 0:
        return "missed"
    if c.denied:
        return "missed"  # a claim that denies part of the point says the opposite
    # A close paraphrase may stand in for one missing group; for the only other one of a two-part
    # point it must be closer still (one concept plus a loose likeness is no claim).
    close = c.clean_sim >= (SIM_MET if m >= 2 else SIM_MET_ONE)
    if settled and ((m >= need and c.sim >= SIM_SUPPORT) or (m >= need - 1 and close)):
        return "met"
    # Partial credit needs half the point: one lone concept of a three-part point is a mention.
    # (What a sentence says before its wrong claim still counts; the wrong part itself is blanked.)
    if m == 1 and c.sim < SIM_LONE and c.size > LONE_ITEM_WORDS:
        return "missed"  # one concept in a sentence about something else is a word, not a claim
    return "partial" if 2 * m >= need else "missed"


_RANK = {"met": 2, "partial": 1, "missed": 0}


def _grade_criterion(
    rubric: Rubric,
    crit: Criterion,
    index: int,
    parsed: _Answer,
    claim_units: list[tuple[int, ...]],
    sims: np.ndarray | None,
    idk: bool,
    qsim: np.ndarray | None = None,
) -> tuple[CriterionGrade, set[int]]:
    """The criterion's grade, and the sentences that deny its concepts or turn its relations round
    (they can speak for it in no other way either)."""
    units = parsed.units
    need = crit.groups_needed
    if idk or not units:
        return _make(crit, "missed", [], 0.95, "The answer does not address this point.", units), set()
    row = sims[index] if sims is not None and sims.shape[1] else np.zeros(len(units))
    claims, in_wrong = _claims_for(rubric, crit, parsed, claim_units, row)
    elsewhere = [
        any(c.statuses[k] == "satisfied" for c in claims if c.statuses and not c.reversed)
        for k in range(len(crit.relations))
    ]
    for c in claims:
        c.verdict = _claim_verdict(c, need, elsewhere)
    flags: list[str] = []
    turned = [c for c in claims if c.reversed]
    fair = [c for c in claims if not c.reversed]
    best = max(fair, key=lambda c: (_RANK[c.verdict], len(c.groups), c.sim), default=None)
    # Similarity alone earns partial credit, never more, and only from sentences that can be evidence.
    excluded = {j for c in turned for j in c.units} | {j for c in claims if c.denied for j in c.units}
    usable = [j for j, u in enumerate(units) if u.usable and not u.is_wrong and j not in excluded]
    best_sim = float(max((row[j] for j in usable), default=0.0))
    # What reads like the point more than like the question: similarity alone earns from it.
    qs = qsim if qsim is not None and len(qsim) == len(units) else np.zeros(len(units))
    own_sim = float(max((row[j] for j in usable if row[j] - qs[j] >= ECHO_MARGIN), default=0.0))
    m = len(best.groups) if best else 0

    if turned and best and best.verdict == "met" and not (
        len(best.groups) >= need and all(x in SETTLED for x in best.statuses)
    ):
        best.verdict = "partial"  # a turned-round claim is only outweighed by one that says it right
    verdict = best.verdict if best else "missed"
    if verdict == "missed" and own_sim >= SIM_PARTIAL and not turned:
        verdict = "partial"
    evidence_units = list(best.units) if best and best.verdict != "missed" else []
    relation_note = ""
    if turned and verdict != "met":
        # A claim that swaps the roles or turns the direction round is a wrong statement about
        # this point: no credit from anything weaker than a claim that gets it right.
        verdict, flags = "missed", ["reversed_relation"]
        evidence_units = list(turned[0].units)
        bad = [relations.describe(r) for r, s in zip(crit.relations, turned[0].statuses) if s == "reversed"]
        relation_note = f" Turned round: {', '.join(bad)}."
        best, m = turned[0], len(turned[0].groups)  # the rationale speaks of the turned claim
    elif turned:
        flags.append("reversed_relation")
    if best and best.statuses and verdict == "partial" and len(best.groups) >= need - 1:
        unsettled = [relations.describe(r) for r, s in zip(crit.relations, best.statuses) if s not in SETTLED]
        if unsettled:
            flags.append("relation_absent")
            relation_note = f" Not said which way: {', '.join(unsettled)}."
    if not best or not best.groups:
        if any(c.echo_groups for c in claims):
            flags.append("question_words_only")
        if any(c.list_groups for c in claims):
            flags.append("keyword_list")  # a bare list of terms makes no claim
    if in_wrong:
        flags.append("in_wrong_claim")
    if best and m >= need and best.sim < SIM_SUPPORT:
        flags.append("weak_context")
    if verdict == "partial" and not evidence_units and usable:
        evidence_units = [max(usable, key=lambda j: float(row[j]))]

    strength = 0.7 * min(m / need, 1.0) + 0.3 * min(max((best_sim - 0.2) / 0.5, 0.0), 1.0)
    confidence = _margin_confidence(strength)
    found = ", ".join(dict.fromkeys(best.terms)) if best and best.terms else "none"
    rationale = (
        f"Key concepts found together in one claim {m}/{len(crit.key_terms)} (needed {need}): {found}; "
        f"closest sentence similarity {best_sim:.2f}.{relation_note}"
    )
    # A sentence that denies the point speaks for nothing when the answer never asserts it ("it does
    # not simulate the behaviour…"): it denies at least as much of what the statement itself says
    # as it asserts. A denied key term that the statement does not name ("if a constructor is
    # defined…" drawn from elsewhere in the reference) may be denied rightly; when the point is met
    # elsewhere ("do-while runs at least once, whereas while may not run at all"), the denial is
    # about something else.
    silenced = {j for c in turned for j in c.units}
    if verdict == "missed":
        stated = _statement_groups(crit).stated
        denying = [c for c in claims if len(c.denied & stated) >= max(1, len(c.groups))]
        silenced |= {j for c in denying for j in c.units}
        # A claim that states the whole point and denies it ("BN 训练时不用 batch 的均值") says the
        # opposite of the point: a wrong claim, as a turned-round one is, unless its sentence is
        # already charged with a listed one (one wrong statement, one charge).
        whole = [c for c in denying if len(c.groups | c.denied) >= need and not any(units[j].is_wrong for j in c.units)]
        if whole and not turned:
            flags.append("denied_point")
            evidence_units = list(whole[0].units)
    return _make(crit, verdict, evidence_units, confidence, rationale, units, flags), silenced


def _wrong_points(rubric: Rubric, criteria: list[CriterionGrade], lang: str) -> list[MisconceptionHit]:
    """Each criterion that a claim turned round or denied whole, and nothing said right, as a
    wrong claim: the quote, and the criterion's statement as the correction. (A clause that
    asserts a listed misconception is not read for the criteria, so one wrong statement is not
    charged twice.)"""
    hits = []
    for g in criteria:
        kind = "turned" if "reversed_relation" in g.flags else "denied" if "denied_point" in g.flags else None
        if kind is None or g.verdict != "missed" or not g.evidence:
            continue
        crit = rubric.criterion(g.id)
        hits.append(
            MisconceptionHit(
                id=g.id,
                kind=kind,
                claim=wrong_point_claim(crit, kind, lang),
                correction=getattr(crit.statement, lang),
                penalty=turned_penalty(crit.points),
                evidence=g.evidence[:1],
            )
        )
    return hits


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


_CLAUSE_END = re.compile(r"[，,;；:：]")


WHOLE_SENTENCE_MATCH = 40  # a match this long scanned the sentence first: its claim is at its end


def _claim_position(start: int, end: int) -> int:
    return end - 1 if end - start > WHOLE_SENTENCE_MATCH else start


def _denied_claim(den: Denials, start: int, end: int) -> bool:
    """Whether the sentence rejects the claim matched at start..end ("用 running mean 没有意义，测试时
    就该用当前 batch 的均值": the rejected clause before a long match is not the claim)."""
    pos = _claim_position(start, end)
    return den.is_refuted(pos) or den.is_refuted(end - 1) or den.is_negated(pos)


def _wrong_clauses(norm: str, m: re.Match[str]) -> tuple[int, int]:
    """What a misconception match taints: from the clause where the claim starts to the end of the
    sentence (what follows builds on it: "…测试图片的均值和方差，用它们归一化"). A pattern that scans
    the whole sentence first (a long match, or one with a `claim` group) claims only near its end."""
    s, e = m.span()
    if "claim" in m.re.groupindex and m.start("claim") >= 0:
        s = m.start("claim")
    else:
        s = _claim_position(s, e)
    starts = [x.end() for x in _CLAUSE_END.finditer(norm, 0, s)]
    return (starts[-1] if starts else 0, len(norm))


def _find_misconceptions(rubric: Rubric, units: list[_UnitInfo], lang: str) -> list[MisconceptionHit]:
    """Each listed wrong claim the answer asserts, once, with its first sentence as evidence; every
    sentence that asserts one is marked, so none of them is evidence for a criterion."""
    found: list[MisconceptionHit] = []
    for mis in rubric.misconceptions:
        hit = False
        for u in units:
            if u.refuted:
                continue  # stated in order to be rejected: costs nothing
            den = u.den or denials(u.norm)
            m = find_claim(mis.patterns, u.norm, denied=lambda s, e, den=den: _denied_claim(den, s, e))
            if m:
                u.wrong.append(_wrong_clauses(u.norm, m))
                if hit:
                    continue
                hit = True
                found.append(
                    MisconceptionHit(
                        id=mis.id,
                        claim=getattr(mis.claim, lang),
                        correction=getattr(mis.correction, lang),
                        penalty=mis.penalty,
                        evidence=[Evidence(quote=u.unit.text, start=u.unit.start, end=u.unit.end, verified=True)],
                    )
                )
    return found


__all__ = ["OfflineJudge", "judge_info"]
