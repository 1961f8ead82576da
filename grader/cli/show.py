"""`grader show ID`: one question and its rubric."""

from __future__ import annotations

from typing import Annotated

import typer

from grader.cli.common import JsonOpt, NoBuiltinOpt, RubricsOpt, console, fail, get_rubric, load_bank, print_json


def show(
    question_id: Annotated[str, typer.Argument(help="Question id, as listed by `grader questions`.")],
    reference: Annotated[bool, typer.Option("--reference", help="Also reveal the reference answer.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language: zh or en.")] = "zh",
    json_out: JsonOpt = False,
    rubrics: RubricsOpt = None,
    no_builtin: NoBuiltinOpt = False,
) -> None:
    """Show one question: the criteria with their points, and optionally the reference answer."""
    if lang not in ("zh", "en"):
        fail(f"--lang must be zh or en, not {lang!r}")
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
    out.print(f"[bold]{r.id}[/bold]  {r.category_name} · {r.type} · v{r.version} · {r.max_points:g} points")
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
