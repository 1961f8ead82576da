"""The HTML report: one self-contained file (inline CSS and SVG, no scripts, no external
resources) that a coach can hand to the candidate, readable on a phone and printable."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from grader.report.data import SKIP_REASONS_ZH, CategoryScore, ItemView, TranscriptReport
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
        "evidence": "evidence",
        "human": "Human review",
        "human_short": "Human",
        "wrong_legend": "wrong claim",
        "criterion_n": "criterion number",
        "index_title": "Batch report",
        "transcripts_n": "{n} transcript(s)",
        "transcript": "Transcript",
        "open": "open",
        "back": "All transcripts",
        "graded_n": "graded",
        "unmatched_n": "unmatched",
        "reviewer": "by",
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
        "evidence": "证据",
        "human": "人工复核",
        "human_short": "人工",
        "wrong_legend": "错误说法",
        "criterion_n": "要点编号",
        "index_title": "批量评分报告",
        "transcripts_n": "{n} 份面试记录",
        "transcript": "面试记录",
        "open": "查看",
        "back": "全部面试记录",
        "graded_n": "已评分",
        "unmatched_n": "未匹配",
        "reviewer": "复核人",
    },
}

# Criterion colours cycle through this many classes (c1..c8) in the stylesheet.
PALETTE_SIZE = 8
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)")


@dataclass
class Piece:
    """A stretch of the answer: plain text, text inside evidence spans (criteria, strongest
    first), or text inside a wrong claim (marked as wrong whatever evidence covers it)."""

    text: str
    verdict: str | None = None
    criteria: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)  # the criteria's numbers in the table
    wrong: bool = False
    title: str = ""
    anchors: list[str] = field(default_factory=list)  # ids of the evidence spans starting here
    href: str = ""  # the criterion (or wrong claim) this piece links to

    @property
    def marked(self) -> bool:
        return self.wrong or self.verdict is not None

    @property
    def css(self) -> str:
        if self.wrong:
            return "wrong"
        return f"{self.verdict} c{(self.numbers[0] - 1) % PALETTE_SIZE + 1}" if self.numbers else str(self.verdict)


@dataclass
class Segment:
    kind: str  # "text" or "code"
    pieces: list[Piece] = field(default_factory=list)
    code_html: str = ""
    language: str = ""


def fmt(x: float | None) -> str:
    """Numbers as the Markdown report writes them: 7.5, 10, 62.5."""
    return "—" if x is None else f"{x:g}"


def anchor(item: ItemView, number: int, k: int | None = None) -> str:
    return f"q{item.index}-c{number}" + (f"-e{k}" if k is not None else "")


def _spans(item: ItemView, n: int) -> list[tuple[int, int, int, str, str, int]]:
    """(start, end, order, criterion id, verdict, evidence number) of every evidence span, and
    (start, end, -1, misconception id, "wrong", k) of every wrong claim."""
    spans = []
    order = 0
    for c in item.criteria:
        if c.verdict not in VERDICT_RANK:
            continue
        for k, (start, end, _quote) in enumerate(c.evidence, 1):
            s, e = max(0, min(int(start), n)), max(0, min(int(end), n))
            if s < e:
                spans.append((s, e, order, c.id, c.verdict, k))
        order += 1
    for k, m in enumerate(item.misconceptions, 1):
        if m.get("start") is not None and m.get("end") is not None:
            s, e = max(0, min(int(m["start"]), n)), max(0, min(int(m["end"]), n))
            if s < e:
                spans.append((s, e, -1, m.get("id", f"w{k}"), "wrong", k))
    return spans


def code_regions(item: ItemView) -> list[tuple[int, int, int, int, str]]:
    """(start, end, code start, code end, language) of the code in an answer, as character
    offsets: every fenced block (the fences are dropped on display), or, in an answer to a coding
    question without fences, the Python the sandbox would run."""
    text = item.answer
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    regions = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m.group(1)
        j = i + 1
        while j < len(lines) and not (lines[j].strip().startswith(fence[0] * len(fence)) and not lines[j].strip().strip(fence[0])):
            j += 1
        end_line = min(j + 1, len(lines))
        code_end = offsets[min(j, len(lines))]
        regions.append((offsets[i], offsets[end_line], offsets[i + 1] if i + 1 <= len(lines) else offsets[i], code_end, m.group(2).lower()))
        i = j + 1
    if regions or item.question_type != "coding":
        return regions
    from grader.sandbox.extract import _locate  # the same finder the sandbox uses

    _code, line_spans = _locate(text)
    for a, b in line_spans:
        regions.append((offsets[a], offsets[min(b, len(lines))], offsets[a], offsets[min(b, len(lines))], "python"))
    return regions


def highlight(item: ItemView) -> list[Piece]:
    """The answer cut at every evidence and wrong-claim boundary; a piece covered by evidence
    carries the strongest verdict among the spans covering it (overlapping and nested spans); a
    piece inside a wrong claim is marked wrong, never as credit."""
    text = item.answer
    n = len(text)
    spans = _spans(item, n)
    cuts = sorted({0, n, *(s for s, *_ in spans), *(e for _, e, *_ in spans), *(x for r in code_regions(item) for x in r[:4])})
    cuts = [c for c in cuts if 0 <= c <= n]
    if not spans:
        return [Piece(text[a:b]) for a, b in zip(cuts, cuts[1:]) if a < b] if text else []
    numbers = {c.id: i for i, c in enumerate(item.criteria, 1)}
    statements = {c.id: c.statement for c in item.criteria}
    claims = {m.get("id", f"w{k}"): (k, m.get("claim", "")) for k, m in enumerate(item.misconceptions, 1)}
    pieces: list[Piece] = []
    for a, b in zip(cuts, cuts[1:]):
        if a >= b:
            continue
        covering = [sp for sp in spans if sp[0] <= a and b <= sp[1]]
        starting = [sp for sp in spans if sp[0] == a]
        anchors = [f"q{item.index}-w{sp[5]}-at" if sp[4] == "wrong" else anchor(item, numbers[sp[3]], sp[5]) for sp in starting]
        wrong = [sp for sp in covering if sp[4] == "wrong"]
        credit = sorted({(-VERDICT_RANK[v], o, cid, v) for s, e, o, cid, v, k in covering if v != "wrong"})
        piece_text = text[a:b]
        if wrong:
            k, claim = claims.get(wrong[0][3], (wrong[0][5], ""))
            piece = Piece(piece_text, None, [], [], True, f"✗ {claim}", anchors, f"#q{item.index}-w{k}")
        elif credit:
            ids: list[str] = []
            for _, _, cid, _ in credit:
                if cid not in ids:
                    ids.append(cid)
            verdicts = {cid: v for _, _, cid, v in credit}
            title = "\n".join(f"{numbers[cid]}. {SYMBOL[verdicts[cid]]} {statements.get(cid, cid)}" for cid in ids)
            piece = Piece(piece_text, credit[0][3], ids, [numbers[c] for c in ids], False, title, anchors,
                          f"#{anchor(item, numbers[ids[0]])}")
        else:
            piece = Piece(piece_text, anchors=anchors)
        # neighbours with the same marking merge, so one quote is one <mark>
        prev = pieces[-1] if pieces else None
        if prev and not piece.anchors and (prev.verdict, prev.criteria, prev.wrong) == (piece.verdict, piece.criteria, piece.wrong) \
                and not _boundary(item, a):
            prev.text += piece.text
        else:
            pieces.append(piece)
    return pieces


def _boundary(item: ItemView, offset: int) -> bool:
    return any(offset in r[:4] for r in code_regions(item))


def segments(item: ItemView) -> list[Segment]:
    """The answer as prose (with its highlighted pieces) and code blocks (monospace, with
    syntax highlighting; evidence inside code is not marked)."""
    regions = code_regions(item)
    out: list[Segment] = []
    pos = 0
    for piece in highlight(item):
        start, pos = pos, pos + len(piece.text)
        region = next((r for r in regions if r[0] <= start < r[1]), None)
        if region is None:
            if out and out[-1].kind == "text":
                out[-1].pieces.append(piece)
            else:
                out.append(Segment("text", [piece]))
        elif not out or out[-1].kind != "code" or out[-1].language != f"{region[0]}":
            out.append(Segment("code", code_html=_pygments(item.answer[region[2]:region[3]], region[4]), language=f"{region[0]}"))
    return out


def _pygments(code: str, language: str) -> str:
    from markupsafe import Markup
    from pygments import highlight as pyg_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer, get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language) if language else PythonLexer()
    except ClassNotFound:
        lexer = PythonLexer()
    # inline styles: the report stays one self-contained file
    return Markup(pyg_highlight(code.rstrip("\n"), lexer, HtmlFormatter(nowrap=True, noclasses=True, style="friendly")))


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


@lru_cache(maxsize=2)
def _template(name: str = "report.html.j2"):
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
    return env.get_template(name)


def _criteria_rows(v: ItemView, pieces: list[Piece]) -> list[dict]:
    """Each criterion with its number, colour and links to its evidence in the answer (only the
    spans that are marked: evidence inside code blocks is not)."""
    present = {a for p in pieces for a in p.anchors}
    rows = []
    for number, c in enumerate(v.criteria, 1):
        links = [anchor(v, number, k) for k in range(1, len(c.evidence) + 1) if anchor(v, number, k) in present]
        rows.append({"c": c, "number": number, "colour": f"c{(number - 1) % PALETTE_SIZE + 1}", "id": anchor(v, number), "links": links})
    return rows


def to_html(report: TranscriptReport, index_href: str | None = None) -> str:
    lang = "zh" if report.lang == "zh" else "en"
    labels = LABELS[lang]
    items = []
    for v in report.items:
        pieces = highlight(v)
        items.append(
            {
                "v": v,
                "segments": segments(v),
                "rows": _criteria_rows(v, pieces),
                "wrong": [dict(m, k=k, anchor_id=f"q{v.index}-w{k}", marked=m.get("start") is not None)
                          for k, m in enumerate(v.misconceptions, 1)],
                "category": _category_name(v.category, v.category_name, lang) if v.category or v.category_name else None,
                "status_label": labels["statuses"].get(v.status, v.status),
            }
        )
    return _template().render(
        r=report,
        html_lang=lang,
        t=labels,
        symbol=SYMBOL,
        chart=_chart(report.categories, labels, lang),
        items=items,
        skipped=[dict(x, reason=SKIP_REASONS_ZH.get(x.get("reason", ""), x.get("reason", ""))) if lang == "zh" else x
                 for x in report.skipped],
        has_reviews=any(v.review is not None for v in report.items),
        index_href=index_href,
    )


def to_index_html(reports: list[TranscriptReport], pages: list[str], lang: str) -> str:
    """The batch's front page: one row per transcript (candidate) with the overall and
    per-category scores, linking to its page."""
    lang = "zh" if lang == "zh" else "en"
    labels = LABELS[lang]
    cats: list[str] = []
    for rep in reports:
        for c in rep.categories:
            if c.category not in cats:
                cats.append(c.category)
    cats.sort(key=lambda c: list(CATEGORIES).index(c) if c in CATEGORIES else 99)
    rows = []
    for rep, page in zip(reports, pages):
        by_cat = {c.category: c for c in rep.categories}
        counts = {s: sum(1 for v in rep.items if v.status == s) for s in labels["statuses"]}
        rows.append({"r": rep, "page": page, "cats": [by_cat.get(c) for c in cats], "counts": counts,
                     "cls": _bar_class(rep.overall_percent) if rep.overall_percent is not None else ""})
    return _template("index.html.j2").render(
        t=labels, html_lang=lang, rows=rows, cats=[_category_name(c, None, lang) for c in cats],
        judges=", ".join(sorted({r.judge for r in reports if r.judge and r.judge != "—" and r.lang == lang})) or "—",
    )


def write_html_reports(reports: list[TranscriptReport], names: list[str], path, index_path=None) -> list:
    """One page per transcript (FILE-<name>.html when there are several) and, when asked, the
    batch's index page linking them all; returns the files written, the index first."""
    import os
    from collections import Counter
    from pathlib import Path

    path = Path(path)
    pages = [path if len(reports) == 1 else path.with_name(f"{path.stem}-{name}{path.suffix}") for name in names]
    written = []
    for rep, page in zip(reports, pages):
        href = os.path.relpath(index_path, page.parent) if index_path is not None else None
        page.write_text(to_html(rep, index_href=href), encoding="utf-8")
        written.append(page)
    if index_path is not None:
        lang = Counter(r.lang for r in reports).most_common(1)[0][0]
        links = [os.path.relpath(p, Path(index_path).parent) for p in pages]
        Path(index_path).write_text(to_index_html(reports, links, lang), encoding="utf-8")
        written.insert(0, Path(index_path))
    return written
