"""A grading as a candidate reads it in the terminal."""

from __future__ import annotations

from grader.grading.models import Grading
from grader.rubric.models import Rubric

MARK = {"met": "[green]✓ met[/green]", "partial": "[yellow]◐ partial[/yellow]", "missed": "[red]✗ missed[/red]"}
FLAG_TEXT = {
    "evidence_not_found": "quote not in answer: credit withdrawn",
    "some_evidence_not_found": "some quotes not in answer",
    "keyword_list": "keywords without a claim",
    "question_words_only": "only repeats the question",
    "weak_context": "terms present, claim unclear",
    "borderline": "samples disagree",
    "split": "samples split",
    "code_tests": "from running the code",
    "in_wrong_claim": "stated inside a wrong claim",
}


def _short(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def render_grading(console, g: Grading, rubric: Rubric, lang: str = "zh") -> None:
    from rich.markup import escape
    from rich.table import Table

    zh = lang == "zh"
    console.print(f"[bold]{g.question_id}[/bold] · {g.judge.label}" + (" · cached" if g.cached else ""), highlight=False)
    if g.status == "unscored":
        console.print(f"[bold red]UNSCORED[/bold red]: {escape(g.reason or '')}", highlight=False)
        return
    console.print(f"[bold]Score {g.score:g}/{g.max_score:g} ({g.percent:g}%)[/bold]  {escape(g.feedback.summary)}")
    if g.code:
        console.print(f"Code: {escape(g.code.message)} ({g.code.passed}/{g.code.total} tests passed)", highlight=False)
    table = Table(show_lines=True, expand=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("pts", justify="right", no_wrap=True)
    table.add_column("要点" if zh else "criterion", ratio=2, overflow="fold")
    table.add_column("证据" if zh else "evidence", ratio=3, overflow="fold")
    for c in g.criteria:
        crit = next((x for x in rubric.criteria if x.id == c.id), None)
        statement = getattr(crit.statement, lang) if crit else c.id
        ev = "\n".join(f"“{escape(_short(e.quote))}”" + ("" if e.verified else " [red](not in answer)[/red]") for e in c.evidence)
        notes = [FLAG_TEXT.get(f, f) for f in c.flags]
        if c.needs_review:
            notes.append("needs review")
        if notes:
            ev += ("\n" if ev else "") + "[dim]" + escape("; ".join(notes)) + "[/dim]"
        table.add_row(MARK[c.verdict], f"{c.points:g}/{c.max_points:g}", escape(statement), ev or "[dim]—[/dim]")
    console.print(table)
    if g.misconceptions:
        console.print("[bold red]错误说法[/bold red]" if zh else "[bold red]Wrong claims[/bold red]")
        for m in g.misconceptions:
            quote = f" “{escape(_short(m.evidence[0].quote, 70))}”" if m.evidence else ""
            console.print(f"  ✗ −{m.penalty:g}{quote}\n    → {escape(m.correction)}", highlight=False)
    if g.feedback.missing:
        console.print("[bold]还需要补充[/bold]" if zh else "[bold]To add[/bold]")
        for item in g.feedback.missing:
            console.print(f"  • {escape(item)}", highlight=False)
    if g.feedback.follow_up:
        console.print(("[bold]追问[/bold]: " if zh else "[bold]Follow-up[/bold]: ") + escape(g.feedback.follow_up), highlight=False)
    for note in g.notes:
        console.print(f"[dim]note: {escape(note)}[/dim]", highlight=False)
