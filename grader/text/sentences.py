"""Splitting an answer into sentence-like units, keeping offsets into the original text so
that evidence can point back at it."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Chinese and English sentence ends, semicolons and line breaks. An English full stop ends a
# sentence only before whitespace, so "model.eval()" and "3.14" stay whole.
_BOUNDARY = re.compile(r"[。！？!?；;\n]+|\.(?=\s)|\.$")
MAX_UNIT = 160  # long run-on sentences are split further at commas


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
    return units


def split_units(answer: str) -> list[Unit]:
    units: list[Unit] = []
    pos = 0
    for m in list(_BOUNDARY.finditer(answer)) + [None]:
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
