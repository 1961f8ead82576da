"""Writing transcript reports: Markdown, JSON and CSV here; HTML in html.py."""

from __future__ import annotations

import csv
import io
import json

from grader.report.data import TranscriptReport

MARK = {"met": "✓", "partial": "◐", "missed": "✗"}
_MD_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "\\[", "]": "\\]", "`": "\\`"})
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def md(text: object) -> str:
    """Answer and rubric text in Markdown: raw HTML (<script>, <img onerror>) and link syntax
    are shown as text, never rendered."""
    return str(text).translate(_MD_ESCAPE)


def csv_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_json(report: TranscriptReport) -> str:
    return json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2)


CSV_COLUMNS = [
    "transcript", "index", "question", "question_id", "category", "match_confidence", "status",
    "score", "max_score", "percent", "criteria_met", "criteria_partial", "criteria_missed",
    "misconceptions", "reason",
]


def csv_rows(report: TranscriptReport) -> list[dict]:
    rows = []
    for v in report.items:
        rows.append(
            {
                "transcript": report.path,
                "index": v.index,
                "question": v.question,
                "question_id": v.question_id or "",
                "category": v.category or "",
                "match_confidence": v.match_confidence,
                "status": v.status,
                "score": "" if v.score is None else v.score,
                "max_score": "" if v.max_score is None else v.max_score,
                "percent": "" if v.percent is None else v.percent,
                "criteria_met": ";".join(c.id for c in v.criteria if c.verdict == "met"),
                "criteria_partial": ";".join(c.id for c in v.criteria if c.verdict == "partial"),
                "criteria_missed": ";".join(c.id for c in v.criteria if c.verdict == "missed"),
                "misconceptions": len(v.misconceptions),
                "reason": v.reason or "",
            }
        )
    return rows


def to_csv(reports: list[TranscriptReport]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for r in reports:
        writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in csv_rows(r))
    return buf.getvalue()


def to_markdown(report: TranscriptReport) -> str:
    zh = report.lang == "zh"
    lines = [f"# {md(report.title)}", ""]
    if report.overall_percent is not None:
        lines.append(f"**{'总分' if zh else 'Overall'}: {report.overall_score:g}/{report.overall_max:g} ({report.overall_percent:g}%)** · {md(report.judge)}")
    else:
        lines.append(f"{'没有可评分的回答' if zh else 'No graded answers'} · {md(report.judge)}")
    lines.append("")
    if report.categories:
        lines += [f"| {'类别' if zh else 'Category'} | {'题数' if zh else 'Questions'} | {'得分' if zh else 'Score'} |", "|---|---|---|"]
        lines += [f"| {md(c.name)} | {c.questions} | {c.score:g}/{c.max_score:g} ({c.percent:g}%) |" for c in report.categories]
        lines.append("")
    if report.study_next:
        lines.append(f"## {'接下来复习' if zh else 'Study next'}")
        lines += [f"- {md(s)}" for s in report.study_next]
        lines.append("")
    from grader.report.html import LABELS

    labels = LABELS["zh" if zh else "en"]
    for v in report.items:
        lines.append(f"## Q{v.index}. {md(v.question)}")
        if v.question_id:
            lines.append(f"*{md(v.question_id)} · {md(v.category_name)} · {labels['match']} {v.match_confidence:.2f}*")
        if v.status != "graded":
            status = labels["statuses"].get(v.status, v.status)
            lines.append(f"**{status}**" + (f"{labels['colon']}{md(v.reason)}" if v.reason else ""))
        else:
            lines.append(f"**{v.score:g}/{v.max_score:g} ({v.percent:g}%)**")
        lines += ["", "> " + md(v.answer).replace("\n", "\n> "), ""]
        for c in v.criteria:
            quote = f" — “{md(c.evidence[0][2])}”" if c.evidence else ""
            lines.append(f"- {MARK[c.verdict]} {md(c.statement)} ({c.points:g}/{c.max_points:g}){quote}")
        for m in v.misconceptions:
            lines.append(f"- ✗ −{m['penalty']:g} “{md(m['quote'])}” → {md(m['correction'])}")
        if v.follow_up:
            lines.append(f"- {'追问' if zh else 'Follow-up'}: {md(v.follow_up)}")
        lines.append("")
    if report.skipped:
        lines.append(f"## {'未评分的内容' if zh else 'Not graded'}")
        lines += [f"- {md(s['where'])}: {md(s['text'][:80])} ({md(s['reason'])})" for s in report.skipped]
        lines.append("")
    for w in report.warnings:
        lines.append(f"> {labels['warnings']}{labels['colon']}{md(w)}")
    return "\n".join(lines).rstrip() + "\n"
