"""Spoken fillers (嗯, 呃, 那个, um, you know) removed from the text that is graded.

A transcript of speech is full of them; left in, they dilute key-term matching and make evidence
quotes ugly. The original text is always kept beside the cleaned one. Code blocks are left alone.
"""

from __future__ import annotations

import re

# Fillers that are never content. 额 only before a pause: 额外/额度 are words. 那个 only where it
# opens a clause or stands before a pause: "那个参数" can be a real demonstrative.
_ZH = re.compile(
    r"(?:嗯+|呃+|啊+|哦+|唔+|额+(?=[，,。、…\s]|$)|就是说"
    r"|(?:(?<=^)|(?<=[，,。、；;！!？?\s…]))那个(?:那个)*|那个(?=[，,、…\s]|$))"
)
_EN = re.compile(
    r"\b(?:u+m+|u+h+|e+r+m+|er|h+m+|m{2,})\b"
    r"|(?:(?<=^)|(?<=[,.;!?]))\s*(?:you know|i mean)\s*,"  # "you know," / "I mean," opening a clause
    r"|,\s*you know\b(?=\s*[,.;!?]|$)",  # "..., you know."
    re.I,
)
# ", you know," / ", um," between commas is an aside: both commas go with it.
_EN_ASIDE = re.compile(r"\s*,\s*(?:u+m+|u+h+|e+r+m+|er|h+m+|you know|i mean)\s*,\s*", re.I)
_FENCE = re.compile(r"(^```.*?^```[^\n]*$|^~~~.*?^~~~[^\n]*$)", re.M | re.S)

_PUNCT_RUN = re.compile(r"([，,、；;：:…])(?:\s*[，,、…]|\s*\.{2,})+")
_LEADING_PUNCT = re.compile(r"(^|\n|[。！？!?]\s*|[.]\s+)[ \t]*(?:[，,、；;…]|\.{2,})+[ \t]*")
_COMMA_BEFORE_STOP = re.compile(r"[ \t]*[，,、][ \t]*([。！？!?.])")
_SPACE_BEFORE_CJK_PUNCT = re.compile(r"[ \t]+([，。！？、；：])")
_SPACE_BEFORE_ASCII_PUNCT = re.compile(r"(?<=\w)[ \t]+([,;:!?](?!\w))")
_SPACES = re.compile(r"[ \t]{2,}")


def strip_fillers(text: str) -> str:
    parts = _FENCE.split(text)
    # split() with one group alternates prose, code, prose, ...: clean only the prose.
    return "".join(p if i % 2 else _clean(p) for i, p in enumerate(parts)).strip()


def _clean(prose: str) -> str:
    out = _EN_ASIDE.sub(" ", prose)
    out = _ZH.sub("", out)
    out = _EN.sub("", out)
    out = _PUNCT_RUN.sub(r"\1", out)
    out = _LEADING_PUNCT.sub(r"\1", out)
    out = _COMMA_BEFORE_STOP.sub(r"\1", out)
    out = _SPACE_BEFORE_CJK_PUNCT.sub(r"\1", out)
    out = _SPACE_BEFORE_ASCII_PUNCT.sub(r"\1", out)
    out = _SPACES.sub(" ", out)
    out = re.sub(r"(?m)^[ \t]+|[ \t]+$", "", out)
    out = re.sub(r"\n{3,}", "\n\n", out)
    if re.fullmatch(r"[\s，,、。.…；;！!？?]*", out):
        return ""  # nothing but fillers and the pauses around them
    return out
