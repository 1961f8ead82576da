"""Plain-text and Markdown notes with speaker labels ("面试官：", "**Q**:", "[00:01:23] Me:").

A labelled line opens a turn; other lines continue it, so multi-line answers and code blocks stay
whole. Markdown headings and rules are structure, not speech. A file with no labels at all is read
one line per utterance, and the roles are reconstructed later.
"""

from __future__ import annotations

import re
from collections import Counter

from grader.transcripts.labels import Labels
from grader.transcripts.models import SkippedItem, SourceRange, Turn
from grader.transcripts.readers import ReadResult
from grader.transcripts.timecode import TIMESTAMP, to_seconds

_FENCE = re.compile(r"^\s*(```|~~~)")
_STRUCTURE = re.compile(r"^(?:#{1,6}\s|\s*(?:-{3,}|\*{3,}|_{3,}|={3,})\s*$|\s*<!--.*-->\s*$)")
_TIMESTAMPED = re.compile(rf"^\s*[\[(（【]?\s*(?P<ts>{TIMESTAMP})\s*[\])）】]?\s*(?:[-–—|]\s*)?(?P<rest>.*)$")
BEFORE_FIRST_LABEL = "text before the first speaker label"


class _Open:
    """A turn being collected line by line."""

    def __init__(self, role, speaker, first_line, start, text):
        self.role, self.speaker, self.start = role, speaker, start
        self.first = self.last = first_line
        self.lines = [text] if text else []

    def add(self, n: int, line: str) -> None:
        self.lines.append(line)
        if line.strip():
            self.last = n

    def close(self) -> Turn | None:
        text = "\n".join(self.lines).strip()
        if not text:
            return None
        return Turn(
            role=self.role,
            speaker=self.speaker,
            text=text,
            start=self.start,
            source=SourceRange(unit="line", first=self.first, last=self.last),
        )


def read(text: str, labels: Labels) -> ReadResult:
    lines = text.split("\n")
    kinds = _classify(lines, labels)
    labelled = any(k == "label" for k, _ in kinds)
    result = ReadResult()
    if not labelled and (names := _names_used_as_labels(lines, kinds, labels)):
        # "张老师：" / "李明：" on most lines: speakers by name. Which is which is inferred later.
        labels = labels.extended(dict.fromkeys(names, "unknown"))
        kinds = _classify(lines, labels)
        labelled = True
        result.warnings.append(
            f"speaker names {', '.join(names)} are not known labels; roles were inferred. "
            f"Set them with labels={{'{names[0]}': 'interviewer' or 'candidate', ...}}"
        )
    current: _Open | None = None
    preamble: list[tuple[int, str]] = []

    def close() -> None:
        if current is not None and (turn := current.close()) is not None:
            result.turns.append(turn)

    for n, (line, (kind, parsed)) in enumerate(zip(lines, kinds), start=1):
        if kind == "structure":
            continue
        if kind == "label":
            close()
            current = _Open(parsed.role, parsed.speaker, n, parsed.start, parsed.text)
        elif kind in ("timestamped", "text") and not labelled and line.strip():
            close()  # no labels anywhere: each line is one utterance
            start = to_seconds(parsed["ts"]) if kind == "timestamped" else None
            body = parsed["rest"] if kind == "timestamped" else line.strip()
            current = _Open("unknown", None, n, start, body)
        elif kind == "timestamped" and current is not None:
            close()  # a new timestamp is a new stretch of speech, speaker unknown
            current = _Open("unknown", None, n, to_seconds(parsed["ts"]), parsed["rest"])
        elif current is not None:
            current.add(n, line)
        elif line.strip():
            preamble.append((n, line))
    close()

    if preamble:
        result.skipped.append(
            SkippedItem(
                text="\n".join(line for _, line in preamble).strip(),
                reason=BEFORE_FIRST_LABEL,
                source=SourceRange(unit="line", first=preamble[0][0], last=preamble[-1][0]),
            )
        )
    result.warnings.extend(_unmapped_label_warnings(lines, kinds, labels))
    return result


def _classify(lines: list[str], labels: Labels) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    in_fence = False
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(("text", None))
        elif in_fence:
            out.append(("text", None))
        elif _STRUCTURE.match(line):
            out.append(("structure", None))
        elif (labelled := labels.split(line)) is not None:
            out.append(("label", labelled))
        elif (m := _TIMESTAMPED.match(line)) and to_seconds(m["ts"]) is not None:
            out.append(("timestamped", m))
        else:
            out.append(("text", None))
    return out


def _names_used_as_labels(lines, kinds, labels: Labels) -> list[str]:
    """Names that open most content lines like labels, in a file with no known label at all."""
    content = [line for line, (kind, _) in zip(lines, kinds) if kind != "structure" and line.strip()]
    names = [n for line in content if (n := labels.unknown_label(line))]
    distinct = list(dict.fromkeys(names))
    if 2 <= len(distinct) <= 4 and len(names) >= 0.6 * len(content):
        return distinct
    return []


def _unmapped_label_warnings(lines, kinds, labels: Labels) -> list[str]:
    """Names used as labels ("张三：") that the table does not know: their lines were not split off."""
    counts: Counter[str] = Counter()
    for line, (kind, _) in zip(lines, kinds):
        if kind == "text" and (name := labels.unknown_label(line)):
            counts[name] += 1
    return [
        f"{n} lines start with '{name}：', which is not a known speaker label; they were read as text. "
        f"Map it with labels={{'{name}': 'interviewer' or 'candidate'}} if it is a speaker"
        for name, n in counts.most_common()
        if n >= 2
    ]
