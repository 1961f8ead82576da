"""`grader rubric ...`: tools for rubric authors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grader.cli.common import JsonOpt, fail, print_json

app = typer.Typer(help="Validate and author rubrics.", no_args_is_help=True)


@app.command()
def lint(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Rubric files or directories (default: the shipped bank).", show_default=False)
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Validate rubrics: schema, unique ids, points, key terms, aliases. Exit 1 on any problem."""
    from grader.rubric.lint import lint as run_lint
    from grader.rubric.loader import load_paths, shipped_bank_dir

    targets = paths or [shipped_bank_dir()]
    for p in targets:
        if not p.exists():
            fail(f"{p} does not exist")
    result = load_paths(targets)
    if not result.rubrics and not result.problems:
        fail("no rubric files (*.yaml) found")
    problems = run_lint(result)
    if json_out:
        print_json({"rubrics": len(result.rubrics), "problems": [str(p) for p in problems]})
    else:
        for p in problems:
            typer.echo(str(p), err=True)
        checked = len(result.rubrics) + len({p.path for p in result.problems})
        status = "ok" if not problems else f"{len(problems)} problem(s)"
        typer.echo(f"{checked} file(s) checked: {status}", err=bool(problems))
    if problems:
        raise typer.Exit(1)
