"""The evidence check: a quoted span counts only if it really occurs in the answer, compared
after normalising width, script, case, whitespace and punctuation."""

from __future__ import annotations

import re
import unicodedata

from grader.grading.models import Evidence
from grader.text.normalize import has_cjk, to_simplified

MIN_PART = 4  # characters of each part of an elided quote
MAX_GAP = 120  # characters an ellipsis may skip
_ELLIPSIS = re.compile(r"\.{3,}|…+|⋯+")


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
