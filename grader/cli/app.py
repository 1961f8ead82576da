"""The `grader` command: one file per command group under grader/cli/."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from grader.cli import batch, common, config, evals, grade, history, practice, questions, review, rubric, show

app = typer.Typer(
    name="grader",
    help="Grade answers to computer-vision interview questions against per-question rubrics.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=common.GraderGroup,  # a failing store is one line, in every command
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"grader {version('grader')}")
        except PackageNotFoundError:
            typer.echo("grader (not installed)")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No warnings and no progress bars: results and errors only.")] = False,
) -> None:
    """Grade answers to computer-vision interview questions against per-question rubrics."""
    common.QUIET = quiet


app.command()(questions.questions)
app.command()(show.show)
app.command()(grade.grade)
app.command()(practice.practice)
app.command()(history.history)
app.command()(history.progress)
app.command()(batch.batch)
app.command()(review.review)
app.add_typer(rubric.app, name="rubric")
app.add_typer(evals.app, name="evals")
app.add_typer(config.app, name="config")


def _reflow(text: str | None) -> str | None:
    """Docstrings are wrapped for the source; help is wrapped for the terminal: keep paragraphs,
    join their lines."""
    if not text:
        return text
    import inspect

    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def _tidy_help(t: typer.Typer) -> None:
    for info in t.registered_commands:
        info.help = _reflow(info.help or (info.callback.__doc__ if info.callback else None))
    for group in t.registered_groups:
        if group.typer_instance is not None:
            _tidy_help(group.typer_instance)


def _plain_type_names() -> None:
    """Help shows a value's kind as click does (TEXT, INTEGER, PATH), and nothing for a flag,
    instead of Python annotations such as <bool> or <list[Path]>."""
    import re

    from typer.core import TyperArgument, TyperOption

    names = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH", "Path": "PATH",
             "int range": "INTEGER", "float range": "FLOAT", "bool": "BOOLEAN"}

    def display(self, ctx):
        if self.metavar is not None:
            return self.metavar
        if getattr(self, "is_flag", False):
            return None
        label = self.display_type(ctx).strip("<>")
        label = re.sub(r"^list\[(.*)\]$", r"\1", label)
        if "|" in label:
            return f"[{label}]"
        return names.get(label, label.upper())

    TyperOption.display_type_rich = display
    TyperArgument.display_type_rich = display


_tidy_help(app)
_plain_type_names()


def main() -> None:
    """Run the CLI; under --json, usage errors are JSON objects too."""
    if "--json" not in sys.argv[1:]:
        app()
        return
    from typer._click.exceptions import ClickException

    try:
        code = app(standalone_mode=False)
    except ClickException as exc:
        common.json_error(exc.format_message(), exc.exit_code)
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
