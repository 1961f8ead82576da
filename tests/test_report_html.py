"""The HTML report: the string it writes, and what a real headless Chromium makes of it."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.report.data import CategoryScore, CriterionView, ItemView, TranscriptReport
from grader.report.html import highlight, to_html

HOSTILE = "<script>alert(1)</script>"

BN_ANSWER = (
    "BatchNorm 在每个 mini-batch 上计算均值和方差，对特征做标准化，然后用可学习的 γ 和 β 做缩放和平移。\n"
    "训练时用 batch 统计量，推理时用训练中累计的滑动平均。\n"
    "它能缓解内部协变量偏移，让训练更稳定，可以用更大的学习率。"
)
NMS_ANSWER = (
    "NMS 先把所有框按置信度从高到低排序，取分数最高的框保留下来，"
    "再把和它 IoU 超过阈值的框删掉，重复直到没有剩下的框。\n"
    "IoU 就是两个框的交集面积除以并集面积。阈值一般取 0.5。\n"
    "NMS 是可以反向传播的，所以训练时也会用。"
)
DECORATOR_ANSWER = (
    "装饰器本质上是一个接收函数、返回新函数的高阶函数。</mark>" + HOSTILE + "\n"
    "  用 @functools.wraps 可以保留原函数的 __name__ & __doc__。"
)


def span(answer: str, quote: str) -> tuple[int, int, str]:
    start = answer.index(quote)
    return (start, start + len(quote), quote)


def crit(cid, statement, verdict, points, max_points, answer="", quotes=(), **kw) -> CriterionView:
    return CriterionView(
        id=cid, statement=statement, verdict=verdict, points=points, max_points=max_points,
        evidence=[span(answer, q) for q in quotes], **kw,
    )


def make_report(lang: str = "zh") -> TranscriptReport:
    bn = ItemView(
        index=1,
        question="你能讲一下 BatchNorm 是怎么工作的吗？",
        bank_question="Batch Normalization 的原理是什么？训练和推理时有什么区别？",
        question_id="norm-batchnorm",
        category="normalization",
        category_name="Normalization",
        match_confidence=0.93,
        status="graded",
        answer=BN_ANSWER,
        score=5.0,
        max_score=8.0,
        percent=62.5,
        criteria=[
            # c1 and c2 overlap on "对特征做标准化"; c4 lies inside c3
            crit("bn-stats", "在 mini-batch 上计算均值和方差并标准化", "met", 2, 2, BN_ANSWER,
                 ["在每个 mini-batch 上计算均值和方差，对特征做标准化"]),
            crit("bn-affine", "可学习的缩放和平移参数 γ、β", "partial", 1, 2, BN_ANSWER,
                 ["对特征做标准化，然后用可学习的 γ 和 β"]),
            crit("bn-train-infer", "训练用 batch 统计量，推理用滑动平均", "met", 2, 2, BN_ANSWER,
                 ["训练时用 batch 统计量，推理时用训练中累计的滑动平均"]),
            crit("bn-running", "推理时使用滑动平均的均值和方差", "partial", 0, 1, BN_ANSWER, ["滑动平均"], needs_review=True),
            crit("bn-small-batch", "batch 很小时统计量不稳定，效果变差", "missed", 0, 1),
        ],
        feedback_missing=["batch 很小时统计量不稳定，效果变差"],
        follow_up="如果 batch size 只有 2，你会怎么处理归一化？",
        judge="offline judge (keywords-v1; no LLM)",
    )
    nms = ItemView(
        index=2,
        question="讲讲 NMS 的流程，还有 IoU 怎么算？",
        bank_question="非极大值抑制（NMS）的流程是什么？",
        question_id="det-nms",
        category="detection",
        category_name="Detection",
        match_confidence=0.88,
        status="graded",
        answer=NMS_ANSWER,
        score=3.5,
        max_score=6.0,
        percent=58.3,
        criteria=[
            # the partial span contains the met span: the met piece wins inside, partial around it
            crit("nms-sort", "按置信度排序并保留最高分的框", "partial", 1, 2, NMS_ANSWER,
                 ["NMS 先把所有框按置信度从高到低排序，取分数最高的框保留下来"]),
            crit("nms-confidence", "按置信度从高到低处理", "met", 1, 1, NMS_ANSWER, ["按置信度从高到低排序"]),
            crit("nms-suppress", "删除与保留框 IoU 超过阈值的框并迭代", "met", 2, 2, NMS_ANSWER,
                 ["再把和它 IoU 超过阈值的框删掉", "重复直到没有剩下的框"]),
            crit("iou-def", "IoU = 交集面积 / 并集面积", "met", 1, 1, NMS_ANSWER, ["IoU 就是两个框的交集面积除以并集面积"]),
        ],
        misconceptions=[
            {"id": "nms-differentiable", "claim": "NMS 可微",
             "correction": "标准 NMS 不可微，只在推理（后处理）阶段使用，训练时不参与反向传播。",
             "penalty": 1.0, "quote": "NMS 是可以反向传播的", "start": NMS_ANSWER.index("NMS 是可以反向传播的"),
             "end": NMS_ANSWER.index("NMS 是可以反向传播的") + len("NMS 是可以反向传播的")},
        ],
        follow_up="Soft-NMS 和标准 NMS 有什么区别？",
        judge="offline judge (keywords-v1; no LLM)",
    )
    deco = ItemView(
        index=3,
        question="Python 的装饰器是什么？",
        bank_question="Python 装饰器的原理是什么？",
        question_id="py-decorator",
        category="python",
        category_name="Python",
        match_confidence=0.97,
        status="graded",
        answer=DECORATOR_ANSWER,
        score=2.0,
        max_score=3.0,
        percent=66.7,
        criteria=[
            crit("deco-hof", "装饰器是接收函数并返回函数的高阶函数", "met", 2, 2, DECORATOR_ANSWER,
                 ["接收函数、返回新函数的高阶函数。</mark>" + HOSTILE]),
            crit("deco-wraps", "functools.wraps 保留元数据", "partial", 0.5, 1, DECORATOR_ANSWER,
                 ["@functools.wraps 可以保留原函数的 __name__ & __doc__"]),
        ],
        judge="offline judge (keywords-v1; no LLM)",
    )
    unscored = ItemView(
        index=4,
        question="ResNet 的残差连接为什么能训练更深的网络？",
        question_id="cnn-resnet",
        category="cnn-architectures",
        category_name="CNN architectures",
        match_confidence=0.91,
        status="unscored",
        reason="the judge's reply was not valid JSON after 2 attempts",
        answer="残差连接让梯度可以直接通过恒等映射传回前面的层，缓解梯度消失。",
        max_score=6.0,
    )
    unmatched = ItemView(
        index=5,
        question="你平时用什么标注工具？",
        match_confidence=0.31,
        status="unmatched",
        reason="no bank question matches well enough (best 0.31 < 0.60)",
        answer="一般用 CVAT，有时候也用 Label Studio。",
    )
    return TranscriptReport(
        title="mock-interview-张三.txt",
        path="interviews/mock-interview-张三.txt",
        format="text",
        lang=lang,
        judge="offline judge (keywords-v1; no LLM)",
        overall_score=10.5,
        overall_max=17.0,
        overall_percent=61.8,
        categories=[
            CategoryScore(category="normalization", name="Normalization", questions=1, score=5, max_score=8, percent=62.5),
            CategoryScore(category="detection", name="Detection", questions=1, score=3.5, max_score=6, percent=58.3),
            CategoryScore(category="python", name="Python", questions=1, score=2, max_score=3, percent=66.7),
        ],
        items=[bn, nms, deco, unscored, unmatched],
        skipped=[{"text": "面试官：你好，先简单做个自我介绍吧。", "reason": "not a technical question", "where": "lines 1-2"}],
        warnings=["line 57: no speaker label; attributed to the candidate"],
        study_next=[
            "标准 NMS 不可微，只在推理（后处理）阶段使用，训练时不参与反向传播。（Q2 非极大值抑制（NMS）的流程是什么？）",
            "可学习的缩放和平移参数 γ、β（Q1 Batch Normalization 的原理…）",
            "batch 很小时统计量不稳定，效果变差（Q1 Batch Normalization 的原理…）",
        ],
    )


# --- a small DOM reader (standard library only) ---------------------------------------------

VOID = {"meta", "br", "hr", "img", "input", "link", "source", "wbr", "col", "area", "base", "embed", "track"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent, self.children = tag, attrs, parent, []

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [n for n in self.iter() if n.tag == tag and (cls is None or cls in n.classes)]


class TreeBuilder(HTMLParser):
    """Enough of a parser for well-formed output (ours and Chromium's serialisation)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#root", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, dict(attrs), self.cur))

    def handle_endtag(self, tag):
        node = self.cur
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.cur = node.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def marks(root: Node, cls: str | None = None) -> list[tuple[str, str, str]]:
    return [(m.classes[0], m.attrs.get("data-criterion", ""), m.text()) for m in root.find_all("mark", cls)]


def answers(root: Node) -> list[Node]:
    return root.find_all("div", "answer")


# --- the HTML string ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def report() -> TranscriptReport:
    return make_report()


@pytest.fixture(scope="module")
def html(report) -> str:
    return to_html(report)


def test_document_shell(html):
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="zh">' in html
    assert '<meta charset="utf-8">' in html
    assert 'name="viewport"' in html
    assert "@media print" in html and "@media (max-width" in html
    assert "Noto Sans CJK" in html and "sans-serif" in html
    for label in ("总分", "各类别得分", "接下来复习", "评分要点", "错误说法", "追问", "未评分的内容", "警告"):
        assert label in html, label
    assert "mock-interview-张三.txt" in html and "10.5/17" in html and "61.8%" in html


def test_self_contained(html):
    lowered = html.lower()
    assert not re.search(r"""(src|href|xlink:href|action|poster)\s*=\s*["']?\s*(https?:)?//""", lowered)
    assert "http://" not in lowered and "https://" not in lowered
    for needle in ("<script", "<link", "<img", "<iframe", "@import", "url(", "@font-face"):
        assert needle not in lowered, needle


def test_hostile_answer_is_escaped(html):
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;/mark&gt;" in html
    assert html.count("<mark ") == html.count("</mark>")  # the candidate's "</mark>" closes nothing
    assert "__name__ &amp; __doc__" in html


def test_marks_cover_the_evidence(html):
    root = parse(html)
    bn, nms, deco = answers(root)[:3]
    # overlap: "对特征做标准化" is covered by the met and the partial span; met wins there
    assert marks(bn) == [
        ("met", "bn-stats", "在每个 mini-batch 上计算均值和方差，"),
        ("met", "bn-stats bn-affine", "对特征做标准化"),
        ("partial", "bn-affine", "，然后用可学习的 γ 和 β"),
        ("met", "bn-train-infer", "训练时用 batch 统计量，推理时用训练中累计的"),
        ("met", "bn-train-infer bn-running", "滑动平均"),  # nested partial inside met
    ]
    # nesting the other way: a met span inside a partial one
    assert marks(nms) == [
        ("partial", "nms-sort", "NMS 先把所有框"),
        ("met", "nms-confidence nms-sort", "按置信度从高到低排序"),
        ("partial", "nms-sort", "，取分数最高的框保留下来"),
        ("met", "nms-suppress", "再把和它 IoU 超过阈值的框删掉"),
        ("met", "nms-suppress", "重复直到没有剩下的框"),
        ("met", "iou-def", "IoU 就是两个框的交集面积除以并集面积"),
        ("wrong", "", "NMS 是可以反向传播的"),  # a wrong claim is marked as wrong, never as credit
    ]
    assert marks(deco) == [
        ("met", "deco-hof", "接收函数、返回新函数的高阶函数。</mark>" + HOSTILE),
        ("partial", "deco-wraps", "@functools.wraps 可以保留原函数的 __name__ & __doc__"),
    ]
    # the answer text is intact, line breaks and indentation included
    for node, answer in zip(answers(root), (BN_ANSWER, NMS_ANSWER, DECORATOR_ANSWER)):
        assert node.text() == answer


def test_highlight_splits_at_every_boundary():
    item = ItemView(
        index=1, question="q", status="graded", answer="abcdefghij",
        criteria=[
            CriterionView(id="a", statement="", verdict="partial", points=1, max_points=2, evidence=[(0, 6, "abcdef")]),
            CriterionView(id="b", statement="", verdict="met", points=1, max_points=1, evidence=[(3, 8, "defgh")]),
            CriterionView(id="c", statement="", verdict="missed", points=0, max_points=1, evidence=[(2, 4, "cd"), (20, 30, "x")]),
        ],
    )
    got = [(p.text, p.verdict, p.criteria) for p in highlight(item)]
    assert got == [
        ("ab", "partial", ["a"]),
        ("c", "partial", ["a", "c"]),
        ("d", "met", ["b", "a", "c"]),
        ("ef", "met", ["b", "a"]),
        ("gh", "met", ["b"]),
        ("ij", None, []),
    ]
    assert "".join(p.text for p in highlight(item)) == item.answer


def test_items_statuses_and_tables(html):
    root = parse(html)
    articles = root.find_all("article")
    assert [a.attrs["id"] for a in articles] == ["q1", "q2", "q3", "q4", "q5"]
    assert [a.classes[1] for a in articles] == [
        "status-graded", "status-graded", "status-graded", "status-unscored", "status-unmatched",
    ]
    q1, q2, _, q4, q5 = articles
    assert "归一化" in q1.text() and "0.93" in q1.text() and "Batch Normalization 的原理是什么" in q1.text()
    assert "norm-batchnorm" not in q1.text()  # question titles, not ids
    assert "得分 5/8 (62.5%)" in q1.text()
    rows = q1.find_all("tr")[1:]
    assert [r.find_all("td", "verdict")[0].text() for r in rows] == ["✓", "◐", "✓", "◐", "✗"]
    assert [r.find_all("td", "points")[0].text() for r in rows] == ["2/2", "1/2", "2/2", "0/1", "0/1"]
    assert [bool(r.find_all("span", "review-flag")) for r in rows] == [False, False, False, True, False]
    assert "如果 batch size 只有 2" in q1.find_all("p", "follow-up")[0].text()
    wrong = q2.find_all("ul", "misconceptions")[0].text()
    assert "NMS 是可以反向传播的" in wrong and "标准 NMS 不可微" in wrong and "−1" in wrong
    assert "无法评分" in q4.text() and "not valid JSON" in q4.text() and not q4.find_all("mark")
    assert "未匹配到题库" in q5.text() and "best 0.31" in q5.text() and "CVAT" in q5.text()
    skipped = root.find_all("section", "skipped")[0].text()
    assert "lines 1-2" in skipped and "自我介绍" in skipped and "不是技术问题" in skipped
    assert "no speaker label" in root.find_all("section", "warnings")[0].text()


def test_chart_is_accessible_svg(html):
    root = parse(html)
    svg = root.find_all("svg")[0]
    bars = svg.find_all("rect", "bar")
    assert [b.attrs["data-category"] for b in bars] == ["归一化", "目标检测", "Python"]
    assert [b.find_all("title")[0].text() for b in bars][0] == "归一化：62.5%（5/8）"
    assert svg.attrs["role"] == "img" and svg.find_all("title")[0].text() == "各类别得分"
    labels = [t.text() for t in svg.find_all("text", "pct")]
    assert labels == ["62.5%", "58.3%", "66.7%"]
    widths = [float(b.attrs["width"]) for b in bars]
    assert widths[2] > widths[0] > widths[1] > 0


def test_english_labels():
    out = to_html(make_report(lang="en"))
    assert '<html lang="en">' in out
    for label in ("Overall", "Score by category", "Study next", "Criteria", "Wrong claims", "Follow-up question"):
        assert label in out, label
    assert "Normalization" in out and "总分" not in out


def test_no_graded_answers():
    r = make_report()
    r = r.model_copy(update={"items": r.items[3:], "categories": [], "study_next": [], "overall_score": 0,
                             "overall_max": 0, "overall_percent": None, "skipped": [], "warnings": []})
    out = to_html(r)
    assert "没有可评分的回答" in out and "<svg" not in out and "<mark" not in out


# --- in a real browser ----------------------------------------------------------------------


def chromium() -> str:
    """Chromium's path. Without it the browser checks skip, saying why and how to install it;
    under CI (env CI set) its absence fails instead, so that CI never passes them silently."""
    from tests.conftest import BROWSER_HINT, find_chromium

    path = find_chromium()
    if not path:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {BROWSER_HINT}", pytrace=False)
        pytest.skip(BROWSER_HINT)
    return path


CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars",
]


def test_missing_browser_skips_locally_and_fails_under_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set and Chromium is not installed.*apt-get install -y chromium"):
        chromium()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, html):
    """The report written to a file, then loaded by headless Chromium twice at once: the DOM it
    built, and a screenshot."""
    tmp = tmp_path_factory.mktemp("html-report")
    page = tmp / "report.html"
    page.write_text(html, encoding="utf-8")
    png = tmp / "r.png"
    base = [chromium(), *CHROMIUM_FLAGS]
    dom_cmd = [*base, f"--user-data-dir={tmp / 'profile-dom'}", "--dump-dom", page.as_uri()]
    shot_cmd = [*base, f"--user-data-dir={tmp / 'profile-shot'}", f"--screenshot={png}", "--window-size=1200,2000",
                page.as_uri()]
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in (dom_cmd, shot_cmd)]
    outs = []
    for p, cmd in zip(procs, (dom_cmd, shot_cmd)):
        out, err = p.communicate()  # no timeout of its own: a busy machine only makes it slower
        assert p.returncode == 0, f"chromium failed ({p.returncode}): {err[-2000:]}"
        outs.append(out)
    return {"dom": outs[0], "png": png}


def test_browser_dom(rendered, html):
    dom = rendered["dom"]
    assert "</html>" in dom, dom[-500:]
    root = parse(dom)
    assert not root.find_all("script"), "the candidate's <script> became an element"
    met = marks(root, "met")
    assert len(met) == 9
    assert len(marks(root, "partial")) == 4
    assert not marks(root, "missed")
    assert marks(root) == marks(parse(html))  # the browser read the marks as written
    assert ("met", "bn-stats bn-affine", "对特征做标准化") in met
    assert ("met", "deco-hof", "接收函数、返回新函数的高阶函数。</mark>" + HOSTILE) in met
    deco = answers(root)[2]
    assert HOSTILE in deco.text() and deco.text() == DECORATOR_ANSWER
    assert [a.text() for a in answers(root)[:3]] == [BN_ANSWER, NMS_ANSWER, DECORATOR_ANSWER]
    bars = root.find_all("svg")[0].find_all("rect", "bar")
    assert len(bars) == 3
    assert [b.find_all("title")[0].text() for b in bars] == ["归一化：62.5%（5/8）", "目标检测：58.3%（3.5/6）", "Python：66.7%（2/3）"]
    assert root.find_all("html")[0].attrs.get("lang") == "zh"


def png_pixels(path: Path, max_rows: int | None = None):
    """Rows of (r, g, b[, a]) byte strings from an 8-bit RGB/RGBA PNG; standard library only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    for y in range(height if max_rows is None else min(height, max_rows)):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif ftype == 2:
            line = bytearray(a + b & 255 for a, b in zip(line, prev))
        elif ftype == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif ftype == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        yield width, height, bytes(line), bpp
        prev = line


def test_browser_screenshot(rendered):
    png = rendered["png"]
    assert png.exists(), "chromium wrote no screenshot"
    assert png.stat().st_size > 20_000, f"screenshot is only {png.stat().st_size} bytes"
    colours: set[bytes] = set()
    size = None
    for width, height, line, bpp in png_pixels(png, max_rows=400):  # header and chart are at the top
        size = (width, height)
        colours.update(line[i : i + 3] for i in range(0, len(line), bpp * 7))
    assert size == (1200, 2000)
    assert len(colours) > 10, f"the screenshot is nearly a single colour: {len(colours)} colours"
    # the bars' colours from the stylesheet: green (#2da44e) and amber (#d4a72c)
    assert bytes.fromhex("2da44e") in colours or bytes.fromhex("d4a72c") in colours


# --- per-criterion evidence, wrong claims, code, review column, index page ------------------


def test_evidence_and_criteria_link_both_ways(html):
    root = parse(html)
    ids = {n.attrs["id"] for n in root.iter() if "id" in n.attrs}
    q1 = root.find_all("article")[0]
    rows = q1.find_all("table", "criteria")[0].find_all("tr")[1:]
    assert [r.attrs["id"] for r in rows] == [f"q1-c{i}" for i in range(1, 6)]
    assert [r.find_all("span", "num")[0].text() for r in rows] == ["1", "2", "3", "4", "5"]
    assert "c1" in rows[0].classes and "c2" in rows[1].classes  # each criterion its own colour
    # answer → criterion: every mark links to the row of its (strongest) criterion
    links = [a for a in answers(q1)[0].find_all("a", "ev")]
    assert [a.attrs["href"] for a in links] == ["#q1-c1", "#q1-c1", "#q1-c2", "#q1-c3", "#q1-c3"]
    assert [a.find_all("mark")[0].attrs.get("data-n") for a in links] == ["1", "1,2", "2", "3", "3,4"]
    assert "met c1" in answers(q1)[0].find_all("mark")[0].attrs["class"]
    # criterion → answer: every "evidence" link lands on an anchor in the answer
    back = [a.attrs["href"] for r in rows for a in r.find_all("a")]
    assert back == ["#q1-c1-e1", "#q1-c2-e1", "#q1-c3-e1", "#q1-c4-e1"]
    assert all(h[1:] in ids for h in back)
    # the wrong claim links to its entry in the wrong-claims list, and back
    q2 = root.find_all("article")[1]
    wrong = [a for a in answers(q2)[0].find_all("a", "ev") if a.find_all("mark", "wrong")]
    assert [a.attrs["href"] for a in wrong] == ["#q2-w1"] and "q2-w1" in ids
    assert q2.find_all("ul", "misconceptions")[0].find_all("a")[0].attrs["href"] == "#q2-w1-at" and "q2-w1-at" in ids


def test_a_wrong_claim_is_never_marked_as_credit():
    answer = "IoU 是交并比。NMS 是可以反向传播的，所以训练时也会用。"
    quote = "NMS 是可以反向传播的"
    item = ItemView(
        index=1, question="q", status="graded", answer=answer,
        criteria=[crit("nms-train", "NMS 只在推理时用", "met", 1, 1, answer, ["NMS 是可以反向传播的，所以训练时也会用"])],
        misconceptions=[{"id": "nms-diff", "claim": "NMS 可微", "correction": "标准 NMS 不可微。", "penalty": 1,
                         "quote": quote, "start": answer.index(quote), "end": answer.index(quote) + len(quote)}],
    )
    got = [(p.text, p.css, p.wrong) for p in highlight(item) if p.marked]
    assert got == [(quote, "wrong", True), ("，所以训练时也会用", "met c1", False)]


CODE_ANSWER = (
    "用动态规划，dp[i] 表示以 i 结尾的最大子数组和。\n"
    "```python\n"
    "def max_subarray(nums):\n"
    "    best = cur = nums[0]\n"
    "    for x in nums[1:]:\n"
    "        cur = max(x, cur + x)\n"
    "    return best\n"
    "```\n"
    "时间 O(n)，空间 O(1)。"
)


def code_report(review=None) -> TranscriptReport:
    item = ItemView(
        index=1, question="写一下最大子数组和", bank_question="最大子数组和", question_id="max-subarray",
        question_type="coding", category="coding", status="graded", answer=CODE_ANSWER, score=3, max_score=4, percent=75,
        criteria=[crit("idea", "讲清 dp 的定义", "met", 2, 2, CODE_ANSWER, ["dp[i] 表示以 i 结尾的最大子数组和"],
                       human_verdict=(review or {}).get("idea")),
                  crit("tests", "代码通过测试", "partial", 1, 2, human_verdict=(review or {}).get("tests"))],
        review=None if review is None else {"percent": 50, "reviewer": "王老师", "verdicts": review},
    )
    return TranscriptReport(title="t", path="t.txt", format="text", lang="zh", judge="j", overall_score=3, overall_max=4,
                            overall_percent=75, categories=[], items=[item], skipped=[], warnings=[], study_next=[])


def test_code_is_monospace_and_highlighted():
    out = to_html(code_report())
    root = parse(out)
    pre = root.find_all("pre", "code")
    assert len(pre) == 1
    assert pre[0].text().rstrip("\n") == CODE_ANSWER.split("```python\n")[1].split("```")[0].rstrip("\n")
    assert "```" not in out  # the fences are not shown
    spans = pre[0].find_all("span")
    assert any(s.text() == "def" and "color" in s.attrs.get("style", "") for s in spans)  # pygments, inline styles
    assert "monospace" in out[out.index("pre.code"):out.index("pre.code") + 400]
    prose = answers(root)[0].text().replace(pre[0].text(), "")
    assert "dp[i] 表示以 i 结尾的最大子数组和" in prose and "时间 O(n)" in prose
    assert marks(root) == [("met", "idea", "dp[i] 表示以 i 结尾的最大子数组和")]


def test_review_column_shows_the_human_grade_or_is_absent():
    without = parse(to_html(code_report()))
    assert [th.text() for th in without.find_all("table", "criteria")[0].find_all("th")] == ["#", "判定", "要点", "分数"]
    reviewed = parse(to_html(code_report({"idea": "met", "tests": "missed"})))
    table = reviewed.find_all("table", "criteria")[0]
    assert [th.text() for th in table.find_all("th")][-1] == "人工"
    assert [td.text() for td in table.find_all("td", "review")] == ["✓ 答到", "✗ 未答到"]
    assert "人工复核 50% (复核人 王老师)" in reviewed.find_all("p", "status-line")[0].text()


def test_index_page_links_every_transcript():
    from grader.report.html import to_index_html

    a, b = make_report(), make_report()
    b = b.model_copy(update={"title": "mock-李四.srt", "overall_percent": 80.0})
    out = to_index_html([a, b], ["report-a.html", "report-b.html"], "zh")
    root = parse(out)
    rows = root.find_all("table", "index")[0].find_all("tr")[1:]
    assert [r.find_all("a")[0].attrs["href"] for r in rows] == ["report-a.html", "report-b.html"]
    assert [r.find_all("a")[0].text() for r in rows] == ["mock-interview-张三.txt", "mock-李四.srt"]
    assert [th.text() for th in root.find_all("th")][:5] == ["面试记录", "总分", "归一化", "目标检测", "Python"]
    assert [r.find_all("span", "percent")[0].text() for r in rows] == ["61.8%", "80%"]
    assert "62.5%" in rows[0].text() and "2 份面试记录" in out


def test_batch_writes_an_index_and_one_language_per_page(runner, tmp_path):
    from grader.cli.app import app

    out = tmp_path / "reports"
    result = runner.invoke(app, ["--quiet", "batch", "examples/mock_interview_zh.md", "examples/mock_interview_en.txt",
                                 "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    index = parse((out / "index.html").read_text(encoding="utf-8"))
    hrefs = [a.attrs["href"] for a in index.find_all("table", "index")[0].find_all("a")]
    assert hrefs == ["report-mock_interview_zh_md.html", "report-mock_interview_en_txt.html"]
    zh = (out / hrefs[0]).read_text(encoding="utf-8")
    en = (out / hrefs[1]).read_text(encoding="utf-8")
    assert '<html lang="zh">' in zh and '<html lang="en">' in en
    assert not re.search(r"[\u4e00-\u9fff]", en)  # an English interview gets an English page
    assert "index.html" in en and "全部面试记录" in zh  # each page links back to the index
    for page in (zh, en):
        assert "Key concepts found" not in page and "similarity" not in page  # no judge diagnostics
        assert "max-subarray" not in page.replace('data-question-id="max-subarray"', "")
    assert "<pre class=\"code\">" in zh and "```" not in zh
    md = (out / "report-mock_interview_zh_md.md").read_text(encoding="utf-8")
    assert "not a technical question" not in md
    assert "匹配度" in md and not re.search(r"\*\*(UNSCORED|UNMATCHED|FAILED|GRADED)\*\*| · match |> warning", md)
    en_md = (out / "report-mock_interview_en_txt.md").read_text(encoding="utf-8")
    assert not re.search(r"[\u4e00-\u9fff]", en_md)


@pytest.fixture(scope="module")
def code_shot(tmp_path_factory):
    """A page with code and criterion colours, as Chromium draws it."""

    tmp = tmp_path_factory.mktemp("html-index")
    page = tmp / "code.html"
    page.write_text(to_html(code_report({"idea": "met", "tests": "missed"})), encoding="utf-8")
    png = tmp / "code.png"
    cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'profile'}", f"--screenshot={png}",
           "--window-size=900,700", page.as_uri()]
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    return png


def test_browser_draws_criterion_colours_and_code(code_shot):
    colours: set[bytes] = set()
    for _w, _h, line, bpp in png_pixels(code_shot):
        colours.update(line[i : i + 3] for i in range(0, len(line), bpp))
    assert bytes.fromhex("dbeafe") in colours  # criterion 1's colour behind its evidence
    assert bytes.fromhex("f6f8fa") in colours  # the code block's background
