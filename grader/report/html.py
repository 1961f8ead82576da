"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no external
resources) that a coach can hand to the candidate, readable on a phone and printable."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from grader.report.data import CategoryScore, ItemView, TranscriptReport
from grader.rubric.categories import CATEGORIES

# Strongest first: a piece of the answer covered by several evidence spans takes the strongest.
VERDICT_RANK = {"met": 3, "partial": 2, "missed": 1}
SYMBOL = {"met": "✓", "partial": "◐", "missed": "✗"}

LABELS = {
    "en": {
        "colon": ": ",
        "overall": "Overall",
        "no_graded": "No graded answers",
        "judge": "Judge",
        "file": "File",
        "categories": "Score by category",
        "questions_n": "{n} question(s)",
        "study_next": "Study next",
        "question": "Question",
        "bank_question": "Bank question",
        "match": "match",
        "status": "Status",
        "score": "Score",
        "answer": "Answer",
        "no_answer": "(no answer)",
        "legend": "Highlights",
        "criteria": "Criteria",
        "verdict": "Verdict",
        "criterion": "Criterion",
        "points": "Points",
        "review": "Review",
        "needs_review": "needs review",
        "wrong_claims": "Wrong claims",
        "correction": "Correction",
        "penalty": "penalty",
        "to_add": "To add",
        "follow_up": "Follow-up question",
        "skipped": "Not graded",
        "warnings": "Warnings",
        "where": "Where",
        "text": "Text",
        "reason": "Reason",
        "verdicts": {"met": "met", "partial": "partial", "missed": "missed"},
        "statuses": {
            "graded": "graded",
            "unscored": "unscored",
            "failed": "failed",
            "unmatched": "unmatched",
            "pending": "pending",
        },
        "chart_desc": "{name}: {percent}% ({score}/{max})",
    },
    "zh": {
        "colon": "：",
        "overall": "总分",
        "no_graded": "没有可评分的回答",
        "judge": "评分方式",
        "file": "文件",
        "categories": "各类别得分",
        "questions_n": "{n} 题",
        "study_next": "接下来复习",
        "question": "题目",
        "bank_question": "题库题目",
        "match": "匹配度",
        "status": "状态",
        "score": "得分",
        "answer": "回答",
        "no_answer": "（没有回答）",
        "legend": "高亮说明",
        "criteria": "评分要点",
        "verdict": "判定",
        "criterion": "要点",
        "points": "分数",
        "review": "复核",
        "needs_review": "需人工复核",
        "wrong_claims": "错误说法",
        "correction": "更正",
        "penalty": "扣分",
        "to_add": "还需要补充",
        "follow_up": "追问",
        "skipped": "未评分的内容",
        "warnings": "警告",
        "where": "位置",
        "text": "内容",
        "reason": "原因",
        "verdicts": {"met": "答到", "partial": "部分答到", "missed": "未答到"},
        "statuses": {
            "graded": "已评分",
            "unscored": "无法评分",
            "failed": "出错",
            "unmatched": "未匹配到题库",
            "pending": "未评分",
        },
        "chart_desc": "{name}：{percent}%（{score}/{max}）",
    },
}

# The transcript readers' reasons for skipping text, in Chinese; anything else is shown as is.
SKIP_REASONS_ZH = {
    "speech before the first named speaker": "第一个说话人之前的内容",
    "text before the first speaker label": "第一个说话人标签之前的内容",
    "not a technical question": "不是技术问题",
    "candidate speech with no question before it": "候选人发言之前没有问题",
    "interviewer said nothing that asks a question": "面试官没有提出问题",
}


@dataclass
class Piece:
    """A stretch of the answer: plain text, or text inside one or more evidence spans."""

    text: str
    verdict: str | None = None
    criteria: list[str] = field(default_factory=list)  # covering criteria, strongest first
    title: str = ""


def fmt(x: float | None) -> str:
    """Numbers as the Markdown report writes them: 7.5, 10, 62.5."""
    return "—" if x is None else f"{x:g}"


def highlight(item: ItemView) -> list[Piece]:
    """The answer cut at every evidence boundary; each piece covered by evidence carries the
    strongest verdict among the spans covering it (overlapping and nested spans)."""
    text = item.answer
    n = len(text)
    spans: list[tuple[int, int, int, str, str]] = []  # start, end, order, criterion id, verdict
    order = 0
    for c in item.criteria:
        if c.verdict not in VERDICT_RANK:
            continue
        for start, end, _quote in c.evidence:
            s, e = max(0, min(int(start), n)), max(0, min(int(end), n))
            if s < e:
                spans.append((s, e, order, c.id, c.verdict))
        order += 1
    if not spans:
        return [Piece(text)] if text else []
    cuts = sorted({0, n, *(s for s, *_ in spans), *(e for _, e, *_ in spans)})
    statements = {c.id: c.statement for c in item.criteria}
    pieces: list[Piece] = []
    for a, b in zip(cuts, cuts[1:]):
        covering = sorted(
            {(-VERDICT_RANK[v], o, cid, v) for s, e, o, cid, v in spans if s <= a and b <= e}
        )
        piece_text = text[a:b]
        if not covering:
            piece = Piece(piece_text)
        else:
            ids: list[str] = []
            for _, _, cid, _ in covering:
                if cid not in ids:
                    ids.append(cid)
            verdicts = {cid: v for _, _, cid, v in covering}
            title = "\n".join(
                f"{SYMBOL[verdicts[cid]]} {cid}" + (f": {statements[cid]}" if statements.get(cid) else "") for cid in ids
            )
            piece = Piece(piece_text, covering[0][3], ids, title)
        # neighbours with the same marking merge, so one quote is one <mark>
        if pieces and pieces[-1].verdict == piece.verdict and pieces[-1].criteria == piece.criteria:
            pieces[-1].text += piece.text
        else:
            pieces.append(piece)
    return pieces


def _category_name(slug: str | None, name: str | None, lang: str) -> str:
    if slug in CATEGORIES:
        return CATEGORIES[slug][1 if lang == "zh" else 0]
    return name or slug or "—"


def _bar_class(percent: float) -> str:
    return "good" if percent >= 75 else "fair" if percent >= 50 else "poor"


# The bar chart's geometry, in the SVG's own units (it scales to the page width).
CHART_WIDTH = 400
ROW_HEIGHT = 46
BAR_MAX = 330  # the percent label sits to the right of the bar


def _chart(categories: list[CategoryScore], labels: dict, lang: str) -> dict:
    rows = []
    for i, c in enumerate(categories):
        pct = max(0.0, min(100.0, c.percent))
        name = _category_name(c.category, c.name, lang)
        rows.append(
            {
                "name": name,
                "label": f"{name} · {labels['questions_n'].format(n=c.questions)} · {fmt(c.score)}/{fmt(c.max_score)}",
                "percent": fmt(c.percent),
                "y": i * ROW_HEIGHT,
                "width": round(BAR_MAX * pct / 100, 1),
                "cls": _bar_class(c.percent),
                "desc": labels["chart_desc"].format(name=name, percent=fmt(c.percent), score=fmt(c.score), max=fmt(c.max_score)),
            }
        )
    return {"rows": rows, "width": CHART_WIDTH, "height": max(1, len(rows)) * ROW_HEIGHT, "bar_max": BAR_MAX}


@lru_cache(maxsize=1)
def _template():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("grader.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = fmt
    return env.get_template("report.html.j2")


def to_html(report: TranscriptReport) -> str:
    lang = "zh" if report.lang == "zh" else "en"
    labels = LABELS[lang]
    items = [
        {
            "v": v,
            "pieces": highlight(v),
            "category": _category_name(v.category, v.category_name, lang) if v.category or v.category_name else None,
            "status_label": labels["statuses"].get(v.status, v.status),
        }
        for v in report.items
    ]
    skipped = [
        {
            "where": s.get("where", ""),
            "text": s.get("text", ""),
            "reason": SKIP_REASONS_ZH.get(s.get("reason", ""), s.get("reason", "")) if lang == "zh" else s.get("reason", ""),
        }
        for s in report.skipped
    ]
    return _template().render(
        r=report,
        html_lang=report.lang or "en",
        t=labels,
        symbol=SYMBOL,
        chart=_chart(report.categories, labels, lang),
        items=items,
        skipped=skipped,
    )
