"""`grader practice`: ask, grade, explain, next; until the candidate stops."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Annotated

import typer

from grader.cli.common import (
    LangOpt,
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
    resolve_lang,
)
from grader.cli.terminal_io import LineTerminal, PromptTerminal
from grader.transcripts.encoding import decode_user_text
from grader.transcripts.errors import TranscriptError

TEXT = {
    "zh": {
        "hint": "Esc 再按 Enter（或 Alt+Enter）提交 · 空白时 Ctrl-D 退出 · ↑↓ 翻看以前的回答",
        "menu": "[r] 参考答案 · [d] 详情 · [n] 下一题 · [q] 退出",
        "reference": "参考答案",
        "details": "详情",
        "empty": "回答是空的，没有可评分的内容。再试一次，或按 Ctrl-D 退出。",
        "implement": "需要实现",
        "session": "本次练习：评了 {n} 题，平均 {avg:.0f}%。用 `grader progress` 查看进度。",
        "bye": "再见。",
    },
    "en": {
        "hint": "Esc then Enter (or Alt-Enter) submits · Ctrl-D on an empty answer quits",
        "menu": "[r] reference answer · [d] details · [n] next question · [q] quit",
        "reference": "Reference answer",
        "details": "Details",
        "empty": "The answer is empty: nothing to grade. Try again, or press Ctrl-D to quit.",
        "implement": "Implement",
        "session": "Session: {n} graded, average {avg:.0f}%. See `grader progress`.",
        "bye": "Bye.",
    },
}
MENU_KEYS = ("r", "d", "n", "q")


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
    lang: LangOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show the details of every grading at once.")] = False,
    judge: JudgeOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Make the order of questions repeatable.", show_default=False)] = None,
    db: DbOpt = None,
    rubrics: RubricsOpt = None,
    no_builtin: NoBuiltinOpt = False,
    allow_unsandboxed_code: Annotated[
        bool,
        typer.Option("--allow-unsandboxed-code", help="Run the code in answers even where bubblewrap cannot isolate it (risky: "
                     "the code can read and change anything your user can)."),
    ] = False,
) -> None:
    """Practise interactively: a question (weak categories more often), your answer, the grading, the reference answer if you want it, a follow-up, then the next question. Submit with Esc then Enter (or Alt-Enter); Ctrl-D on an empty answer quits."""
    from grader.cli.questions import resolve_category

    chosen = resolve_lang(lang)
    bank = load_bank(rubrics, no_builtin)
    cat = resolve_category(category, bank=bank) if category else None
    if cat and not bank.filter(cat):
        fail(f"no questions in category {cat!r}")
    first = get_rubric(bank, question_id) if question_id else None
    the_judge = build_judge(judge, None, model, base_url)
    from grader.grading.code import allow_unsandboxed_code as _allow_code

    _allow_code(allow_unsandboxed_code)
    store = open_store(db)
    if sys.stdin.isatty() and sys.stdout.isatty():
        term = PromptTerminal(history_path=_history_path(store.path))
    else:  # piped: one answer ends at a line holding only '.', or at end of input
        term = LineTerminal()
    try:
        run_session(bank, the_judge, store, term, console(), first=first, category=cat, lang=chosen, verbose=verbose, seed=seed)
    finally:
        store.close()


def _history_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.stem + ".practice-history")


def run_session(bank, the_judge, store, term, out, *, first=None, category=None, lang=None, verbose=False, seed=None) -> list[float]:
    """The practice loop, with its input (`term`) and output (`out`, a rich console) given, so
    that tests drive it through prompt_toolkit's pipe input. Returns the session's scores."""
    from grader.grading.feedback import answer_language
    from grader.grading.service import AnswerError, Grader
    from grader.report.terminal import category_label, render_details, render_grading
    from grader.store.progress import category_weights, summarise

    grader = Grader(the_judge, store, source="practice")
    weights = category_weights(summarise(store.graded_rows(source="practice")), sorted({r.category for r in bank.rubrics.values()}))
    rng = random.Random(seed)
    asked: set[str] = set()
    scores: list[float] = []
    ui = lang or "zh"  # the screen's language until an answer shows the candidate's
    out.print(f"[bold]grader practice[/bold] · {the_judge.info().label}", highlight=False)
    try:
        rubric = first or _choose(bank, rng, weights, category, asked)
        while True:
            asked.add(rubric.id)
            t = TEXT[ui]
            out.rule(f"{rubric.id} · {category_label(rubric, ui)}")
            out.print(f"[bold]{_escape(getattr(rubric.question, ui))}[/bold]", highlight=False)
            if rubric.code_check:
                out.print(f"[dim]{t['implement']}: {_escape(rubric.code_check.signature)}[/dim]", highlight=False)
            answer = term.read_answer(t["hint"])
            if answer is None:
                break
            try:  # decoded like every other input: no lone surrogate from a GBK terminal reaches the store
                answer = decode_user_text(answer, "your answer")
            except TranscriptError as exc:
                out.print(f"[red]{_escape(str(exc))}[/red]")
                continue
            try:  # the one decode path of every input: undecodable bytes never reach the store
                answer = decode_user_text(answer, "answer")
            except TranscriptError as exc:
                out.print(f"[red]{_escape(str(exc))}[/red]")
                continue
            if not answer.strip():
                out.print(f"[yellow]{t['empty']}[/yellow]")
                continue
            ui = lang or answer_language(answer)
            t = TEXT[ui]
            try:
                outcome = grader.grade(rubric, answer)
            except AnswerError as exc:
                out.print(f"[red]{_escape(str(exc))}[/red]")
                continue
            g = outcome.grading
            render_grading(out, g, rubric, ui, verbose=verbose)
            if g.percent is not None:
                scores.append(g.percent)
            choice = term.key(t["menu"], MENU_KEYS)
            while choice in ("r", "d"):
                if choice == "r":
                    from rich.markdown import Markdown

                    out.rule(t["reference"])
                    out.print(Markdown(getattr(rubric.reference_answer, ui) or rubric.reference_answer.zh))
                else:
                    out.rule(t["details"])
                    render_details(out, g, rubric, ui, verbose=verbose)
                choice = term.key(t["menu"], MENU_KEYS)
            if choice == "q":
                break
            rubric = _choose(bank, rng, weights, category, asked)
    except KeyboardInterrupt:
        out.print()
    t = TEXT[ui]
    if scores:
        out.print(t["session"].format(n=len(scores), avg=sum(scores) / len(scores)), highlight=False)
    else:
        out.print(t["bye"])
    return scores


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
