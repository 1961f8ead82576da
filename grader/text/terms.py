"""Finding a rubric's key terms in an answer: substring matching for Chinese, word-boundary
matching with flexible separators for English, and typo-tolerant matching for long words."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from grader.text.negation import mask_lexicalised
from grader.text.normalize import has_cjk, normalize

_WORD = re.compile(r"[a-z][a-z0-9]*")


@lru_cache(maxsize=16384)
def norm_term(term: str) -> str:
    """Rubric terms recur across gradings: normalise each once."""
    return normalize(term)


# Adverbs that may stand inside a Chinese term without changing what it says.
_CJK_FILLER = r"\s?(?:[也都还就会要得才]\s?)?"
# Edges of an English word that also hold next to a Chinese character ("就是enlarge"), where \b
# does not: normalising removes the space between them and both are word characters.
EN_LEFT, EN_RIGHT = r"(?<![a-z0-9_])", r"(?![a-z0-9_])"


@lru_cache(maxsize=16384)
def _term_pattern(term: str) -> re.Pattern[str]:
    t = norm_term(term)
    if has_cjk(t):
        # Chinese: the spaces a writer puts between Chinese and English words vary, and an adverb
        # may sit between two Chinese characters of a term ("收敛更快" said "收敛也更快").
        chars = t.replace(" ", "")
        gaps = [_CJK_FILLER if has_cjk(a) and has_cjk(b) else r"\s?" for a, b in zip(chars, chars[1:])]
        return re.compile("".join(re.escape(ch) + gap for ch, gap in zip(chars, [*gaps, ""])))
    body = _latin_body(t)
    if " " in t and re.search(r"[a-z]{3}$", t):
        body += "(?:e?s)?"  # a plural of a phrase's last word: "position embeddings"
    left = r"(?<![a-z0-9])" if t[:1].isalnum() else ""
    right = r"(?![a-z0-9])" if t[-1:].isalnum() else ""
    return re.compile(left + body + right)


_TOKEN = re.compile(r"[^\W_]+|\s+|.")
_OPERATORS = set("+*/=()^<>|")


def _latin_body(t: str) -> str:
    """Words: "running mean" = "running_mean" = "running-mean". Formulas keep their operators:
    "p-y" is not "p_y" nor "py", "tp/(tp+fp)" = "tp / (tp + fp)"; a hyphen or underscore is an
    operator when the term has other operators, is spaced ("p_j - y_j") or joins short symbols."""
    tokens = _TOKEN.findall(t)
    formula = any(ch in _OPERATORS for ch in t)
    out: list[str] = []
    for i, tok in enumerate(tokens):
        prev = tokens[i - 1] if i else ""
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok.isspace():
            if prev in ("-", "_") or nxt in ("-", "_") or prev in _OPERATORS or nxt in _OPERATORS:
                continue  # absorbed by the operator's own optional spaces
            out.append(r"\s?" if formula else r"\s?[_\-]?\s?")
        elif tok in ("-", "_"):
            spaced = prev.isspace() or nxt.isspace()
            short = len(prev.strip()) <= 2 and len(nxt.strip()) <= 2
            if formula or spaced or short:
                out.append(r"\s?-\s?" if tok == "-" else "_?")
            else:
                out.append(r"\s?[_\-]?\s?")
        elif tok in _OPERATORS:
            out.append(r"\s?" + re.escape(tok) + r"\s?")
        else:
            out.append(re.escape(tok))
    return "".join(out)


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
    if not spans and words is not None and not has_cjk(t) and _WORD.fullmatch(t) and len(t) >= 3:
        # English inflection: "allows" / "allowed" / "allowing" meet "allow"; derivations that
        # share a stem but mean something else ("difference" for "differ") do not.
        stem = stem_en(t)
        spans = [(s, e) for w, s, e in words if len(w) >= 3 and stem_en(w) == stem and inflection_of(w, t)]
    return spans


# What an English inflection adds to or changes at the end of a word ("study" → "studies").
_INFLECTIONS = frozenset({"", "s", "es", "d", "ed", "ing", "e", "y", "ies", "ied"})


def inflection_of(a: str, b: str) -> bool:
    """Whether two words differ only by an inflectional ending (and a doubled consonant:
    "run"/"running")."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    def ending(rest: str) -> str:
        doubled = len(rest) >= 3 and n > 0 and rest[0] == a[n - 1]
        return rest[1:] if doubled and rest[1:] in _INFLECTIONS else rest

    return ending(a[n:]) in _INFLECTIONS and ending(b[n:]) in _INFLECTIONS


@lru_cache(maxsize=65536)
def stem_en(word: str) -> str:
    """Snowball (Porter 2) stem of a lowercase English word."""
    return _stemmer().stemWord(word)


_local = threading.local()


def _stemmer():
    """This thread's stemmer: a Snowball stemmer keeps the word it works on in the object, so
    one shared between threads (an eval run grades coding answers in a pool) mixes words up."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import snowballstemmer

        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


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
def _claim_pattern(pattern: str):
    """The bank has more patterns than re's own cache holds (512): compile each once. The
    `regex` module runs the same syntax and, unlike re, can stop a search after a timeout."""
    import regex

    return regex.compile(pattern, regex.IGNORECASE | regex.VERSION0)


# A misconception pattern gets this long on one text; a team rubric's pattern that backtracks
# catastrophically cannot hang grading. A pattern that runs out of time has found nothing: the
# grading goes on and the timeout is reported (see pattern_timeouts).
PATTERN_TIMEOUT_S = 0.25
# A pattern that runs out of time is tried once more with this many times the limit before it
# counts as unfinished: on a busy machine a pause in scheduling, not the pattern, can use up the
# first limit (a backtracking pattern fails both).
PATTERN_RETRY = 4
_timeouts: ContextVar[list[str] | None] = ContextVar("pattern_timeouts", default=None)


@contextmanager
def pattern_timeouts() -> Iterator[list[str]]:
    """Collects the patterns that ran out of time inside the block, so a grading can say that
    a misconception check was incomplete."""
    token = _timeouts.set([])
    try:
        yield _timeouts.get()  # type: ignore[misc]
    finally:
        _timeouts.reset(token)


def find_claim(patterns: list[str], norm_text: str, denied=None, timeout: float | None = None):
    """First match of a misconception pattern that is not explicitly negated just before it
    (just before its `claim` group, when it has one). `denied(start, end)`, when given, says
    whether the sentence denies the claim matched there (a negation scope, a refuted claim)."""
    masked = mask_lexicalised(norm_text)  # "是不是超过", "差不多" deny nothing
    limit = timeout or PATTERN_TIMEOUT_S
    for p in patterns:
        for attempt in (limit, PATTERN_RETRY * limit):
            try:
                m = _first_claim(p, norm_text, masked, denied, attempt)
            except TimeoutError:
                continue
            if m is not None:
                return m
            break
        else:
            collected = _timeouts.get()
            if collected is not None:
                collected.append(p)
    return None


def _first_claim(pattern: str, norm_text: str, masked: str, denied, timeout: float):
    for m in _claim_pattern(pattern).finditer(norm_text, timeout=timeout):
        # A pattern may scan the whole sentence first (to skip sentences that make another
        # point) and mark where the claim itself starts with a group named `claim`.
        start = m.start("claim") if "claim" in m.re.groupindex else m.start()
        before = masked[max(0, start - 12) : start]
        if not _NEGATION.search(before) and not (denied and denied(start, m.end())):
            return m
    return None


# Chinese function words that carry no content of their own (jieba keeps them as words).
_ZH_FUNCTION = frozenset(
    "的 了 是 在 和 与 及 或 而 就 都 也 还 又 被 把 对 从 到 让 使 给 由 为 以 于 之 其 这 那 这个 那个 这些 那些 "
    "一个 一种 一些 可以 能 会 要 有 没有 不 很 更 最 所以 因为 如果 但是 然后 进行 通过 我们 你 我 他 它 它们 吗 呢 吧 啊".split()
)


# English function words: articles, pronouns, auxiliaries, prepositions, conjunctions. Not a
# general stop list: "first", "last", "empty", "top", "full" are content in a technical answer.
_EN_FUNCTION = frozenset(
    "a an the this that these those it its it's they them their there here we our us you your he she his her i me my "
    "is are was were be been being am do does did doing done have has had having will would shall should can could "
    "may might must of in on at by for with without from to into onto over under about as than then so such "
    "and or but nor not no if when while which who whom whose what where why how also too very just only "
    "any all each every some other another both either neither one ones".split()
)


@lru_cache(maxsize=4096)
def content_words(text: str) -> frozenset[str]:
    """The content words of a text, for comparing what two texts say: English words without stop
    words, as Snowball stems; numbers; Chinese jieba words without function words."""
    norm = normalize(text[:20_000])
    out = {stem_en(w) for w in re.findall(r"[a-z]+", norm) if len(w) > 1 and w not in _EN_FUNCTION}
    out |= set(re.findall(r"\d+(?:\.\d+)?", norm))
    if has_cjk(norm):
        import jieba

        jieba_log_off()
        out |= {w for w in jieba.lcut(re.sub(r"[a-z0-9]+", " ", norm)) if has_cjk(w) and w not in _ZH_FUNCTION}
    return frozenset(out)


def jieba_log_off() -> None:
    """jieba without its dictionary-loading chatter on every first use."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
