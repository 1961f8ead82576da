"""Options and helpers shared by the command files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

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
    """One clear line on stderr and a non-zero exit; never a traceback for a user mistake."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


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


JudgeOpt = Annotated[
    str | None,
    typer.Option("--judge", "-j", help="offline (default, no key needed) or llm.", show_default=False),
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


def open_store(db: Path | None):
    from grader.store.db import Store, StoreError

    try:
        return Store(db)
    except StoreError as exc:
        fail(str(exc))


def build_judge(judge: str | None, samples: int | None = None, model: str | None = None, base_url: str | None = None):
    """The judge the user asked for, or one clear line saying why it cannot run."""
    from grader.config import ConfigError, load_settings
    from grader.grading.service import default_judge_kind, make_judge

    try:
        settings = load_settings(overrides={"samples": samples, "model": model, "base_url": base_url})
    except ConfigError as exc:
        fail(str(exc))
    kind = judge or default_judge_kind(settings)
    if kind not in ("offline", "llm"):
        fail(f"unknown judge {kind!r}; choose offline or llm")
    if kind == "offline" and samples and samples > 1:
        warn("--samples applies to the LLM judge; the offline judge is deterministic")
    from grader.judges.llm import JudgeUnavailable

    try:
        return make_judge(kind, settings)
    except JudgeUnavailable as exc:
        fail(str(exc))


def read_text_file(path: Path) -> str:
    """An answer file, decoded like a transcript (UTF-8 with or without BOM, UTF-16, GB18030,
    Big5); never binary."""
    from grader.transcripts.encoding import decode_bytes
    from grader.transcripts.errors import TranscriptError

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror}")
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        fail(f"{path}: looks like a binary file, not text")
    try:
        return decode_bytes(data, path).text
    except TranscriptError as exc:
        fail(str(exc))
