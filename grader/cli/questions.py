"""`grader questions`: list the bank."""

from __future__ import annotations

from typing import Annotated

import typer

from grader.cli.common import JsonOpt, NoBuiltinOpt, RubricsOpt, console, fail, load_bank, print_json
from grader.rubric.categories import CATEGORIES


def questions(
    category: Annotated[str | None, typer.Option("--category", "-c", help="Only this category (slug or name).")] = None,
    qtype: Annotated[str | None, typer.Option("--type", "-t", help="Only this type: concept, derivation or coding.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of the question text: zh or en.")] = "zh",
    json_out: JsonOpt = False,
    rubrics: RubricsOpt = None,
    no_builtin: NoBuiltinOpt = False,
) -> None:
    """List the questions in the bank."""
    if lang not in ("zh", "en"):
        fail(f"--lang must be zh or en, not {lang!r}")
    cat = resolve_category(category) if category else None
    if qtype and qtype not in ("concept", "derivation", "coding"):
        fail(f"unknown type {qtype!r}; choose concept, derivation or coding")
    items = load_bank(rubrics, no_builtin).filter(cat, qtype)
    if json_out:
        print_json(
            [
                {
                    "id": r.id,
                    "category": r.category,
                    "category_name": r.category_name,
                    "type": r.type,
                    "version": r.version,
                    "max_points": r.max_points,
                    "question": {"zh": r.question.zh, "en": r.question.en},
                }
                for r in items
            ]
        )
        return
    from rich.table import Table

    table = Table(show_lines=False, title=f"{len(items)} questions")
    for col in ("id", "category", "type", "question"):
        table.add_column(col, overflow="fold")
    for r in items:
        table.add_row(r.id, r.category_name, r.type, getattr(r.question, lang))
    console().print(table)


def resolve_category(value: str) -> str:
    key = value.strip().lower()
    for slug, (en, zh) in CATEGORIES.items():
        if key in (slug, en.lower(), zh.lower()):
            return slug
    fail(f"unknown category {value!r}; choose one of: {', '.join(CATEGORIES)}")
