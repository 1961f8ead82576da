"""Speaker labels: which role a label means, and splitting "面试官：..." / "[00:01:23] **Q**: ..."
into label, time and text.

The built-in table covers how Chinese and English interview notes are usually written; a caller's
mapping is laid over it (so a coach can map "张工" to interviewer, or "我" to interviewer when the
notes were written by the interviewer).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from grader.transcripts.models import Role
from grader.transcripts.timecode import TIMESTAMP, to_seconds

DEFAULT_LABELS: dict[str, Role] = {
    **dict.fromkeys(
        ["面试官", "面試官", "面官", "主面", "考官", "问", "問", "问题", "問題", "q", "question",
         "interviewer", "int"],
        "interviewer",
    ),
    **dict.fromkeys(
        ["候选人", "候選人", "面试者", "面試者", "应聘者", "應聘者", "求职者", "求職者", "我", "答", "回答",
         "a", "answer", "candidate", "interviewee", "me"],
        "candidate",
    ),
}

ROLES = ("interviewer", "candidate", "unknown")

# Diarisation ids ("说话人1", "SPEAKER_00", "Speaker A"): a speaker, but which role is inferred later.
_GENERIC_SPEAKER = re.compile(
    r"^(?:说话人|說話人|发言人|發言人|讲话人|講話人|发言者|speaker|spk)[\s_-]*(?:\d{1,3}|[a-z])$", re.I
)
_TRAILING_NUMBER = re.compile(r"[\s_-]*\d{1,3}$")  # "Q1", "问题2", "Interviewer 2"

_BULLET = re.compile(r"^(?:[-*+>•]|\d{1,3}[.)、])\s+")
_TS_PREFIX = re.compile(rf"^[\[(（【]?\s*(?P<ts>{TIMESTAMP})\s*[\])）】]?\s*(?:[-–—|]\s*)?")
# "[面试官] text" / "(Interviewer) text": the bracket style subtitles use.
_BRACKETED = re.compile(r"^[\[(（【]\s*(?P<label>[^\]\)）】:：\n]{1,24}?)\s*[\])）】]\s*[:：]?\s*(?P<rest>.*)$", re.S)
_LABELLED = re.compile(
    rf"""^(?P<label>[^:：\[\]()（）【】*\n]{{1,24}}?)\s*      # the label itself, bold marks already gone
        (?:[（(](?P<name>[^)）\n]{{1,20}})[)）])?\s*         # "面试官（张工）"
        (?:[\[(（【]?\s*(?P<ts>{TIMESTAMP})\s*[\])）】]?)?\s*  # "面试官 [00:01:23]"
        (?:(?P<sep>[:：])\s*(?P<rest>.*))?$""",
    re.X | re.S,
)
_BOLD = re.compile(r"\*\*|__")


@dataclass(frozen=True)
class LabelledLine:
    role: Role
    speaker: str  # the label as written, e.g. "面试官（张工）", "SPEAKER_01"
    text: str
    start: float | None


class Labels:
    """Label -> role lookup with the caller's mapping laid over the defaults."""

    def __init__(self, extra: Mapping[str, str] | None = None):
        self._map: dict[str, Role] = dict(DEFAULT_LABELS)
        for label, role in (extra or {}).items():
            if role not in ROLES:
                raise ValueError(f"label {label!r}: role must be one of {', '.join(ROLES)}, not {role!r}")
            key = _key(label)
            if not key:
                raise ValueError("empty speaker label in the label mapping")
            self._map[key] = role  # type: ignore[assignment]

    def role_of(self, label: str) -> Role | None:
        """The role a label stands for; "unknown" for a diarisation id; None if it is no label."""
        key = _key(label)
        if not key:
            return None
        if key in self._map:
            return self._map[key]
        stripped = _TRAILING_NUMBER.sub("", key)
        if stripped and stripped != key and stripped in self._map:
            return self._map[stripped]
        if _GENERIC_SPEAKER.match(key):
            return "unknown"
        return None

    def extended(self, more: Mapping[str, str]) -> Labels:
        out = Labels()
        out._map = dict(self._map)
        for label, role in Labels(more)._map.items():
            out._map[label] = role
        return out

    def split(self, line: str) -> LabelledLine | None:
        """Parse a line that opens with a speaker label; None when it does not."""
        found = self._parse(line)
        if found is None:
            return None
        label, name, start, rest, has_sep = found
        role = self.role_of(label)
        if role is None:
            return None
        if not has_sep and start is None and _key(label) in {"a", "q", "我", "问", "答", "me"}:
            return None  # a bare "A" or "我" on its own line is more likely text than a label
        speaker = label.strip() + (f"（{name.strip()}）" if name else "")
        return LabelledLine(role, speaker, rest, start)

    def unknown_label(self, line: str) -> str | None:
        """A short name opening a line like a label ("张三：") that the table does not know."""
        found = self._parse(line)
        if found is None:
            return None
        label, _, _, _, has_sep = found
        label = label.strip()
        if not has_sep or self.role_of(label) is not None or len(label) > 12 or re.search(r"[\s\d，,。.;；!！?？=]", label):
            return None
        return label

    def _parse(self, line: str) -> tuple[str, str | None, float | None, str, bool] | None:
        s = _BULLET.sub("", line.strip())
        start = None
        m = _TS_PREFIX.match(s)
        if m:
            start, s = to_seconds(m["ts"]), s[m.end():]
        s = s.strip()

        m = _BRACKETED.match(s)
        # "(a) first point" is a list item, so one-letter labels only count with a colon.
        if m and not _is_one_letter(m["label"]) and self.role_of(m["label"]) is not None:
            return m["label"], None, start, _unbold(m["rest"]), True

        # Bold marks may wrap the label ("**面试官**：") or the label and colon ("**面试官：**").
        m = _LABELLED.match(_BOLD.sub("", s[:60]) + s[60:] if s.startswith(("**", "__")) else s)
        if not m:
            return None
        if m["ts"] is not None and start is None:
            start = to_seconds(m["ts"])
        return m["label"], m["name"], start, _unbold(m["rest"] or ""), m["sep"] is not None or m["ts"] is not None


def _key(label: str) -> str:
    return unicodedata.normalize("NFKC", label).strip().strip("*_").strip().casefold()


def _is_one_letter(label: str) -> bool:
    key = _key(label)
    return len(key) == 1 and key.isascii()


def _unbold(text: str) -> str:
    # Leftover closing marks from "**面试官：** text" or "**面试官**： text".
    return re.sub(r"^(?:\*\*|__)\s*", "", text.strip()).strip()
