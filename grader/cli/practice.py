"""`grader practice`: ask, grade, explain, next; until the candidate stops."""

from __future__ import annotations

import random
from typing import Annotated

import typer

from grader.cli.common import (
    BaseUrlOpt,
    DbOpt,
    JudgeOpt,
    ModelOpt,
    NoBuiltinOpt,
    RubricsOpt,
    build_judge,
    console,
    fail,
    get_rubric,
    load_bank,
    open_store,
)

END_MARK = "."


def _read_answer(out) -> str | None:
    """Multi-line answer: ends with a line holding only '.', or two empty lines, or Ctrl-D.
    None means the candidate wants to stop."""
    out.print(f"[dim]Answer below; finish with a line containing only '{END_MARK}' (or two empty lines). Ctrl-D/Ctrl-C quits.[/dim]")
    lines: list[str] = []
    while True:
        try:
            line = input()
        except EOFError:
            return "\n".join(lines).strip() or None
        if line.strip() == END_MARK:
            break
        if not line.strip() and lines and not lines[-1].strip():
            break
        lines.append(line)
    return "\n".join(lines).strip()


def _choose(bank, rng: random.Random, weights: dict[str, float], category: str | None, asked: set[str]):
    pool = bank.filter(category)
    fresh = [r for r in pool if r.id not in asked] or pool
    if category:
        return rng.choice(fresh)
    cats = sorted({r.category for r in fresh})
    cat = rng.choices(cats, weights=[weights.get(c, 1.0) for c in cats])[0]
    return rng.choice([r for r in fresh if r.category == cat])


def practice(
    question_id: Annotated[str | None, typer.Argument(help="Start with this question.", show_default=False)] = None,
    category: Annotated[str | None, typer.Option("--category", "-c", help="Only questions of this category.", show_default=False)] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of questions and feedback: zh or en.")] = "zh",
    judge: JudgeOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Make the order of questions repeatable.", show_default=False)] = None,
    db: DbOpt = None,
    rubrics: RubricsOpt = None,
    no_builtin: NoBuiltinOpt = False,
) -> None:
    """Practise interactively: a question (weak categories more often), your answer, the grading,
    the reference answer if you want it, a follow-up, then the next question."""
    from grader.cli.questions import resolve_category
    from grader.grading.service import AnswerError, Grader
    from grader.report.terminal import render_grading
    from grader.store.progress import category_weights, summarise

    if lang not in ("zh", "en"):
        fail(f"--lang must be zh or en, not {lang!r}")
    bank = load_bank(rubrics, no_builtin)
    cat = resolve_category(category) if category else None
    if cat and not bank.filter(cat):
        fail(f"no questions in category {cat!r}")
    first = get_rubric(bank, question_id) if question_id else None
    the_judge = build_judge(judge, None, model, base_url)
    store = open_store(db)
    grader = Grader(the_judge, store, source="practice")
    weights = category_weights(summarise(store.graded_rows()), sorted({r.category for r in bank.rubrics.values()}))
    rng = random.Random(seed)
    out = console()
    asked: set[str] = set()
    scores: list[float] = []
    out.print(f"[bold]grader practice[/bold] · {the_judge.info().label}")
    try:
        rubric = first or _choose(bank, rng, weights, cat, asked)
        while True:
            asked.add(rubric.id)
            out.rule(f"{rubric.id} · {rubric.category_name}")
            out.print(f"[bold]{getattr(rubric.question, lang)}[/bold]", highlight=False)
            if rubric.code_check:
                out.print(f"[dim]{rubric.code_check.signature}[/dim]", highlight=False)
            answer = _read_answer(out)
            if answer is None:
                break
            if not answer:
                out.print("[yellow]Empty answer: nothing to grade.[/yellow]")
            else:
                try:
                    outcome = grader.grade(rubric, answer)
                except AnswerError as exc:
                    out.print(f"[red]{exc}[/red]")
                else:
                    render_grading(out, outcome.grading, rubric, lang)
                    if outcome.grading.percent is not None:
                        scores.append(outcome.grading.percent)
            choice = _menu(out)
            while choice == "r":
                ref = getattr(rubric.reference_answer, lang) or rubric.reference_answer.zh
                out.rule("参考答案" if lang == "zh" else "Reference answer")
                out.print(ref, highlight=False)
                choice = _menu(out)
            if choice == "q":
                break
            rubric = _choose(bank, rng, weights, cat, asked)
    except KeyboardInterrupt:
        out.print()
    finally:
        store.close()
    if scores:
        out.print(f"Session: {len(scores)} graded, average {sum(scores) / len(scores):.0f}%. See `grader progress`.")
    else:
        out.print("Bye.")


def _menu(out) -> str:
    out.print("[bold]\\[r][/bold] reference answer · [bold]\\[n][/bold] next question · [bold]\\[q][/bold] quit")
    try:
        choice = input("> ").strip().lower()
    except EOFError:
        return "q"
    return choice[:1] if choice[:1] in ("r", "n", "q") else "n"
