"""The one exception every transcript problem becomes, so the CLI can print one line and exit."""

from __future__ import annotations

from pathlib import Path


class TranscriptError(ValueError):
    """A transcript that cannot be read. The message is one line and names the file."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = " ".join(problem.split())  # one line, whatever the cause said
        super().__init__(f"{self.path}: {self.problem}")


class FormatProblem(Exception):
    """Raised by a reader that knows what is wrong but not which file it is; becomes a TranscriptError."""


def unusable_json(exc: BaseException) -> str:
    """What a JSON parser's non-syntax failure means, in one short line."""
    text = str(exc)
    if "integer string conversion" in text:
        return "a number with too many digits"
    return text.splitlines()[0][:120] if text else type(exc).__name__
