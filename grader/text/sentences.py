"""Splitting an answer into sentence-like units, keeping offsets into the original text so
that evidence can point back at it."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Chinese and English sentence ends, semicolons and line breaks. An English full stop ends a
# sentence only before whitespace, so "model.eval()" and "3.14" stay whole.
# "!=" is an operator, "et al." / "e.g." / "i.e." / "vs." abbreviations, "1." a list number.
_BOUNDARY = re.compile(
    r"(?:[。！？?；;\n]|!(?!=))+|(?<!\bet al)(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\bcf)(?<![\n\s(]\d)(?<!^\d)(?<!\d\d)\.(?=\s)|\.$"
)
MAX_UNIT = 160  # long run-on sentences are split further at commas
HARD_UNIT = 400  # and a run with no comma at all is cut here, so no unit grows without bound
MAX_LIST = 8  # list items a heading gathers into one claim


@dataclass(frozen=True)
class Unit:
    start: int
    end: int
    text: str


def _split_long(text: str, base: int) -> list[Unit]:
    if len(text) <= MAX_UNIT:
        return [Unit(base, base + len(text), text)]
    units, pos = [], 0
    for m in re.finditer(r"[，,、]", text):
        if m.end() - pos >= MAX_UNIT // 2:
            units.append(Unit(base + pos, base + m.end(), text[pos : m.end()]))
            pos = m.end()
    units.append(Unit(base + pos, base + len(text), text[pos:]))
    out = []
    for u in units:
        for k in range(0, len(u.text), HARD_UNIT):
            out.append(Unit(u.start + k, min(u.end, u.start + k + HARD_UNIT), u.text[k : k + HARD_UNIT]))
    return out


# A line break inside a sentence (hard-wrapped text): the line before is long and ends in no
# sentence end or colon, and the next one is no list item.
_WRAPPED = re.compile(r"(?<=[^\s。！？!?；;:：.])\n(?=[ \t]*[^\s\-*•·\d(（①-⑩])")
WRAP_MIN = 30  # characters of a line that was wrapped rather than ended


def _unwrap(answer: str) -> str:
    """The answer with the line breaks inside sentences made spaces (offsets kept)."""
    def join(m: re.Match[str]) -> str:
        line_start = answer.rfind("\n", 0, m.start()) + 1
        return " " if m.start() - line_start >= WRAP_MIN else "\n"

    return _WRAPPED.sub(join, answer)


def split_units(answer: str) -> list[Unit]:
    units: list[Unit] = []
    pos = 0
    for m in list(_BOUNDARY.finditer(_unwrap(answer))) + [None]:
        end = m.end() if m else len(answer)
        chunk = answer[pos:end]
        stripped = chunk.strip()
        if re.search(r"\w", stripped):
            lead = chunk.index(stripped[0])
            units.extend(_split_long(stripped, pos + lead))
        pos = end
        if m is None:
            break
    return units


# A sentence that refers back to the one before it ("它…", "this…", "所以…") or a heading that
# introduces what follows ("推理时：") makes one claim with its neighbour.
_REFERS_BACK = re.compile(
    r"^(?:它们?|其|这(?:个|些|样|里|时|就|也)?|该|此|那么|所以|因此|因而|于是|从而|"
    r"(?:this|it|they|these|that|which|so|thus|hence|therefore|then)\b)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[。！？!?；;.]\s*$")


def same_sentence(prev: Unit, nxt: Unit) -> bool:
    """Whether two adjacent units are parts of one sentence: split at a semicolon (a list of
    points, "解决：换 ReLU；Xavier 初始化；BN"), or at a comma only because the sentence was long."""
    if nxt.start != prev.end and not prev.text.rstrip().endswith((";", "；")):
        return False
    return prev.text.rstrip().endswith((";", "；")) or not _SENTENCE_END.search(prev.text)


def linked(prev: Unit, nxt: Unit) -> bool:
    """Whether two adjacent units make one claim: pieces of one long sentence, a heading ending
    in a colon and what follows it, or a sentence that refers back to the previous one."""
    if not _SENTENCE_END.search(prev.text) and nxt.start == prev.end:
        return True  # split at a comma only because the sentence was long
    if prev.text.rstrip().endswith((":", "：")):
        return True
    return bool(_REFERS_BACK.match(nxt.text.lstrip()))



def is_heading(unit: Unit) -> bool:
    """A unit that introduces a list: it ends in a colon ("步骤如下：", "Top-down:")."""
    return unit.text.rstrip().endswith((":", "："))


def list_runs(units: list[Unit]) -> list[tuple[int, ...]]:
    """A heading and the items listed under it (one per line or between semicolons), up to the
    next heading: one claim for a point that is a list ("步骤：先…；再…；最后…")."""
    runs = []
    for j, u in enumerate(units):
        if not is_heading(u):
            continue
        k = j + 1
        while k < len(units) and k - j <= MAX_LIST and not is_heading(units[k]):
            k += 1
        if k - j >= 3:
            runs.append(tuple(range(j, k)))
    return runs
