"""Options and helpers shared by the command files."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

RubricsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--rubrics",
        help="Extra rubric directory (repeatable); its questions are added to the bank and override "
        "shipped ones with the same id. Also GRADER_RUBRICS (os.pathsep-separated).",
        show_default=False,
    ),
]
NoBuiltinOpt = Annotated[
    bool, typer.Option("--no-builtin", help="Leave out the shipped bank: use only --rubrics / GRADER_RUBRICS.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="SQLite store to use (default: GRADER_DB, else the user data directory).", show_default=False),
]


def fail(message: str, code: int = 1) -> NoReturn:
    """One clear line on stderr and a non-zero exit; never a traceback for a user mistake. Under
    --json the line is a JSON object."""
    if _json_wanted():
        json_error(message, code)
    else:
        typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def json_error(message: str, code: int = 1) -> None:
    typer.echo(json.dumps({"error": message, "exit_code": code}, ensure_ascii=False), err=True)


def _json_wanted() -> bool:
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    while ctx is not None:
        if ctx.params.get("json_out"):
            return True
        ctx = ctx.parent
    return False


def warn(message: str) -> None:
    """A warning line on stderr (a JSON object under --json); none under --quiet."""
    if QUIET:
        return
    if _json_wanted():
        typer.echo(json.dumps({"warning": message}, ensure_ascii=False), err=True)
    else:
        typer.echo(f"warning: {message}", err=True)


# Set by `grader --quiet`: no warnings, no progress bars; results and errors only.
QUIET = False


def resolve_lang(lang) -> str | None:
    """--lang, else the config's `lang` (GRADER_LANG); None leaves it to the answer's language."""
    if lang is not None:
        if str(lang).lower() not in ("zh", "en"):
            fail(f"--lang must be zh or en, not {str(lang)!r}")
        return str(lang).lower()
    from grader.config import ConfigError, load_settings

    try:
        return load_settings().lang
    except ConfigError as exc:
        fail(str(exc))


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def load_bank(rubrics: list[Path] | None, no_builtin: bool = False):
    from grader.rubric.bank import Bank

    for d in rubrics or []:
        if not d.exists():
            fail(f"rubric directory {d} does not exist")
    bank = Bank.load(rubrics, include_shipped=not no_builtin)
    for p in bank.problems:
        warn(f"skipped invalid rubric: {p}")
    return bank


def get_rubric(bank, question_id: str):
    from grader.rubric.bank import UnknownQuestion

    try:
        return bank.get(question_id)
    except UnknownQuestion as exc:
        fail(str(exc))


def console():
    from rich.console import Console

    return Console(soft_wrap=False)


class JudgeKind(StrEnum):
    offline = "offline"
    llm = "llm"


JudgeOpt = Annotated[
    JudgeKind | None,
    typer.Option("--judge", "-j", case_sensitive=False, help="offline (default, no key needed) or llm.", show_default=False),
]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Grade again even if an identical request is stored.")]
SamplesOpt = Annotated[
    int | None,
    typer.Option("--samples", "-n", min=1, max=15, help="LLM judge: grade N times; per-criterion majority.", show_default=False),
]
ModelOpt = Annotated[str | None, typer.Option("--model", help="LLM judge model (overrides config).", show_default=False)]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint (overrides config).", show_default=False)
]


# The store could not be read or written; for `grade`, the grading was shown but not stored.
EXIT_STORE = 4


def open_store(db: Path | None):
    from grader.store.db import Store, StoreError

    try:
        return Store(db)
    except StoreError as exc:
        fail(str(exc), EXIT_STORE)


class GraderGroup(TyperGroup):
    """Every command: a store that fails mid-command (damaged, full, read-only) is one line
    naming the file and what to do, and exit code 4, never a traceback."""

    def invoke(self, ctx):
        args = [*getattr(ctx, "protected_args", getattr(ctx, "_protected_args", [])), *ctx.args]  # consumed below
        try:
            return super().invoke(ctx)
        except RuntimeError as exc:
            from grader.store.db import StoreError

            if not isinstance(exc, StoreError):
                raise
            if "--json" in args:
                json_error(str(exc), EXIT_STORE)
                raise typer.Exit(EXIT_STORE) from None
            fail(str(exc), EXIT_STORE)


def build_judge(judge: str | None, samples: int | None = None, model: str | None = None, base_url: str | None = None):
    """The judge the user asked for, or one clear line saying why it cannot run."""
    from grader.config import ConfigError, load_settings
    from grader.grading.service import default_judge_kind, make_judge

    try:
        settings = load_settings(overrides={"samples": samples, "model": model, "base_url": base_url})
    except ConfigError as exc:
        fail(str(exc))
    kind = str(judge).lower() if judge else default_judge_kind(settings)
    if kind not in ("offline", "llm"):
        fail(f"unknown judge {kind!r}; choose offline or llm")
    if kind == "offline" and samples and samples > 1:
        warn("--samples applies to the LLM judge; the offline judge is deterministic")
    from grader.judges.llm import JudgeUnavailable

    try:
        return make_judge(kind, settings)
    except JudgeUnavailable as exc:
        fail(str(exc))


def read_text_file(path: Path, limit: int | None = None) -> str:
    """An answer file, decoded like a transcript (UTF-8 with or without BOM, UTF-16, GB18030,
    Big5); never binary. Reading stops at `limit` bytes (default: the transcript limit)."""
    from grader.transcripts.encoding import MAX_BYTES, decode_bytes, read_bytes_limited
    from grader.transcripts.errors import TranscriptError

    try:
        with path.open("rb") as fh:
            data = read_bytes_limited(fh, limit or MAX_BYTES, path)
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except IsADirectoryError:
        fail(f"{path}: is a directory, not a file")
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror}")
    except TranscriptError as exc:
        fail(str(exc))
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        fail(f"{path}: looks like a binary file, not text")
    try:
        return decode_bytes(data, path).text
    except TranscriptError as exc:
        fail(str(exc))


def answer_bytes_limit() -> int:
    """Bytes an answer of the longest allowed length can take (4 per character in UTF-8)."""
    from grader.grading.service import MAX_ANSWER_CHARS

    return 4 * MAX_ANSWER_CHARS


def decode_answer(text: str | bytes, source: str) -> str:
    """Typed or piped text through the transcript decoder: one decode path for every input."""
    from grader.transcripts.encoding import decode_user_text
    from grader.transcripts.errors import TranscriptError

    try:
        return decode_user_text(text, source)
    except TranscriptError as exc:
        fail(str(exc))


def read_stdin_answer() -> str:
    from grader.transcripts.encoding import read_bytes_limited
    from grader.transcripts.errors import TranscriptError

    stream = getattr(sys.stdin, "buffer", None)
    try:
        data = read_bytes_limited(stream, answer_bytes_limit(), "stdin") if stream else sys.stdin.read()
    except TranscriptError as exc:
        fail(str(exc))
    return decode_answer(data, "stdin")


class Lang(StrEnum):
    zh = "zh"
    en = "en"


LangOpt = Annotated[
    Lang | None,
    typer.Option("--lang", case_sensitive=False, help="Language: zh or en (default: config, else the answer's).", show_default=False),
]


def lang_value(lang: Lang | str | None) -> str | None:
    return None if lang is None else Lang(str(lang).lower()).value
