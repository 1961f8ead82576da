"""Drafting a rubric from a question and reference answers, for an author to edit.

Offline: the reference answers are split into sentences, sentences that say the same thing in
different references are merged (multilingual embeddings), the most shared ones become criteria,
and each criterion's key terms are extracted from its sentences (jieba TF-IDF for Chinese, English
technical tokens) and widened with the synonyms the existing bank already lists for them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from grader.rubric.models import Rubric
from grader.text.normalize import has_cjk, normalize
from grader.text.sentences import split_units

MAX_CRITERIA = 7
MIN_CRITERIA = 3
SAME_POINT = 0.78  # two sentences this similar make the same point
TERMS_PER_CRITERION = 3
MAX_PAIR_GROUP = 4  # a bank group this small is a set of spellings of one term
# The draft's English (or Chinese) side when the references are in one language only: left for the
# author (or the LLM path) to write, never a copy of the other language.
TO_WRITE = "TODO: write this in English"
TO_WRITE_ZH = "TODO: 写出中文"
_EN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*[A-Za-z0-9]")
_ZH_POS = ("n", "nz", "vn", "v", "a", "an", "eng", "l", "i")
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


def _candidate_terms(text: str, question: str) -> list[str]:
    """Technical terms of a sentence, most distinctive first; words of the question last."""
    import jieba.analyse

    jieba_log_off()
    q = normalize(question)
    terms: list[str] = []
    for tok in _EN_TOKEN.findall(text):
        if tok.lower() not in _STOP_EN and len(tok) >= 2:
            terms.append(tok)
    if has_cjk(text):
        terms.extend(t for t in jieba.analyse.extract_tags(text, topK=8, allowPOS=_ZH_POS) if has_cjk(t) and len(t) >= 2)
    seen: set[str] = set()
    unique = [t for t in terms if not (normalize(t) in seen or seen.add(normalize(t)))]
    return sorted(unique, key=lambda t: normalize(t) in q)  # stable: keeps the extraction order


def jieba_log_off() -> None:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)


def _groups_for(point: _Point, question: str) -> list[list[str]]:
    text = "；".join(point.sentences)
    synonyms = bank_synonyms()
    groups: list[list[str]] = []
    used: set[str] = set()
    for term in _candidate_terms(text, question):
        key = normalize(term)
        if key in used:
            continue
        group = [term, *_translations(term, synonyms.get(key, ()))]
        groups.append(group)
        used.update(normalize(t) for t in group)
        if len(groups) == TERMS_PER_CRITERION:
            break
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


def distill_offline(d: Draft) -> dict:
    points = key_points(d.references)
    chosen = [p for p in points if _groups_for(p, d.question_zh)][:MAX_CRITERIA]
    if len(chosen) < MIN_CRITERIA:
        raise DistillError(
            f"found {len(chosen)} distinct key point(s) in the reference answers; a rubric needs at least "
            f"{MIN_CRITERIA}: give a longer reference answer or more of them"
        )
    criteria, ids = [], set()
    for n, p in enumerate(chosen, start=1):
        cid = _slug(" ".join(g[0] for g in _groups_for(p, d.question_zh) if re.match(r"[A-Za-z]", g[0])), n)
        while cid in ids:
            cid = f"{cid}-{n}"
        ids.add(cid)
        statement = p.sentences[0]
        groups = _groups_for(p, d.question_zh)
        criteria.append(
            {
                "id": cid,
                "points": 2 if (len(p.refs) > 1 or n <= 3) else 1,  # shared or leading points weigh more
                "statement": _bilingual(statement),
                "key_terms": groups,
                "min_groups": max(1, len(groups) - 1),
            }
        )
    question = d.question_zh.strip()
    core = question.rstrip("？?。. ")
    return {
        "id": d.question_id,
        "version": 1,
        "category": d.category,
        "type": d.qtype,
        "sources": d.sources or ["distilled"],
        "question": {"zh": question, "en": d.question_en or f"{TO_WRITE} ({d.question_id})"},  # unique: lint checks phrasings
        "aliases": [f"请讲一下：{core}", f"能说说{core}吗？"],
        "reference_answer": {"zh": d.references[0].strip(), "en": None},
        "criteria": criteria,
        "misconceptions": [],
        "follow_ups": [{"zh": f"能举一个具体的例子说明“{criteria[0]['statement']['zh'][:30]}”吗？",
                        "en": "Can you give a concrete example of your first point?"}],
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
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return f"# {note}\n" + body
