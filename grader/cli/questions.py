"""`grader questions`: list the bank."""

from __future__ import annotations

from typing import Annotated

import typer

from grader.cli.common import JsonOpt, NoBuiltinOpt, RubricsOpt, console, fail, load_bank, print_json
from grader.rubric.categories import CATEGORIES


def questions(
    category: Annotated[str | None, typer.Option("--category", "-c", help="Only this category (slug or name).")] = None,
    qtype: Annotated[str | None, typer.Option("--type", "-t", help="Only this type: concept, derivation or coding.")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Language of the question text: zh or en (default: config, else zh).", show_default=False)] = None,
    json_out: JsonOpt = False,
    rubrics: RubricsOpt = None,
    no_builtin: NoBuiltinOpt = False,
) -> None:
    """List the questions in the bank."""
    from grader.cli.common import resolve_lang

    lang = resolve_lang(lang) or "zh"
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

    from grader.report.terminal import category_label

    zh = lang == "zh"
    table = Table(show_lines=False, title=f"{len(items)} 道题" if zh else f"{len(items)} questions")
    for col in (("id", "类别", "类型", "题目") if zh else ("id", "category", "type", "question")):
        table.add_column(col, overflow="fold")
    types = {"concept": "概念", "derivation": "推导", "coding": "编程"}
    for r in items:
        table.add_row(r.id, category_label(r, lang), types.get(r.type, r.type) if zh else r.type, getattr(r.question, lang))
    console().print(table)


def resolve_category(value: str) -> str:
    key = value.strip().lower()
    for slug, (en, zh) in CATEGORIES.items():
        if key in (slug, en.lower(), zh.lower()):
            return slug
    fail(f"unknown category {value!r}; choose one of: {', '.join(CATEGORIES)}")
