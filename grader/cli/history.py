"""`grader history` and `grader progress`: what the store holds, by default the user's own work
(practice and grade); `--source` and `--candidate` show batch gradings of transcripts."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from grader.cli.common import DbOpt, JsonOpt, LangOpt, console, fail, open_store, print_json, resolve_lang

SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source", "-s",
        help="Whose gradings: practice, grade, batch or all (default: your own, practice and grade).",
        show_default=False,
    ),
]
CandidateOpt = Annotated[
    str | None,
    typer.Option("--candidate", help="Batch gradings of this transcript (path, file name or stem).", show_default=False),
]


def _check_scope(store, source: str | None, candidate: str | None) -> None:
    from grader.store.db import SOURCES

    if source is not None and source not in SOURCES:
        fail(f"unknown source {source!r}; choose one of: {', '.join(SOURCES)}")
    if candidate is not None and not store.graded_rows(candidate=candidate) and not store.history(candidate=candidate, limit=1):
        known = store.candidates()
        hint = f"; known: {', '.join(known[:10])}" if known else "; no batch has been graded yet"
        fail(f"no batch gradings for candidate {candidate!r}{hint}")


def history(
    question: Annotated[str | None, typer.Option("--question", "-q", help="Only this question id.", show_default=False)] = None,
    category: Annotated[str | None, typer.Option("--category", "-c", help="Only this category.", show_default=False)] = None,
    source: SourceOpt = None,
    candidate: CandidateOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many, newest first.")] = 20,
    show_id: Annotated[int | None, typer.Option("--id", help="Show one stored grading as `grade` shows it (with --json: in full).", show_default=False)] = None,
    lang: LangOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="With --id: the evidence, what to add and the judge's notes.")] = False,
    json_out: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """List stored gradings, newest first: your own practice and grade runs unless --source or --candidate say otherwise."""
    store = open_store(db)
    if show_id is not None:
        _show_one(store, show_id, resolve_lang(lang), verbose, json_out)
        return
    _check_scope(store, source, candidate)
    if category:
        from grader.cli.common import load_bank
        from grader.cli.questions import resolve_category

        category = resolve_category(category, bank=load_bank(None))
    if question:
        _check_question(store, question)
    rows = store.history(question, category, limit, source=source, candidate=candidate)
    if json_out:
        keys = ("id", "created_at", "question_id", "category", "judge_kind", "judge_model", "status", "score",
                "max_score", "percent", "source", "candidate")
        print_json([{k: r[k] for k in keys} for r in rows])
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} grading(s)")
    for col in ("id", "when", "question", "source", "judge", "score", "status"):
        table.add_column(col, no_wrap=col in ("id", "when", "score", "source"), overflow="fold")
    for r in rows:
        score = f"{r['score']:g}/{r['max_score']:g} ({r['percent']:g}%)" if r["score"] is not None else "—"
        who = r["source"] or "—"
        if r["candidate"]:
            who += f": {r['candidate'].rsplit('/', 1)[-1]}"
        table.add_row(str(r["id"]), r["created_at"][:19].replace("T", " "), r["question_id"], who, r["judge_kind"], score, r["status"])
    console().print(table)


def _check_question(store, question: str) -> None:
    """An id that is neither in the bank nor in the store is a typo: say so, with suggestions."""
    if store.history(question, limit=1, source="all"):
        return
    from grader.cli.common import get_rubric, load_bank

    get_rubric(load_bank(None), question)


def _show_one(store, grading_id: int, lang: str | None, verbose: bool, json_out: bool) -> None:
    row = store.get(grading_id)
    if row is None:
        fail(f"no stored grading with id {grading_id}")
    data = json.loads(row["result"])
    if json_out:
        data["answer"] = row["answer"]
        data["grading_id"] = row["id"]
        data["source"] = row["source"]
        data["candidate"] = row["candidate"]
        print_json(data)
        return
    from grader.cli.common import load_bank
    from grader.grading.feedback import answer_language
    from grader.grading.models import Grading
    from grader.report.terminal import render_grading

    g = Grading.model_validate(data)
    rubric = load_bank(None).rubrics.get(g.question_id)
    if rubric is None:
        fail(f"grading {grading_id} is for question {g.question_id!r}, which is not in the bank; use --json")
    out = console()
    when = row["created_at"][:19].replace("T", " ")
    who = (row["source"] or "—") + (f" · {row['candidate']}" if row["candidate"] else "")
    out.print(f"[dim]#{grading_id} · {when} · {who}[/dim]", highlight=False)
    render_grading(out, g, rubric, lang or answer_language(row["answer"]), verbose=verbose)


def progress(
    source: SourceOpt = None,
    candidate: CandidateOpt = None,
    json_out: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Per-category averages (latest attempt per question), trend and weakest topics: your own practice and grade runs unless --source or --candidate say otherwise."""
    from grader.rubric.categories import CATEGORIES
    from grader.store.progress import summarise

    store = open_store(db)
    _check_scope(store, source, candidate)
    summary = summarise(store.graded_rows(source=source, candidate=candidate))
    if json_out:
        print_json([p.__dict__ for p in summary])
        return
    if not summary:
        typer.echo("No gradings yet: try `grader practice`." if not (source or candidate) else "No gradings match.")
        return
    from rich.table import Table

    title = "Progress by category (weakest first)"
    if candidate:
        title += f": {candidate}"
    elif source:
        title += f": {source}"
    table = Table(title=title)
    for col in ("category", "questions", "attempts", "average", "trend", "weakest questions"):
        table.add_column(col)
    for p in summary:
        trend = "—" if p.trend is None else (f"▲ {p.trend:+g}" if p.trend > 0 else f"▼ {p.trend:+g}" if p.trend < 0 else "= 0")
        weakest = ", ".join(f"{q} ({s:g}%)" for q, s in p.weakest)
        name = CATEGORIES.get(p.category, (p.category,))[0]
        table.add_row(name, str(p.questions), str(p.attempts), f"{p.average:g}%", trend, weakest)
    console().print(table)
