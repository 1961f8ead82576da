"""Drafting a rubric from a question and reference answers, for an author to edit.

Offline: the reference answers are split into sentences, sentences that say the same thing in
different references are merged (multilingual embeddings), the most shared ones become criteria,
and each criterion's key terms are extracted from its sentences (jieba TF-IDF for Chinese, English
technical tokens) and widened with the synonyms the existing bank already lists for them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from grader.rubric.models import QuestionType, Rubric, Slug
from grader.text.normalize import has_cjk, normalize
from grader.text.sentences import split_units
from grader.text.terms import jieba_log_off

MAX_CRITERIA = 7
SAME_POINT = 0.78  # two sentences this similar make the same point
TERMS_PER_CRITERION = 6
MAX_PAIR_GROUP = 2  # a bank group of one term and its translation: a translation, not a concept
# The draft's English (or Chinese) side when the references are in one language only: left for the
# author (or the LLM path) to write, never a copy of the other language.
TO_WRITE = "TODO: write this in English"
TO_WRITE_ZH = "TODO: 写出中文"
_EN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*[A-Za-z0-9]|[A-Za-z]\([^()\s]{1,12}\)|\d+(?:\.\d+)?")
_FORMULA = re.compile(r"[A-Za-z]\([^()\s]{1,12}\)")  # O(n), f(x)
_ZH_POS = ("n", "vn", "v", "a", "l", "i", "eng", "m")
_VERDICT_EN = frozenset({"true", "false", "yes", "no"})
_VERDICT_ZH = frozenset({"正确", "错误", "不对", "对的", "错的"})
_STOP_EN = frozenset(
    "the and for with that this from are was were can will into when then than also use used using "
    "which each only more most very such not but its their has have had all any some one two".split()
)


class DistillError(ValueError):
    pass


@dataclass
class Draft:
    question_id: str
    category: str
    qtype: str
    question_zh: str
    question_en: str | None
    references: list[str]
    sources: list[str] = field(default_factory=list)


class JsonlQuestion(BaseModel):
    """One line of `grader rubric distill --jsonl`: a question and its reference answer(s)."""

    model_config = ConfigDict(extra="ignore")

    id: Slug
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    type: QuestionType = "concept"
    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
    question_en: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    references: Annotated[list[Annotated[str, StringConstraints(max_length=20_000)]], Field(min_length=1, max_length=20)]

    @field_validator("references", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        """One reference may be given bare; numbers ("42") are references too."""
        value = [value] if isinstance(value, (str, int, float)) else value
        return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value] if isinstance(value, list) else value


@dataclass
class _Point:
    sentences: list[str]
    refs: set[int]
    first_pos: tuple[int, int]


def _sentences(text: str) -> list[str]:
    out = []
    for u in split_units(text):
        s = u.text.strip().rstrip("。.;；")
        if len(re.sub(r"\W", "", s)) >= 6:
            out.append(s)
    return out


def key_points(references: list[str]) -> list[_Point]:
    """Sentences of all references grouped by meaning, most shared first, then in reading order."""
    from grader.text import embed

    items = [(r, i, s) for r, ref in enumerate(references) for i, s in enumerate(_sentences(ref))]
    if not items:
        raise DistillError("the reference answers contain no sentences")
    vecs = embed.encode([s for _, _, s in items])
    points: list[_Point] = []
    centroids: list = []
    for (r, i, s), v in zip(items, vecs):
        best, best_sim = None, SAME_POINT
        for k, c in enumerate(centroids):
            sim = float(c @ v)
            if sim >= best_sim:
                best, best_sim = k, sim
        if best is None:
            points.append(_Point([s], {r}, (r, i)))
            centroids.append(v)
        else:
            points[best].sentences.append(s)
            points[best].refs.add(r)
    points.sort(key=lambda p: (-len(p.refs), p.first_pos))
    return points


@lru_cache(maxsize=1)
def bank_synonyms() -> dict[str, tuple[str, ...]]:
    """term (normalised) -> its translations that the shipped bank itself vouches for.

    A bank key-term group is a concept, not a dictionary entry ("anchor" sits next to 单阶段 and
    密集 in one rubric's group), so a translation is taken only where the term matches a group
    entry exactly and either the group is a tight pair of spellings (at most four entries) or the
    same translation sits next to the term in at least two groups, in at least half of the groups
    that hold the term."""
    from collections import Counter, defaultdict

    from grader.rubric.bank import Bank

    groups_of: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for rubric in Bank.load().rubrics.values():
        for crit in rubric.criteria:
            for group in crit.key_terms:
                for term in group:
                    key = normalize(term)
                    if len(key) >= 2:
                        groups_of[key].append(tuple(group))
    best: dict[str, set[str]] = {}  # key -> the other-language entries most often beside it
    spelled: dict[str, str] = {}
    tight: dict[str, list[str]] = {}
    for key, groups in groups_of.items():
        cjk = has_cjk(key)
        counts: Counter = Counter()
        for group in groups:
            others = {normalize(x): x for x in group if has_cjk(x) != cjk and len(normalize(x)) >= 2}
            for norm, raw in others.items():
                counts[norm] += 1
                spelled.setdefault(norm, raw)
            if len(group) <= MAX_PAIR_GROUP:
                tight.setdefault(key, []).extend(others)
        top = max(counts.values(), default=0)
        best[key] = {t for t, n in counts.items() if n == top and n >= 2 and 2 * n >= len(groups)}
    table: dict[str, tuple[str, ...]] = {}
    for key in groups_of:
        # mutual: "检测" is most often beside "detection" and "detection" beside "检测"
        mutual = [t for t in sorted(best[key]) if key in best.get(t, ())]
        chosen = list(dict.fromkeys([*tight.get(key, []), *mutual]))
        if chosen:
            table[key] = tuple(spelled[t] for t in chosen)
    return table


def _en_stop() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS | _STOP_EN) - _VERDICT_EN


def _key(term: str) -> str:
    """What makes two spellings one term: the Snowball stem for English words."""
    from grader.text.terms import stem_en

    t = normalize(term)
    return t if has_cjk(t) else " ".join(stem_en(w) for w in t.split())


def content_terms(text: str) -> list[str]:
    """Content words of a text in reading order, once each: English word tokens without stop
    words, numbers and formulas, Chinese jieba words that carry meaning; verdict words kept."""
    import jieba.posseg

    jieba_log_off()
    stop = _en_stop()
    terms: list[str] = []
    for m in _EN_TOKEN.finditer(text):
        tok = m.group()
        low = tok.lower()
        if low in _VERDICT_EN or re.fullmatch(r"\d+(\.\d+)?", tok) or _FORMULA.fullmatch(tok):
            terms.append(tok)
        elif re.match(r"[A-Za-z]", tok) and low not in stop and len(tok) >= 2:
            terms.append(tok)
    if has_cjk(text):
        for w in jieba.posseg.cut(text):
            word = w.word.strip()
            if has_cjk(word) and (word in _VERDICT_ZH or (len(word) >= 2 and w.flag.startswith(_ZH_POS))):
                terms.append(word)
    seen: set[str] = set()
    return [t for t in terms if not (_key(t) in seen or seen.add(_key(t)))]


class Weights:
    """Inverse document frequency of a term over a set of documents: the other questions'
    references and a general background, so a term that every answer in the subject uses
    weighs little and the term that tells this question's answer apart weighs most."""

    def __init__(self, docs: list[str]):
        self.docs = [normalize(d) for d in docs if d.strip()]
        self._keys = [{_key(t) for t in content_terms(d)} for d in docs if d.strip()]
        self._cache: dict[str, float] = {}

    def idf(self, term: str) -> float:
        import math

        k = _key(term)
        if k not in self._cache:
            if has_cjk(k):
                df = sum(k in d for d in self.docs)
            else:
                df = sum(k in keys for keys in self._keys)
            self._cache[k] = math.log((len(self.docs) + 1) / (df + 1)) + 1
        return self._cache[k]


def _in_question(term: str, question: str) -> bool:
    q = normalize(question)
    if has_cjk(term):
        return normalize(term) in q
    qkeys = {_key(w) for w in _EN_TOKEN.findall(q)}
    return _key(term) in qkeys


def _candidate_terms(text: str, question: str, weights: Weights | None = None) -> list[str]:
    """Content terms of a point, most distinctive first; words of the question only when the
    point says nothing else."""
    terms = content_terms(text)
    own = [t for t in terms if not _in_question(t, question)] or terms
    if weights is None:
        return own
    return sorted(own, key=lambda t: -weights.idf(t))  # stable: ties keep reading order


def _groups_for(point: _Point, question: str, weights: Weights | None = None) -> list[list[str]]:
    text = "；".join(point.sentences)
    synonyms = bank_synonyms()
    groups: list[list[str]] = []
    used: set[str] = set()
    for term in _candidate_terms(text, question, weights):
        key = normalize(term)
        if key in used:
            continue
        group = [term, *_translations(term, synonyms.get(key, ()))]
        groups.append(group)
        used.update(normalize(t) for t in group)
        if len(groups) == TERMS_PER_CRITERION:
            break
    if not groups:  # a verdict or a symbol: the reference itself is the term
        groups.append([text.strip()[:60]])
    return groups


def _translations(term: str, group: tuple[str, ...], limit: int = 4) -> list[str]:
    """The bank-vouched translations of `term` (see `bank_synonyms`)."""
    cjk = has_cjk(term)
    return [t for t in group if has_cjk(t) != cjk and len(t) <= 20][:limit]


def _bilingual(text: str) -> dict:
    """A statement in the language it was written in; the other side is left for the author."""
    return {"zh": text, "en": TO_WRITE} if has_cjk(text) else {"zh": TO_WRITE_ZH, "en": text}


def _slug(text: str, n: int) -> str:
    words = re.findall(r"[a-z0-9]+", normalize(text))[:4]
    return "-".join(words) if words else f"point-{n}"


def _points(references: list[str]) -> list[_Point]:
    """Key points of the references; a reference too short to split is one point, and points
    beyond the limit join the last criterion rather than being dropped."""
    try:
        points = key_points(references)
    except DistillError:
        points = [_Point([r.strip()], {i}, (i, 0)) for i, r in enumerate(references) if r.strip()][:1]
        if not points:
            raise
    if len(points) > MAX_CRITERIA:
        last = points[MAX_CRITERIA - 1]
        for extra in points[MAX_CRITERIA:]:
            last.sentences.extend(extra.sentences)
            last.refs |= extra.refs
        points = points[:MAX_CRITERIA]
    return points


def background() -> list[str]:
    """General documents for term weights: the shipped bank's reference answers."""
    from grader.rubric.bank import Bank

    return [t for r in Bank.load().rubrics.values() for t in r.reference_answer.texts()]


def distill_offline(d: Draft, weights: Weights | None = None) -> dict:
    """A rubric from the references alone; never refuses a reference that has any text. `weights`
    (term IDF over the other questions' references and a background) picks the key terms."""
    refs = [r for r in d.references if r.strip()]
    if not refs:
        raise DistillError("the reference answers are empty")
    if weights is None:
        weights = Weights([*refs, *background()])
    points = _points(refs)
    criteria, ids = [], set()
    for n, p in enumerate(points, start=1):
        groups = _groups_for(p, d.question_zh, weights)
        cid = _slug(" ".join(g[0] for g in groups if re.match(r"[A-Za-z]", g[0])), n)
        while cid in ids:
            cid = f"{cid}-{n}"
        ids.add(cid)
        criteria.append(
            {
                "id": cid,
                "points": 2 if (len(p.refs) > 1 or n <= 3) else 1,  # shared or leading points weigh more
                "statement": _bilingual(p.sentences[0]),
                "key_terms": groups,
                "min_groups": max(1, (len(groups) + 1) // 2),
            }
        )
    question = d.question_zh.strip()
    core = question.rstrip("？?。. ")
    first = criteria[0]["statement"]
    return {
        "id": d.question_id,
        "version": 1,
        "category": d.category,
        "type": d.qtype,
        "sources": d.sources or ["distilled"],
        "question": {"zh": question, "en": d.question_en or f"{TO_WRITE} ({d.question_id})"},  # unique: lint checks phrasings
        "aliases": [f"请讲一下：{core}", f"能说说{core}吗？"] if has_cjk(core) else [f"Please explain: {core}", f"Can you tell me: {core}?"],
        "reference_answer": {"zh": refs[0].strip(), "en": None, "others": [r.strip() for r in refs[1:]]},
        "criteria": criteria,
        "misconceptions": [],
        "follow_ups": [{"zh": f"能举一个具体的例子说明“{first['zh'][:30]}”吗？" if first["zh"] != TO_WRITE_ZH else "能举一个具体的例子说明你的第一点吗？",
                        "en": "Can you give a concrete example of your first point?"}],
        "origin": "distilled",
    }


def finish(data: dict) -> tuple[Rubric, list[str]]:
    """Validate a draft; return it with the lint problems an author must still fix."""
    from pathlib import Path

    from pydantic import ValidationError

    from grader.rubric.lint import lint_rubric

    try:
        rubric = Rubric.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DistillError(f"the draft is not a valid rubric: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None
    problems = [p.message for p in lint_rubric(Path(f"{rubric.id}.yaml"), rubric)]
    return rubric, problems


def to_yaml(rubric: Rubric, note: str) -> str:
    import yaml

    data = rubric.model_dump(mode="json", exclude_none=True)
    for c in data["criteria"]:
        c["points"] = int(c["points"]) if float(c["points"]).is_integer() else c["points"]
    if data.get("code_check") is None:
        data.pop("code_check", None)
    if not data["reference_answer"].get("others"):
        data["reference_answer"].pop("others", None)
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return f"# {note}\n" + body
