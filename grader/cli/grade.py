"""`grader grade ID`: grade one answer."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from grader.cli.common import (
    BaseUrlOpt,
    DbOpt,
    JsonOpt,
    JudgeOpt,
    ModelOpt,
    NoBuiltinOpt,
    NoCacheOpt,
    RubricsOpt,
    SamplesOpt,
    build_judge,
    console,
    fail,
    get_rubric,
    load_bank,
    open_store,
    print_json,
    read_text_file,
)

EXIT_UNSCORED = 3


def grade(
    question_id: Annotated[str, typer.Argument(help="Question id, as listed by `grader questions`.")],
    source: Annotated[str | None, typer.Argument(help="'-' to read the answer from stdin.", show_default=False)] = None,
    answer: Annotated[str | None, typer.Option("--answer", "-a", help="The answer text.", show_default=False)] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the answer from a file.", show_default=False)] = None,
    judge: JudgeOpt = None,
    samples: SamplesOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    no_cache: NoCacheOpt = False,
    lang: Annotated[str | None, typer.Option("--lang", help="Feedback display language: zh or en (default: the answer's).", show_default=False)] = None,
    json_out: JsonOpt = False,
    db: DbOpt = None,
    rubrics: RubricsOpt = None,
    no_builtin: NoBuiltinOpt = False,
) -> None:
    """Grade one answer, criterion by criterion, with the evidence quoted from the answer.

    Exit codes: 0 graded; 1 bad input; 3 unscored (the judge failed or its output was unusable)."""
    given = [x for x in (answer is not None, file is not None, source is not None) if x]
    if len(given) > 1:
        fail("give the answer one way only: --answer, --file or '-' for stdin")
    if source not in (None, "-"):
        fail(f"unexpected argument {source!r}; use --answer TEXT, --file F, or '-' for stdin")
    if answer is None and file is not None:
        answer = read_text_file(file)
    elif answer is None:
        if sys.stdin is None or (source is None and sys.stdin.isatty()):
            fail("no answer given: use --answer TEXT, --file F, or pipe it with '-'")
        answer = sys.stdin.read()
    bank = load_bank(rubrics, no_builtin)
    rubric = get_rubric(bank, question_id)
    from grader.grading.feedback import answer_language
    from grader.grading.service import AnswerError, Grader

    if not answer.strip():
        fail("the answer is empty: nothing to grade")
    the_judge = build_judge(judge, samples, model, base_url)
    store = open_store(db)
    try:
        outcome = Grader(the_judge, store, use_cache=not no_cache, source="cli").grade(rubric, answer)
    except AnswerError as exc:
        fail(str(exc))
    finally:
        store.close()
    g = outcome.grading
    if json_out:
        data = g.model_dump(mode="json")
        data["grading_id"] = outcome.grading_id
        print_json(data)
    else:
        from grader.report.terminal import render_grading

        render_grading(console(), g, rubric, lang or answer_language(answer))
    if g.status == "unscored":
        raise typer.Exit(EXIT_UNSCORED)
