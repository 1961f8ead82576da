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
    method: str  # "id" (given by the file), "exact", "lexical", "embedding", "none"
    candidates: list[tuple[str, float]] = field(default_factory=list)  # best three
    ambiguous: bool = False  # another question fits about as well: never a sure match


LEXICAL_FLOOR = 0.7  # below this, shared boilerplate ("what is the difference between") says nothing


_STOPWORDS = frozenset(
    "a an the is are was were what which how why when do does did can could would you your me us we i "
    "of in on for to and or with between about there it its this that these those explain describe tell "
    "difference differences compare".split()
)


def _content_words(text: str) -> str:
    return " ".join(w for w in re.findall(r"[a-z0-9]+", normalize(text)) if w not in _STOPWORDS)


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
        return self.match_many([(question, question_id)])[0]

    def match_many(self, questions: list[tuple[str, str | None]]) -> list[Match]:
        """Match every (question, question id given by the file) at once: the questions are
        embedded in one call and compared with every phrasing in one matrix product, so a
        transcript of a thousand questions is matched in seconds."""
        out: list[Match | None] = [None] * len(questions)
        free: list[int] = []
        for n, (question, question_id) in enumerate(questions):
            if question_id:
                if question_id in self.bank.rubrics:
                    out[n] = Match(question_id, 1.0, "id", [(question_id, 1.0)])
                else:
                    out[n] = Match(None, 0.0, "none", [(s, 0.0) for s in self.bank.suggest(question_id)])
            elif not compact(question):
                out[n] = Match(None, 0.0, "none")
            else:
                free.append(n)
        if free:
            from grader.text import embed

            texts = [questions[n][0] for n in free]
            lexical = self._lexical_matrix(texts)
            semantic = embed.encode_bulk(texts) @ self._phrasing_vectors().T
            for row, n in enumerate(free):
                key = compact(questions[n][0])
                exact = {qid for qid, text in zip(self.ids, self.texts) if compact(text) == key}
                if len(exact) == 1:  # the very words of one bank question win over any near match
                    qid = exact.pop()
                    out[n] = Match(qid, 1.0, "exact", [(qid, 1.0)])
                else:
                    out[n] = self._best(lexical[row], semantic[row])
        return out  # type: ignore[return-value]

    def _lexical_matrix(self, questions: list[str]) -> np.ndarray:
        """Near-verbatim similarity of every (question, phrasing) pair. Chinese: on the characters,
        and a short phrasing found inside a longer question also counts ("讲一下 BN 的原理吧" holds
        most of "BN 层原理"). English: on content words, so shared boilerplate ("what is the
        difference between") counts for nothing."""
        from rapidfuzz import fuzz
        from rapidfuzz.process import cdist

        q_cjk = np.array([has_cjk(q) for q in questions])[:, None]
        p_cjk = np.array([has_cjk(p) for p in self.texts])[None, :]
        q_compact, p_compact = [compact(q) for q in questions], [compact(p) for p in self.texts]
        ratio = cdist(q_compact, p_compact, scorer=fuzz.ratio, dtype=np.float64, workers=1) / 100.0
        partial = cdist(q_compact, p_compact, scorer=fuzz.partial_ratio, dtype=np.float64, workers=1) / 100.0
        short = np.minimum(np.array([len(q) for q in q_compact])[:, None], np.array([len(p) for p in p_compact])[None, :])
        cjk_score = np.where(short >= 5, np.maximum(ratio, 0.9 * partial), ratio)
        words = cdist(
            [_content_words(q) for q in questions], [_content_words(p) for p in self.texts],
            scorer=fuzz.ratio, dtype=np.float64, workers=1,  # word order counts: "a over b" is not "b over a"
        ) / 100.0
        score = np.where(q_cjk | p_cjk, cjk_score, words)
        return np.where(score >= LEXICAL_FLOOR, score, 0.0).astype(np.float32)

    def _best(self, lexical: np.ndarray, semantic: np.ndarray) -> Match:
        best: dict[str, tuple[float, str]] = {}
        for qid, lex, sem in zip(self.ids, lexical, semantic):
            score, method = (float(lex), "lexical") if lex >= sem else (float(sem), "embedding")
            if qid not in best or score > best[qid][0]:
                best[qid] = (score, method)
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
        (top_id, (top, method)), second = ranked[0], ranked[1][1][0] if len(ranked) > 1 else 0.0
        confidence = top
        ambiguous = top - second < AMBIGUITY_MARGIN
        if ambiguous:
            confidence = top - AMBIGUITY_MARGIN  # two questions fit about equally well
        candidates = [(qid, round(s, 3)) for qid, (s, _) in ranked[:3]]
        return Match(top_id, round(max(confidence, 0.0), 3), method, candidates, ambiguous)
