"""Clock times as written in notes and transcripts ("00:01:23", "01:23", "00:01:23.5") -> seconds."""

from __future__ import annotations

import re

# h:mm:ss or mm:ss, with an optional fraction; used inside larger patterns, so no anchors.
TIMESTAMP = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_PARTS = re.compile(r"^(?:(\d{1,2}):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$")


def to_seconds(stamp: str) -> float | None:
    m = _PARTS.match(stamp.strip())
    if not m:
        return None
    h, mnt, s, frac = m.groups()
    if int(s) >= 60 or (h is not None and int(mnt) >= 60):
        return None
    seconds = int(h or 0) * 3600 + int(mnt) * 60 + int(s)
    return seconds + (float(f"0.{frac}") if frac else 0.0)
