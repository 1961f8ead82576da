"""One normal form for every comparison of answer text: NFKC (full-width to half-width),
Traditional to Simplified Chinese, lower case, single spaces."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


_DASHES = str.maketrans({"−": "-", "–": "-", "—": "-", "‐": "-"})


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    if has_cjk(text):
        text = _t2s().convert(text)
    return _SPACE.sub(" ", text.lower()).strip()


# Punctuation that quoting may legitimately change: used by the evidence check.
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def compact(text: str) -> str:
    """Normal form with all whitespace and punctuation removed (for quote verification)."""
    return _PUNCT.sub("", normalize(text))
