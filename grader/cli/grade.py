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
    read_stdin_answer,
    EXIT_STORE,
    LangOpt,
    answer_bytes_limit,
    decode_answer,
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
    lang: LangOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also the evidence, what to add and the judge's notes.")] = False,
    json_out: JsonOpt = False,
    db: DbOpt = None,
    rubrics: RubricsOpt = None,
    no_builtin: NoBuiltinOpt = False,
    allow_unsandboxed_code: Annotated[
        bool,
        typer.Option("--allow-unsandboxed-code", help="Run the code in answers even where bubblewrap cannot isolate it (risky: "
                     "the code can read and change anything your user can)."),
    ] = False,
) -> None:
    """Grade one answer, criterion by criterion, with the evidence quoted from the answer.

    Exit codes: 0 graded; 1 bad input; 3 unscored (the judge failed or its output was unusable);
    4 the store could not be read or written (a grading is still shown, but it was not stored)."""
    given = [x for x in (answer is not None, file is not None, source is not None) if x]
    if len(given) > 1:
        fail("give the answer one way only: --answer, --file or '-' for stdin")
    if source not in (None, "-"):
        fail(f"unexpected argument {source!r}; use --answer TEXT, --file F, or '-' for stdin")
    # One decode path for every input: the transcript decoder (no surrogate reaches the store).
    if answer is not None:
        answer = decode_answer(answer, "--answer")
    elif file is not None:
        answer = read_text_file(file, answer_bytes_limit())
    else:
        if sys.stdin is None or (source is None and sys.stdin.isatty()):
            fail("no answer given: use --answer TEXT, --file F, or pipe it with '-'")
        answer = read_stdin_answer()
    bank = load_bank(rubrics, no_builtin)
    rubric = get_rubric(bank, question_id)
    from grader.grading.feedback import answer_language
    from grader.grading.service import AnswerError, Grader, Outcome
    from grader.store.db import StoreError

    if not answer.strip():
        fail("the answer is empty: nothing to grade")
    the_judge = build_judge(judge, samples, model, base_url)
    from grader.grading.code import allow_unsandboxed_code as _allow_code

    _allow_code(allow_unsandboxed_code)
    store = open_store(db)
    try:
        outcome = Grader(the_judge, store, use_cache=not no_cache, source="grade").grade(rubric, answer)
    except AnswerError as exc:
        fail(str(exc))
    except StoreError as exc:
        if exc.grading is None:
            fail(str(exc), EXIT_STORE)
        outcome, not_stored = Outcome(exc.grading, None), str(exc)  # the judge's work is shown, not lost
    else:
        not_stored = None
    finally:
        store.close()
    g = outcome.grading
    if g.code is not None and g.code.status == "not_run":  # why the code did not run, and how to opt in
        from grader.cli.common import warn

        warn(g.code.message)
    if json_out:
        data = g.model_dump(mode="json")
        data["grading_id"] = outcome.grading_id
        print_json(data)
    else:
        from grader.report.terminal import render_grading

        from grader.cli.common import resolve_lang

        render_grading(console(), g, rubric, resolve_lang(lang) or answer_language(answer), verbose=verbose)
    if not_stored:
        fail(f"{not_stored}; the grading above was NOT stored", EXIT_STORE)
    if g.status == "unscored":
        raise typer.Exit(EXIT_UNSCORED)
