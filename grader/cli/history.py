"""`grader history` and `grader progress`: what the store holds."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from grader.cli.common import DbOpt, JsonOpt, console, open_store, print_json


def history(
    question: Annotated[str | None, typer.Option("--question", "-q", help="Only this question id.", show_default=False)] = None,
    category: Annotated[str | None, typer.Option("--category", "-c", help="Only this category.", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many, newest first.")] = 20,
    show_id: Annotated[int | None, typer.Option("--id", help="Show one stored grading in full (JSON).", show_default=False)] = None,
    json_out: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """List stored gradings, newest first."""
    store = open_store(db)
    if show_id is not None:
        row = store.get(show_id)
        if row is None:
            from grader.cli.common import fail

            fail(f"no stored grading with id {show_id}")
        data = json.loads(row["result"])
        data["answer"] = row["answer"]
        data["grading_id"] = row["id"]
        print_json(data)
        return
    if category:
        from grader.cli.questions import resolve_category

        category = resolve_category(category)
    rows = store.history(question, category, limit)
    if json_out:
        print_json(
            [
                {k: r[k] for k in ("id", "created_at", "question_id", "category", "judge_kind", "judge_model", "status", "score", "max_score", "percent", "source")}
                for r in rows
            ]
        )
        return
    from rich.table import Table

    table = Table(title=f"{len(rows)} grading(s)")
    for col in ("id", "when", "question", "judge", "score", "status"):
        table.add_column(col)
    for r in rows:
        score = f"{r['score']:g}/{r['max_score']:g} ({r['percent']:g}%)" if r["score"] is not None else "—"
        table.add_row(str(r["id"]), r["created_at"][:19].replace("T", " "), r["question_id"], r["judge_kind"], score, r["status"])
    console().print(table)


def progress(json_out: JsonOpt = False, db: DbOpt = None) -> None:
    """Per-category averages (latest attempt per question), trend and weakest topics."""
    from grader.rubric.categories import CATEGORIES
    from grader.store.progress import summarise

    summary = summarise(open_store(db).graded_rows())
    if json_out:
        print_json([p.__dict__ for p in summary])
        return
    if not summary:
        typer.echo("No gradings yet: try `grader practice`.")
        return
    from rich.table import Table

    table = Table(title="Progress by category (weakest first)")
    for col in ("category", "questions", "attempts", "average", "trend", "weakest questions"):
        table.add_column(col)
    for p in summary:
        trend = "—" if p.trend is None else (f"▲ {p.trend:+g}" if p.trend > 0 else f"▼ {p.trend:+g}" if p.trend < 0 else "= 0")
        weakest = ", ".join(f"{q} ({s:g}%)" for q, s in p.weakest)
        name = CATEGORIES.get(p.category, (p.category,))[0]
        table.add_row(name, str(p.questions), str(p.attempts), f"{p.average:g}%", trend, weakest)
    console().print(table)
