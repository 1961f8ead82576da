"""`grader questions`: list the bank."""

from __future__ import annotations

from typing import Annotated

import typer

from grader.cli.common import JsonOpt, Lang, NoBuiltinOpt, RubricsOpt, console, fail, load_bank, print_json
from grader.rubric.categories import CATEGORIES


def questions(
    category: Annotated[str | None, typer.Option("--category", "-c", help="Only this category (slug or name).")] = None,
    qtype: Annotated[str | None, typer.Option("--type", "-t", help="Only this type: concept, derivation or coding.")] = None,
    lang: Annotated[Lang | None, typer.Option("--lang", case_sensitive=False, help="Language of the question text: zh or en (default: config, else zh).", show_default=False)] = None,
    json_out: JsonOpt = False,
    rubrics: RubricsOpt = None,
    no_builtin: NoBuiltinOpt = False,
) -> None:
    """List the questions in the bank."""
    from grader.cli.common import resolve_lang

    lang = resolve_lang(lang) or "zh"
    bank = load_bank(rubrics, no_builtin)
    cat = resolve_category(category, bank=bank) if category else None
    if qtype and qtype not in ("concept", "derivation", "coding"):
        fail(f"unknown type {qtype!r}; choose concept, derivation or coding")
    items = bank.filter(cat, qtype)
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


def resolve_category(value: str, new: bool = False, bank=None) -> str:
    """The slug of a category given by slug or name; also a team's own category that one of
    `bank`'s rubrics names. With `new` (a team drafting its own questions), any slug."""
    from grader.rubric.categories import category_slug

    slug = category_slug(value)
    if slug in CATEGORIES or (slug and new) or (slug and bank is not None and any(r.category == slug for r in bank.rubrics.values())):
        return slug
    hint = " or a new slug (lowercase words joined by '-')" if new else ""
    fail(f"unknown category {value!r}; choose one of: {', '.join(CATEGORIES)}{hint}")
