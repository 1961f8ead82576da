"""Finding a rubric's key terms in an answer: substring matching for Chinese, word-boundary
matching with flexible separators for English, and typo-tolerant matching for long words."""

from __future__ import annotations

import re
from functools import lru_cache

from grader.text.normalize import has_cjk, normalize

_WORD = re.compile(r"[a-z][a-z0-9]*")


@lru_cache(maxsize=16384)
def norm_term(term: str) -> str:
    """Rubric terms recur across gradings: normalise each once."""
    return normalize(term)


@lru_cache(maxsize=16384)
def _term_pattern(term: str) -> re.Pattern[str]:
    t = norm_term(term)
    if has_cjk(t):
        # Chinese: the spaces a writer puts between Chinese and English words vary.
        parts = [re.escape(ch) for ch in t.replace(" ", "")]
        return re.compile(r"\s?".join(parts))
    pieces = [re.escape(p) for p in re.split(r"[\s_\-]+", t) if p]
    # "running mean" = "running_mean" = "running-mean", and "p_j - y_j" = "p_j-y_j"
    body = r"\s?[_\-]?\s?".join(pieces)
    left = r"(?<![a-z0-9])" if t[:1].isalnum() else ""
    right = r"(?![a-z0-9])" if t[-1:].isalnum() else ""
    return re.compile(left + body + right)


def _typo_distance(word: str) -> int:
    return 0 if len(word) < 7 else (1 if len(word) < 11 else 2)


def _is_typo(word: str, term: str, limit: int, levenshtein) -> bool:
    """A misspelling of `term`, not another word that merely extends or shortens it
    ("resnetd" is not "resnet", "efficientnetv2" is not "efficientnet")."""
    if word == term or word.startswith(term) or term.startswith(word):
        return False
    return abs(len(word) - len(term)) <= limit and word[0] == term[0] and levenshtein.distance(word, term, score_cutoff=limit) <= limit


def find_term_all(term: str, norm_text: str, words: list[tuple[str, int, int]] | None = None) -> list[tuple[int, int]]:
    """Every occurrence of `term` (typo-tolerant for long single English words)."""
    spans = [m.span() for m in _term_pattern(term).finditer(norm_text)]
    t = norm_term(term)
    if not spans and words is not None and not has_cjk(t) and _WORD.fullmatch(t) and _typo_distance(t):
        from rapidfuzz.distance import Levenshtein

        limit = _typo_distance(t)
        spans = [(s, e) for w, s, e in words if _is_typo(w, t, limit, Levenshtein)]
    return spans


def words_of(norm_text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(norm_text)]


def term_spans(terms: tuple[str, ...], norm_text: str) -> list[tuple[int, int]]:
    """Every occurrence of any of `terms` (exact), for measuring how much of a text is terms."""
    spans = []
    for term in terms:
        spans.extend(m.span() for m in _term_pattern(term).finditer(norm_text))
    return spans


def find_group(group: list[str], norm_text: str, words: list[tuple[str, int, int]] | None = None) -> bool:
    """Whether any term of a concept group occurs in the text."""
    return any(find_term_all(term, norm_text, words) for term in group)


_NEGATION = re.compile(
    r"(不是|并非|而不是|并不是|不应该|不能说|不会|不能|并不会|没有|错误地?认为|误以为|"
    r"\bnot\b|isn't|is not|\bno\b|rather than|instead of|never|wrong(ly)?)\W*\S{0,6}$"
)


@lru_cache(maxsize=8192)
def _claim_pattern(pattern: str) -> re.Pattern[str]:
    """The bank has more patterns than re's own cache holds (512): compile each once."""
    return re.compile(pattern, re.IGNORECASE)


def find_claim(patterns: list[str], norm_text: str) -> re.Match[str] | None:
    """First match of a misconception pattern that is not explicitly negated just before it
    (just before its `claim` group, when it has one)."""
    for p in patterns:
        for m in _claim_pattern(p).finditer(norm_text):
            # A pattern may scan the whole sentence first (to skip sentences that make another
            # point) and mark where the claim itself starts with a group named `claim`.
            start = m.start("claim") if "claim" in m.re.groupindex else m.start()
            before = norm_text[max(0, start - 12) : start]
            if not _NEGATION.search(before):
                return m
    return None
