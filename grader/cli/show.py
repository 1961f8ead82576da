"""`grader show ID`: one question and its rubric."""

from __future__ import annotations

from typing import Annotated

import typer

from grader.cli.common import JsonOpt, Lang, NoBuiltinOpt, RubricsOpt, console, get_rubric, load_bank, print_json


def show(
    question_id: Annotated[str, typer.Argument(help="Question id, as listed by `grader questions`.")],
    reference: Annotated[bool, typer.Option("--reference", help="Also reveal the reference answer.")] = False,
    lang: Annotated[Lang | None, typer.Option("--lang", case_sensitive=False, help="Language: zh or en (default: config, else zh).", show_default=False)] = None,
    json_out: JsonOpt = False,
    rubrics: RubricsOpt = None,
    no_builtin: NoBuiltinOpt = False,
) -> None:
    """Show one question: the criteria with their points, and optionally the reference answer."""
    from grader.cli.common import resolve_lang

    lang = resolve_lang(lang) or "zh"
    bank = load_bank(rubrics, no_builtin)
    r = get_rubric(bank, question_id)
    if json_out:
        data = r.model_dump(mode="json")
        if not reference:
            data.pop("reference_answer")
            if data.get("code_check"):
                data["code_check"].pop("reference", None)
        data["content_hash"] = r.content_hash()
        data["max_points"] = r.max_points
        print_json(data)
        return
    out = console()
    from grader.report.terminal import category_label

    types = {"concept": "概念", "derivation": "推导", "coding": "编程"}
    kind = types.get(r.type, r.type) if lang == "zh" else r.type
    points = f"{r.max_points:g} 分" if lang == "zh" else f"{r.max_points:g} points"
    out.print(f"[bold]{r.id}[/bold]  {category_label(r, lang)} · {kind} · v{r.version} · {points}", highlight=False)
    out.print(getattr(r.question, lang), highlight=False)
    if r.code_check:
        label = "需要实现" if lang == "zh" else "Implement"
        out.print(f"{label}: {r.code_check.signature}", highlight=False)
    out.print()
    for c in r.criteria:
        out.print(f"  [{c.points:g}] {c.id}: {getattr(c.statement, lang)}", highlight=False)
    if reference:
        out.print()
        text = getattr(r.reference_answer, lang) or r.reference_answer.zh
        from rich.markdown import Markdown

        out.print(Markdown(text))
        if r.misconceptions:
            out.print()
            out.print("常见错误:" if lang == "zh" else "Common mistakes:")
            for m in r.misconceptions:
                out.print(f"  ✗ {getattr(m.claim, lang)} → {getattr(m.correction, lang)}", highlight=False)
