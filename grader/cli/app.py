"""The `grader` command: one file per command group under grader/cli/."""

from __future__ import annotations

import typer

from grader.cli import batch, evals, grade, history, practice, questions, review, rubric, show

app = typer.Typer(
    name="grader",
    help="Grade answers to computer-vision interview questions against per-question rubrics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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


def main() -> None:
    app()
