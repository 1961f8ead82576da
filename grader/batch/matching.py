"""Matching a question heard in an interview to a bank question: lexical similarity to every
phrasing (question, aliases) and multilingual embedding similarity, with a confidence."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from grader.text.normalize import compact, has_cjk, normalize

AMBIGUITY_MARGIN = 0.03  # top two this close: the match is less sure


@dataclass
class Match:
    question_id: str | None
    confidence: float
    method: str  # "id" (given by the file), "lexical", "embedding", "none"
    candidates: list[tuple[str, float]] = field(default_factory=list)  # best three


LEXICAL_FLOOR = 0.7  # below this, shared boilerplate ("what is the difference between") says nothing


_STOPWORDS = frozenset(
    "a an the is are was were what which how why when do does did can could would you your me us we i "
    "of in on for to and or with between about there it its this that these those explain describe tell "
    "difference differences compare".split()
)


def _content_words(text: str) -> str:
    return " ".join(w for w in re.findall(r"[a-z0-9]+", normalize(text)) if w not in _STOPWORDS)


def _lexical(question: str, phrasing: str, fuzz) -> float:
    """Near-verbatim similarity. Chinese: on the characters, and a short phrasing found inside a
    longer question also counts ("讲一下 BN 的原理吧" holds most of "BN 层原理"). English: on
    content words, so shared boilerplate ("what is the difference between") counts for nothing."""
    if has_cjk(question) or has_cjk(phrasing):
        q, p = compact(question), compact(phrasing)
        score = fuzz.ratio(q, p) / 100.0
        if min(len(q), len(p)) >= 5:
            score = max(score, 0.9 * fuzz.partial_ratio(q, p) / 100.0)
    else:
        score = fuzz.token_sort_ratio(_content_words(question), _content_words(phrasing)) / 100.0
    return score if score >= LEXICAL_FLOOR else 0.0


class QuestionMatcher:
    def __init__(self, bank):
        self.bank = bank
        self.ids: list[str] = []
        self.texts: list[str] = []
        for r in bank.rubrics.values():
            for text in (r.question.zh, r.question.en, *r.aliases):
                self.ids.append(r.id)
                self.texts.append(text)
        self._vectors: np.ndarray | None = None

    def _phrasing_vectors(self) -> np.ndarray:
        if self._vectors is None:
            from grader.text import embed

            self._vectors = embed.encode(self.texts)
        return self._vectors

    def match(self, question: str, question_id: str | None = None) -> Match:
        if question_id:
            if question_id in self.bank.rubrics:
                return Match(question_id, 1.0, "id", [(question_id, 1.0)])
            return Match(None, 0.0, "none", [(s, 0.0) for s in self.bank.suggest(question_id)])
        from rapidfuzz import fuzz
        from grader.text import embed

        q = compact(question)
        if not q:
            return Match(None, 0.0, "none")
        lexical = np.array([_lexical(question, t, fuzz) for t in self.texts], dtype=np.float32)
        semantic = self._phrasing_vectors() @ embed.encode([question])[0]
        best: dict[str, tuple[float, str]] = {}
        for qid, lex, sem in zip(self.ids, lexical, semantic):
            score, method = (float(lex), "lexical") if lex >= sem else (float(sem), "embedding")
            if qid not in best or score > best[qid][0]:
                best[qid] = (score, method)
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
        (top_id, (top, method)), second = ranked[0], ranked[1][1][0] if len(ranked) > 1 else 0.0
        confidence = top
        if top < 0.85 and top - second < AMBIGUITY_MARGIN:
            confidence = top - AMBIGUITY_MARGIN  # two questions fit about equally well
        candidates = [(qid, round(s, 3)) for qid, (s, _) in ranked[:3]]
        return Match(top_id, round(max(confidence, 0.0), 3), method, candidates)
