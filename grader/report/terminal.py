"""A grading as a candidate reads it in the terminal: a first screen that fits 80x24 (score, one
line per criterion, wrong claims, the follow-up), and the details (evidence, what to add) on
demand. Every label is in one language."""

from __future__ import annotations

from grader.grading.models import Grading
from grader.rubric.models import Rubric

SYMBOL = {"met": "✓", "partial": "◐", "missed": "✗"}
COLOUR = {"met": "green", "partial": "yellow", "missed": "red"}

LABELS = {
    "zh": {
        "verdict": {"met": "答到", "partial": "部分", "missed": "未答到"},
        "score": "得分",
        "unscored": "无法评分",
        "cached": "来自缓存",
        "code": "代码",
        "tests_passed": "{passed}/{total} 个测试通过",
        "wrong_claims": "错误说法",
        "to_add": "还需要补充",
        "follow_up": "追问：",
        "evidence": "证据",
        "no_evidence": "（没有引用）",
        "not_in_answer": "（回答里没有这句）",
        "needs_review": "需人工复核",
        "rationale": "判分依据",
        "note": "说明",
        "flags": {
            "evidence_not_found": "引用不在回答中：不给分",
            "some_evidence_not_found": "部分引用不在回答中",
            "keyword_list": "只列了关键词，没有说明",
            "question_words_only": "只重复了题目",
            "weak_context": "提到了术语，但说法不清楚",
            "borderline": "多次评分不一致",
            "split": "多次评分有分歧",
            "code_tests": "由运行代码判定",
            "in_wrong_claim": "出现在错误说法里",
            "evidence_rejected": "引用与该要点无关或含指令：不给分",
            "reversed_relation": "说反了（角色、顺序或方向）",
            "denied_point": "否定了这一点",
            "relation_absent": "没说清是哪一个/哪个方向",
            "code_not_run": "代码未运行（无法隔离）",
            "sandbox_failed": "沙箱出错：不给分",
        },
    },
    "en": {
        "verdict": {"met": "met", "partial": "partial", "missed": "missed"},
        "score": "Score",
        "unscored": "UNSCORED",
        "cached": "cached",
        "code": "Code",
        "tests_passed": "{passed}/{total} tests passed",
        "wrong_claims": "Wrong claims",
        "to_add": "To add",
        "follow_up": "Follow-up: ",
        "evidence": "Evidence",
        "no_evidence": "(no quote)",
        "not_in_answer": "(not in answer)",
        "needs_review": "needs review",
        "rationale": "Rationale",
        "note": "note",
        "flags": {
            "evidence_not_found": "quote not in answer: credit withdrawn",
            "some_evidence_not_found": "some quotes not in answer",
            "keyword_list": "keywords without a claim",
            "question_words_only": "only repeats the question",
            "weak_context": "terms present, claim unclear",
            "borderline": "samples disagree",
            "split": "samples split",
            "code_tests": "from running the code",
            "in_wrong_claim": "stated inside a wrong claim",
            "evidence_rejected": "quote unrelated to the point or an instruction: credit withdrawn",
            "reversed_relation": "turned round (roles, order or direction)",
            "denied_point": "denies the point",
            "relation_absent": "does not say which one or which way",
            "code_not_run": "code not run (no isolation)",
            "sandbox_failed": "sandbox failed: no credit",
        },
    },
}


def labels(lang: str) -> dict:
    return LABELS["en" if lang == "en" else "zh"]


def _short(text: str, n: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _statement(rubric: Rubric, cid: str, lang: str) -> str:
    crit = next((x for x in rubric.criteria if x.id == cid), None)
    return getattr(crit.statement, lang) if crit else cid


def judge_label(info, lang: str) -> str:
    """Which judge graded it, in the screen's language."""
    if lang != "zh":
        return info.label
    if info.kind == "offline":
        return f"离线评分（{info.model}，未使用 LLM）"
    return f"LLM 评分（{info.model}）"


def category_label(rubric: Rubric, lang: str) -> str:
    from grader.rubric.categories import CATEGORIES

    names = CATEGORIES.get(rubric.category)
    return names[1 if lang == "zh" else 0] if names else rubric.category_name


def _line(console, markup: str) -> None:
    """One screen line: cut with an ellipsis, never wrapped, so the first screen stays short."""
    from rich.text import Text

    console.print(Text.from_markup(markup), highlight=False, no_wrap=True, overflow="ellipsis", crop=True)


def render_grading(console, g: Grading, rubric: Rubric, lang: str = "zh", verbose: bool = False) -> None:
    """The first screen; with `verbose`, the details follow it."""
    from rich.markup import escape

    from grader.grading.feedback import localized_feedback, localized_misconceptions

    t = labels(lang)
    lang = "en" if lang == "en" else "zh"
    cached = f" · {t['cached']}" if g.cached else ""
    console.print(f"[bold]{escape(g.question_id)}[/bold] · {escape(category_label(rubric, lang))}{cached} · {escape(judge_label(g.judge, lang))}", highlight=False)
    if g.status == "unscored":
        console.print(f"[bold red]{t['unscored']}[/bold red]: {escape(g.reason or '')}", highlight=False)
        return
    fb = localized_feedback(g, rubric, lang)
    colour = "green" if g.percent >= 75 else "yellow" if g.percent >= 50 else "red"
    _line(console, f"[bold {colour}]{t['score']} {g.score:g}/{g.max_score:g} ({g.percent:g}%)[/bold {colour}]  {escape(fb.summary)}")
    if g.code:
        _line(console, f"{t['code']}: {escape(g.code.message)} ({t['tests_passed'].format(passed=g.code.passed, total=g.code.total)})")
    for c in g.criteria:
        mark = f"[{COLOUR[c.verdict]}]{SYMBOL[c.verdict]} {t['verdict'][c.verdict]}[/{COLOUR[c.verdict]}]"
        flag = " ⚑" if c.needs_review else ""
        _line(console, f" {mark} {c.points:g}/{c.max_points:g}{flag}  {escape(_statement(rubric, c.id, lang))}")
    wrong = localized_misconceptions(g, rubric, lang)
    if wrong:
        console.print(f"[bold red]{t['wrong_claims']}[/bold red]")
        for m in wrong:
            quote = f"“{escape(_short(m.evidence[0].quote, 40))}” " if m.evidence else ""
            _line(console, f" [red]✗ −{m.penalty:g}[/red] {quote}→ {escape(m.correction)}")
    if fb.follow_up:
        console.print(f"[bold]{t['follow_up']}[/bold]{escape(fb.follow_up)}", highlight=False)
    if verbose:
        render_details(console, g, rubric, lang, verbose=True)


def render_details(console, g: Grading, rubric: Rubric, lang: str = "zh", verbose: bool = False) -> None:
    """What the first screen leaves out: each criterion's evidence and flags, what to add, the
    judge's notes; with `verbose`, also the judge's own rationale (a diagnostic)."""
    from rich.markup import escape

    from grader.grading.feedback import localized_feedback

    t = labels(lang)
    lang = "en" if lang == "en" else "zh"
    if g.status == "unscored":
        return
    fb = localized_feedback(g, rubric, lang)
    console.print(f"[bold]{t['evidence']}[/bold]")
    for c in g.criteria:
        colour = COLOUR[c.verdict]
        console.print(f"[{colour}]{SYMBOL[c.verdict]}[/{colour}] {escape(_statement(rubric, c.id, lang))}", highlight=False)
        for e in c.evidence:
            missing = "" if e.verified else f" [red]{t['not_in_answer']}[/red]"
            console.print(f"    “{escape(_short(e.quote))}”{missing}", highlight=False)
        if not c.evidence:
            console.print(f"    [dim]{t['no_evidence']}[/dim]")
        notes = [t["flags"].get(f, f) for f in c.flags]
        if c.needs_review:
            notes.append(t["needs_review"])
        if notes:
            console.print(f"    [dim]{escape('; '.join(notes))}[/dim]", highlight=False)
        if verbose and c.rationale:
            console.print(f"    [dim]{t['rationale']}: {escape(c.rationale)}[/dim]", highlight=False)
    if fb.missing:
        console.print(f"[bold]{t['to_add']}[/bold]")
        for item in fb.missing:
            console.print(f"  • {escape(item)}", highlight=False)
    if verbose:
        for note in g.notes:
            console.print(f"[dim]{t['note']}: {escape(note)}[/dim]", highlight=False)
