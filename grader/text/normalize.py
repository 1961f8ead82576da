"""One normal form for every comparison of answer text: NFKC (full-width to half-width),
Traditional to Simplified Chinese, lower case, single spaces."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACE = re.compile(r"\s+")
# Writers put a space between Chinese and an English word, or not: "ReLU 的导数" = "ReLU的导数".
_SPACE_BY_CJK = re.compile(r"(?<=[\u3400-\u9fff]) (?=\S)|(?<=\S) (?=[\u3400-\u9fff])")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    """Traditional -> Simplified, character by character, from OpenCC's own dictionary. Phrase
    level conversion is not needed for matching (rubric terms go through the same table), and a
    translate() table is two orders of magnitude faster than OpenCC's pure-Python converter."""
    from importlib.resources import files

    text = files("opencc").joinpath("dictionary", "TSCharacters.txt").read_text(encoding="utf-8")
    table: dict[int, str] = {}
    for line in text.splitlines():
        trad, _, simp = line.partition("\t")
        if len(trad) == 1 and simp:
            first = simp.split()[0]
            if len(first) == 1:
                table[ord(trad)] = first
    return table


def to_simplified(text: str) -> str:
    """Same length as `text`: offsets stay valid."""
    return text.translate(_t2s_table())


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


_DASHES = str.maketrans({"−": "-", "–": "-", "—": "-", "‐": "-"})
# A superscript is an exponent: NFKC alone makes "2ⁿ − 1" read "2n - 1" and "n²" read "n2".
_SUPERSCRIPT = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹ⁿⁱ⁺⁻⁼⁽⁾ᵀ]+")


def normalize(text: str) -> str:
    text = _SUPERSCRIPT.sub(lambda m: "^" + m.group(), text)
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    if has_cjk(text):
        text = to_simplified(text)
    return _SPACE_BY_CJK.sub("", _SPACE.sub(" ", text.lower())).strip()


# Punctuation that quoting may legitimately change: used by the evidence check.
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def compact(text: str) -> str:
    """Normal form with all whitespace and punctuation removed (for quote verification)."""
    return _PUNCT.sub("", normalize(text))


def has_lone_surrogates(text: str) -> bool:
    """Whether `text` holds a lone UTF-16 surrogate (undecoded bytes, or "\\ud800" escaped in
    JSON): such text cannot be stored, shown or written to a file."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
