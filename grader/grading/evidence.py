"""The evidence check: a quoted span counts only if it really occurs in the answer (compared
after normalising width, script, case, whitespace and punctuation), says enough to be evidence
of anything, bears on the criterion it is cited for, and is not the answer's own instruction to
the grader."""

from __future__ import annotations

import re
import unicodedata

from grader.grading.models import Evidence
from grader.text.normalize import has_cjk, to_simplified

MIN_PART = 4  # characters of each part of an elided quote
MAX_GAP = 120  # characters an ellipsis may skip
# Substance of a quote: a Chinese character counts 1, a Latin word or number 2 (about two
# characters make a Chinese word). "我" or "BN" is no evidence of anything.
MIN_QUOTE_UNITS = 6
# Below this cosine similarity a quote without any of the criterion's key terms is unrelated.
MIN_RELATED_SIMILARITY = 0.3
_ELLIPSIS = re.compile(r"\.{3,}|…+|⋯+")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[^\W\u3400-\u9fff\uf900-\ufaff]+")
# What an answer says to the grader rather than about the question. Matched on the normalised
# quote (NFKC, lower case, invisible characters removed, single spaces).
_INJECTION = re.compile(
    r"(award|give|assign|grant)\w*( me| this answer| the candidate| it)? (the )?"
    r"((full|max(imum)?|100 ?%) ?(marks?|points?|scores?|credit)|all( the)? (marks|credit))"
    r"|ignore (all |any )?(the |your )?((previous|prior|above|earlier|preceding) )?"
    r"(instructions?|prompts?|rules|rubric|grading)"
    r"|(mark|grade|rate|score) (this|every|all|each)\w* (\w+ ){0,2}as (met|correct|passed|full)"
    r"|disregard (the |your |all )?(rubric|instructions|criteria)"
    r"|you are (now )?(a|the|an) \w*( \w+)? (grader|judge|assistant)"
    r"|(system|developer) (prompt|message|instruction)s?\b"
    r"|满分|给满|打满|全部得分|全给分|都给分|判为满足|判定为满足|都算满足|都判(为)?满足"
    r"|忽略(之前|以上|上面|前面|所有|全部|此前)?(的)?(指令|指示|提示|规则|评分标准|要求|内容)"
    r"|(无视|不要理会|不用管)(评分标准|规则|指令)"
)
_INVISIBLE = re.compile(r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
                        r"\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]")


def _fold_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).lower()


def _fold(text: str) -> tuple[str, list[int]]:
    """Folded text with only letters, digits and CJK kept, and for each kept character the
    offset of the original character it came from."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for f in _fold_char(ch):
            if f.isalnum():
                chars.append(f)
                index.append(i)
    folded = "".join(chars)
    if has_cjk(folded):
        folded = to_simplified(folded)
    return folded, index


def strip_invisible(text: str) -> str:
    """NFKC with the characters that render as nothing removed (zero-width space and joiners,
    word joiner, soft hyphen, bidi controls, variation selectors): what a reader sees."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def quote_units(quote: str) -> int:
    """How much a quote says: Chinese characters count 1, Latin words and numbers 2."""
    text = strip_invisible(quote)
    return len(_CJK_CHAR.findall(text)) + 2 * len(_LATIN_WORD.findall(text))


def is_injection(text: str) -> bool:
    """Whether the text instructs the grader ("award full marks", "ignore previous
    instructions", "给满分", "忽略之前的指令")."""
    plain = " ".join(strip_invisible(text).lower().split())
    return bool(_INJECTION.search(plain)) or bool(_INJECTION.search(plain.replace(" ", "")))


def related_to(quote: str, criterion) -> bool | None:
    """Whether a quote bears on `criterion`: it holds one of its key terms, or it is close in
    meaning to its statement. None when the similarity could not be computed."""
    from grader.text.normalize import normalize
    from grader.text.terms import find_group, words_of

    norm = normalize(strip_invisible(quote))
    words = words_of(norm)
    if any(find_group(group, norm, words) for group in criterion.key_terms):
        return True
    try:
        from grader.text.embed import encode, encode_cached

        q = encode([quote])[0]
        best = max(float(q @ encode_cached(t)) for t in (criterion.statement.zh, criterion.statement.en))
    except Exception:  # noqa: BLE001 - no similarity: the caller fails closed
        return None
    return best >= MIN_RELATED_SIMILARITY


def quote_problem(quote: str, criterion=None) -> str | None:
    """Why a verified quote cannot carry credit, or None. Order: the cheapest checks first."""
    if is_injection(quote):
        return "the quote is an instruction to the grader, not an answer"
    if quote_units(quote) < MIN_QUOTE_UNITS:
        return "the quote is too short to be evidence"
    if criterion is not None:
        related = related_to(quote, criterion)
        if related is None:
            return "the quote's relevance could not be checked"
        if not related:
            return "the quote is unrelated to the criterion"
    return None


class AnswerIndex:
    """The answer folded once, so many quotes can be checked cheaply."""

    def __init__(self, answer: str):
        self.answer = answer
        self.folded, self.index = _fold(answer)

    def locate(self, quote: str) -> tuple[int, int] | None:
        """Offsets of `quote` in the original answer; a quote with an ellipsis matches when its
        parts occur in order."""
        parts = [p for p in (_fold(part)[0] for part in _ELLIPSIS.split(quote)) if p]
        if not parts or (len(parts) > 1 and min(len(p) for p in parts) < MIN_PART):
            return None  # "first word ... last word" must not vouch for a whole answer
        pos, start = 0, None
        for part in parts:
            found = self.folded.find(part, pos)
            if found < 0 or (start is not None and found - pos > MAX_GAP):
                return None
            start = found if start is None else start
            pos = found + len(part)
        return self.index[start], self.index[pos - 1] + 1

    def verify(self, quote: str) -> Evidence:
        span = self.locate(quote)
        if span is None:
            return Evidence(quote=quote, verified=False)
        return Evidence(quote=quote, start=span[0], end=span[1], verified=True)
