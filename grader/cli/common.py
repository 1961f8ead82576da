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
