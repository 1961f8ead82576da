"""Which way a claim goes: a criterion's `relations` (binds, order, direction, ratio) evaluated on
one normalised claim, and the automatic reversal of a claim that lint uses to test a relation.

A claim is `satisfied`, `reversed` (roles swapped, order or direction turned round, numerator and
denominator exchanged) or `absent` (it does not say). Terms are found with the key-term matcher;
denied mentions ("不是 BN", "does not use the batch mean") say nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Literal

from grader.rubric.models import Binds, Direction, Order, Ratio
from grader.text.negation import CIRCUMSTANCE_END, Denials, denials
from grader.text.terms import EN_LEFT, EN_RIGHT, find_term_all, norm_term, words_of

Status = Literal["satisfied", "reversed", "absent", "silent"]

# Clause boundaries: punctuation and the words where a sentence turns to another subject.
_CLAUSE = re.compile(
    r"[，,;；:：。!！?？\x00]|而是|但是|(?<![然因从进反])而(?!且)|\b(?:but|whereas|while|however)\b"
    rf"|{CIRCUMSTANCE_END}"  # "在不增加参数的情况下扩大感受野": the circumstance has its own subjects
)

# Polarity words as (up, down) pairs, so that the reverser can turn each into its opposite.
# Longer words first in each language so "越大" wins over "大".
_PAIRS_ZH = [
    ("越来越大", "越来越小"), ("越来越高", "越来越低"), ("越来越多", "越来越少"), ("越来越快", "越来越慢"),
    ("越大", "越小"), ("越高", "越低"), ("越多", "越少"), ("越快", "越慢"),
    ("变大", "变小"), ("变高", "变低"), ("变多", "变少"), ("变快", "变慢"),
    ("增大", "减小"), ("增加", "减少"), ("增多", "减少"), ("提高", "降低"), ("提升", "下降"), ("升高", "降低"),
    ("上升", "下降"), ("加大", "减小"), ("加快", "减慢"), ("扩大", "缩小"), ("放大", "缩小"), ("增长", "下降"),
    ("更大", "更小"), ("更高", "更低"), ("更多", "更少"), ("更快", "更慢"),
    ("较大", "较小"), ("较高", "较低"), ("偏大", "偏小"), ("偏高", "偏低"), ("过大", "过小"), ("过高", "过低"),
    ("很大", "很小"), ("很高", "很低"), ("爆炸", "消失"), ("翻倍", "减半"), ("加倍", "减半"), ("乘", "除以"),
    ("升到", "降到"), ("升至", "降至"), ("变长", "变短"), ("更长", "更短"), ("远超", "远低于"), ("上涨", "下跌"),
    ("涨", "跌"), ("变宽", "变窄"), ("更好", "更差"), ("变好", "变差"), ("较好", "较差"), ("很好", "很差"),
    ("额外", "节省"), ("更费", "更省"),  # "需要额外内存" is more memory, "节省内存" less
    ("大", "小"), ("高", "低"), ("多", "少"), ("快", "慢"), ("好", "差"), ("不少", "不多"),
]
_PAIRS_EN = [
    ("larger", "smaller"), ("bigger", "smaller"), ("greater", "smaller"), ("higher", "lower"), ("more", "less"),
    ("more", "fewer"), ("faster", "slower"), ("increases", "decreases"), ("increased", "decreased"),
    ("increasing", "decreasing"), ("increase", "decrease"), ("raises", "lowers"), ("raise", "lower"),
    ("grows", "shrinks"), ("grow", "shrink"), ("growing", "shrinking"), ("rises", "drops"), ("rise", "drop"),
    ("boosts", "reduces"), ("amplifies", "reduces"), ("amplify", "reduce"), ("explode", "vanish"),
    ("explodes", "vanishes"), ("exploding", "vanishing"), ("widens", "narrows"), ("wider", "narrower"),
    ("enlarges", "shrinks"), ("enlarge", "shrink"), ("enlarged", "shrunk"), ("better", "worse"),
    ("large", "small"), ("big", "small"), ("high", "low"), ("fast", "slow"), ("up", "down"),
    ("extra", "less"), ("additional", "less"), ("costs more", "saves"), ("cost more", "save"),
]
_EXTRA_DOWN_EN = ["reduced", "reducing", "lowered", "lowering", "dropped", "dropping", "diminishes", "diminished",
                  "declines", "declined", "falls", "fall", "goes down", "go down"]
_EXTRA_UP_EN = ["goes up", "go up", "boosted", "raised", "grown", "doubled", "doubles", "double", "scaled up", "multiplied"]
_EXTRA_DOWN_EN += ["halved", "halves", "halve", "scaled down", "divided", "saving", "saved"]

# Evaluative words say whether something got better, not which way it moved: they count only
# for a subject whose direction relation says which way is better (`better`).
_EVALUATIVE = {
    "更好": True, "变好": True, "较好": True, "很好": True, "好": True, "better": True,
    "更差": False, "变差": False, "较差": False, "很差": False, "差": False, "worse": False,
}

_POLARITY: dict[str, str] = {}
_OPPOSITE: dict[str, str] = {}
for _up, _down in _PAIRS_ZH + _PAIRS_EN:
    _POLARITY.setdefault(_up, "up")
    _POLARITY.setdefault(_down, "down")
    _OPPOSITE.setdefault(_up, _down)
    _OPPOSITE.setdefault(_down, _up)
for _w in _EXTRA_DOWN_EN:
    _POLARITY.setdefault(_w, "down")
for _w in _EXTRA_UP_EN:
    _POLARITY.setdefault(_w, "up")

# Words that contain a polarity character without saying that anything moves.
_MASK_ZH = (
    "大小|大部分|大多|大约|大概|大家|大致|大体|最大|最小|最高|最低|最多|最少|极大|极小|大于|小于|高于|低于|多于|少于|"
    "多尺度|多任务|多个|多层|多头|多卡|多分类|多标签|多模态|多样|多次|多种|多少|很多|许多|多数|多项|至少|至多|不少|"
    "多余|高斯|高效|高维|低维|高层|低层|高阶|低阶|小时|小结|小批量|快照|多久|大写|小写|高度|多通道|多尺寸|差不多|"
    "乘加|乘积|乘法|方差|误差|残差|偏差|差异|差别|差值|差分|相差|差距|标准差|时间差|好处|好像|正好|只好|最好|刚好|恰好|"
    "友好|好在|好比|好几|还好|不好说|大不大|高不高|多不多|好不好"
)
_MASK_EN = r"at least|at most|more or less|more than|less than|mini-batch|high-level|low-level|highest|lowest|largest|smallest"
_POLARITY_RE = re.compile(
    rf"(?P<mask>{_MASK_ZH})|{EN_LEFT}(?P<mask_en>{_MASK_EN}){EN_RIGHT}"
    r"|(?P<zh>" + "|".join(sorted((w for w in _POLARITY if not w[0].isascii()), key=len, reverse=True)) + ")"
    rf"|{EN_LEFT}(?P<en>" + "|".join(sorted((re.escape(w) for w in _POLARITY if w[0].isascii()), key=len, reverse=True))
    + rf"){EN_RIGHT}"
)
# Words between a polarity word and its subject that do not separate them.
_FILLER = re.compile(r"\b(?:the|a|an|its|their|is|are|was|were|be|been|becomes?|gets?|much|even|also|size|sizes)\b|[\s的了得会也就还都是更]")
REACH_ZH = 8
REACH_EN = 14
MAX_MENTIONS = 64  # of all the term lists of one relation, in one claim
MAX_CLAIM = 2000  # characters of a claim read for relations (a sentence or two is far shorter)


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    role: int  # which term list of the relation it belongs to
    text: str


def _mentions(
    text: str, lists: list[list[str]], den: Denials, keep_negated: bool = False, keep_all: bool = False
) -> list[Mention]:
    """Every mention of each term list, longest first where they overlap. Mentions in a refuted
    claim or in another case ("否则…") say nothing; negated ones are dropped unless asked for."""
    words = words_of(text)
    found = []
    for role, terms in enumerate(lists):
        for term in terms:
            for s, e in find_term_all(term, text, words):
                found.append(Mention(s, e, role, text[s:e]))
    found.sort(key=lambda m: (-(m.end - m.start), m.start))
    kept: list[Mention] = []
    taken = bytearray(len(text) + 1)  # characters already claimed by a longer mention
    for m in found:
        if not any(taken[m.start : m.end]):
            kept.append(m)
            taken[m.start : m.end] = b"\x01" * (m.end - m.start)
    if not keep_all:
        owned = [(m.start, m.end) for m in kept]  # "两者不等价": the negator is part of a term
        kept = [
            m for m in kept
            if not (
                den.is_refuted(m.start) or den.is_hypothetical(m.start)
                or (not keep_negated and (den.is_negated_beside(m.start, owned) or den.is_late_negated(m.start, owned)))
            )
        ]
    # A claim is a sentence or two: past this many mentions the text is no claim a reader would
    # make, and the pairwise steps below must stay bounded on adversarial input.
    return sorted(kept, key=lambda m: m.start)[:MAX_MENTIONS]


# "精度比小 batch 差", "worse than small batches": the thing compared against is not the subject.
_COMPARED = re.compile(
    r"(?:比|相比|相较|相对于?|对比|跟|than|compared (?:to|with)|relative to|in contrast to)\s?(?:于\s?)?(?:the |a )?$"
)
# "线程是进程内的调度单位": an entity that only qualifies the property is not its owner.
_MODIFIER = re.compile(r"^\s?(?:之?内|之?中|里|内部|之间|间)的")


def _compared(text: str, m: Mention) -> bool:
    return bool(_COMPARED.search(text[max(0, m.start - 16) : m.start]))


def _clause_ids(text: str) -> list[int]:
    ids, cur, pos = [0] * (len(text) + 1), 0, 0
    for m in _CLAUSE.finditer(text):
        for i in range(pos, m.start()):
            ids[i] = cur
        cur += 1
        for i in range(m.start(), m.end()):
            ids[i] = cur
        pos = m.end()
    for i in range(pos, len(text) + 1):
        ids[i] = cur
    return ids


@lru_cache(maxsize=64)
def _substance(text: str) -> list[int]:
    """prefix[i]: characters before i that are not articles, copulas or particles, so that any
    gap is one subtraction (the claim is scanned once, not once per pair of words)."""
    filler = bytearray(len(text))
    for m in _FILLER.finditer(text):
        filler[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    return [0, *accumulate(1 - f for f in filler)]


def _gap(text: str, a: int, b: int) -> int:
    """Distance between two spans, not counting articles, copulas and particles."""
    if b < a:
        return 10**6
    prefix = _substance(text)
    return prefix[b] - prefix[a]


def _attach(
    text: str, pos: tuple[int, int], mentions: list[Mention], clause: list[int], english: bool, forward_first: bool | None = None
) -> Mention | None:
    """The mention a word at `pos` is said about: the nearest one in its clause. On a tie English
    polarity words look forward ("reduces the variance", "larger batches"), Chinese ones back
    ("batch 越大"); properties look back to their subject ("BN normalises over the batch")."""
    forward_first = english if forward_first is None else forward_first
    s, e = pos
    best, key = None, None
    for m in mentions:
        if clause[m.start] != clause[s]:
            continue
        if m.start >= e:
            d, forward = _gap(text, e, m.start), True
        elif m.end <= s:
            d, forward = _gap(text, m.end, s), False
        else:
            continue
        reach = REACH_EN if english else REACH_ZH
        if d > reach:
            continue
        k = (d, 0 if forward == forward_first else 1)
        if key is None or k < key:
            best, key = m, k
    return best


# A number that becomes another says which way it moved ("乘法 36→16", "从 36 次到 16 次",
# "from 36 to 16"); a bare "3 到 5 个" is a range, not a move.
_NUM = r"(\d+(?:\.\d+)?)\s?(?:次|个|倍|%|ms|x|×)?"
_TRANSITION = re.compile(
    rf"(?<![0-9a-z.]){_NUM}\s?(?:→|->|=>|⇒|降到|降至|降为|减到|减为|减少到|减少为|升到|升至|增加到|增到|变成|变为)\s?{_NUM}(?![0-9.])"
    rf"|(?:从|\bfrom)\s?{_NUM}\s?(?:到|\bto)\s?{_NUM}(?![0-9.])"
)
# A share or a multiple of what it was says which way it moved: "计算量只有原来的 1/9", "内存是原来的
# k² 倍", "memory is k² times larger" is up, "1/k² of the memory" down.
_SHARE = re.compile(
    r"(?:只有|只需|仅为?|仅仅|降到|降为|减到|减少到|变成|变为|是|为|约为|大约是?)\s?(?:原来|之前|普通卷积|标准卷积|直接卷积)?(?:的)?\s?"
    r"(?:约|大约)?\s?1\s?/\s?(?:\d+(?:\.\d+)?|[a-z]\w{0,2}²?|[a-z]\^2)(?![\w/])"
    r"|(?<![\w/])1\s?/\s?(?:\d+(?:\.\d+)?|[a-z]²|[a-z]\^2)\s?(?:of the|of)\b"
)
_MULTIPLE = re.compile(
    r"(?:是|为|变成|变为|增加到|增加了|多了|大了|高了|扩大了?|膨胀了?|翻了)\s?(?:原来|之前|普通卷积|标准卷积|直接卷积)?(?:的)?\s?(?:约|大约)?\s?"
    r"(?:\d+(?:\.\d+)?|[a-z](?:²|\^?2)?|[a-z]\s?[×x*]\s?[a-z])\s?倍"
    r"|(?<![\w.])(?:\d+(?:\.\d+)?|[a-z](?:²|\^?2)?)\s?(?:times|x) (?:larger|more|bigger|higher|as much|as many)\b"
)
_UP, _DOWN = "\x01up", "\x01down"  # what a transition stands for among the polarity words
_POLARITY[_UP], _POLARITY[_DOWN] = "up", "down"
# A share ("1/9 of") and a multiple ("k² 倍") as polarity words, each with its opposite for lint's
# reversal.
_DOWN_SHARE, _UP_MULTIPLE = "\x01share", "\x01multiple"
_POLARITY[_DOWN_SHARE], _POLARITY[_UP_MULTIPLE] = "down", "up"
_OPPOSITE[_DOWN_SHARE], _OPPOSITE[_UP_MULTIPLE] = "是原来的 9 倍", "只有原来的 1/9"


def _transition_numbers(match: re.Match[str]) -> tuple[str, str]:
    a, b, c, d = match.groups()
    return (a, b) if a is not None else (c, d)


def _polarity_words(text: str, mentions: list[Mention]) -> list[tuple[int, int, str, bool]]:
    """(start, end, word, english) of each polarity word outside the mentions themselves, and of
    each number that becomes a larger or a smaller one."""
    out = []
    for m in _POLARITY_RE.finditer(text):
        if m.lastgroup in ("mask", "mask_en"):
            continue
        s, e = m.span()
        if any(x.start <= s < x.end or x.start < e <= x.end for x in mentions):
            continue
        out.append((s, e, m.group(), m.lastgroup == "en"))
    for s, e, word in _moves(text):
        if not any(x.start < e and s < x.end for x in mentions):
            # a polarity word inside it ("降到" in "从 36 降到 16") is the same move, read once
            out = [w for w in out if not (s <= w[0] < e)]
            out.append((s, e, word, False))
    return sorted(out)


def _moves(text: str):
    """(start, end, word) of each share, multiple or number that becomes another."""
    for rx, word in ((_SHARE, _DOWN_SHARE), (_MULTIPLE, _UP_MULTIPLE)):
        for m in rx.finditer(text):
            yield m.start(), m.end(), word
    for m in _TRANSITION.finditer(text):
        a, b = (float(x) for x in _transition_numbers(m))
        if a != b:
            yield m.start(), m.end(), _UP if b > a else _DOWN


# Chinese polarity words that come before what they move ("增大 batch", "降低梯度方差").
_ZH_VERBS = {"节省", "额外", "增大", "减小", "增加", "减少", "增多", "提高", "降低", "提升", "升高", "加大", "加快", "减慢", "扩大", "缩小", "放大", "翻倍", "加倍", "减半", "乘", "除以"}


def _polarity_owner(text, pos, word, mentions, clause, english) -> Mention | None:
    """The subject a polarity word is said about. A Chinese adjective or comparative follows its
    subject ("batch 越大", "方差小") unless it sits right before it ("大 batch"); verbs go both ways."""
    owner = _attach(text, pos, mentions, clause, english)
    if owner is None or english or word in _ZH_VERBS or owner.start < pos[0]:
        return owner
    if _gap(text, pos[1], owner.start) <= 0:
        return owner  # "大batch", "小的 batch"
    behind = [m for m in mentions if m.end <= pos[0] and clause[m.start] == clause[pos[0]]]
    return behind[-1] if behind and _gap(text, behind[-1].end, pos[0]) <= REACH_ZH else None


def _polarity_of(word: str, flips: int) -> str:
    p = _POLARITY[word]
    return p if flips % 2 == 0 else ("down" if p == "up" else "up")


def _vote(sat: int, rev: int) -> Status:
    if sat > rev:
        return "satisfied"
    if rev > sat:
        return "reversed"
    return "absent"


def _binds(rel: Binds, text: str, den: Denials) -> Status:
    lists = term_lists(rel)
    n = len(rel.pairs)
    mentions = _mentions(text, lists, den)
    entities = [m for m in mentions if m.role < n and not _compared(text, m)]
    heads = [m for m in entities if not _MODIFIER.match(text[m.end : m.end + 6])]
    props = [m for m in mentions if m.role >= n]
    if not entities or not props:
        return "absent"
    clause = _clause_ids(text)
    sat = rev = 0
    for p in props:
        english = p.text[:1].isascii()
        owner = _attach(text, (p.start, p.end), heads, clause, english, forward_first=False)
        owner = owner or _attach(text, (p.start, p.end), entities, clause, english, forward_first=False)
        weight = 2
        if owner is None:
            # A topic carries over into the next clauses ("BN：训练时，对 batch 维度…"), or is named
            # at the end ("训练误差低、验证误差高，是过拟合"); such a reading counts for less.
            weight = 1
            before = [m for m in entities if m.end <= p.start]
            after = [m for m in entities if m.start >= p.end and "\x00" not in text[p.end : m.start]]
            owner = before[-1] if before else (after[0] if after else None)
            if owner is not None and len({m.role for m in _coordinated(text, entities, owner)}) > 1:
                owner = None  # "学习 BN/LN/IN 的组合，…": no single topic to carry over
        if owner is None:
            continue
        roles = {m.role for m in _coordinated(text, entities, owner, p.start)}
        if len(roles) > 1:
            rev += weight  # "BN 和 LN 都对每个样本归一化": one property given to both sides
        elif owner.role == p.role - n:
            sat += weight
        else:
            rev += weight
    return _vote(sat, rev)


_AND = re.compile(r"^\s?(?:和|与|跟|及|以及|、|/|,|，|and|or|as well as)\s?$")


def _listed(text: str, a: Mention, b: Mention, said_at: int | None) -> bool:
    """Whether a comma lists `a` and `b` ("BN，LN 都…"): `a` opens its clause and what is said of
    them follows both ("CPU 密集用多进程，多线程…" are two clauses)."""
    opened = re.split(r"[,，;；。:：\x00]", text[: a.start])[-1].strip() in ("", "和", "与", "and")
    return opened and (said_at is None or said_at >= b.end)


def _coordinated(text: str, entities: list[Mention], owner: Mention, said_at: int | None = None) -> list[Mention]:
    """The owner and the entities joined to it by "和/与/and" ("BN 和 LN 都…"). A comma joins only
    entities that what is said of them follows ("BN，LN 都…"); "CPU 密集用多进程，多线程…" starts a
    new clause."""
    group = [owner]
    i = entities.index(owner)
    for step in (-1, 1):
        k = i
        while 0 <= k + step < len(entities):
            a, b = (entities[k + step], entities[k]) if step < 0 else (entities[k], entities[k + step])
            gap = text[a.end : b.start]
            if not _AND.match(gap) or (gap.strip() in (",", "，") and not _listed(text, a, b, said_at)):
                break
            k += step
            group.append(entities[k])
    return group


def _direction(rel: Direction, text: str, den: Denials) -> Status:
    lists = term_lists(rel)
    mentions = _mentions(text, lists, den, keep_negated=True)
    if not mentions:
        return "absent"
    clause = _clause_ids(text.replace("、", ","))  # "训练慢、震荡大": each predicate has its own subject
    seen: dict[int, list[str]] = {0: [], 1: []}
    for s, e, word, english in _polarity_words(text, mentions):
        owner = _polarity_owner(text, (s, e), word, mentions, clause, english)
        if owner is None or den.is_refuted(s) or den.is_hypothetical(s):
            continue
        if word in _EVALUATIVE:
            if owner.role != 0 or rel.better is None:
                continue  # "latency is worse" goes up, "accuracy is worse" down: only the rubric knows
            good = _EVALUATIVE[word] == (den.negators_before(s) % 2 == 0)
            seen[0].append(rel.better if good else ("down" if rel.better == "up" else "up"))
            continue
        seen[owner.role].append(_polarity_of(word, den.negators_before(s)))
    if rel.given is not None and not (seen[0] and seen[1]):
        together = _proportional(text, mentions)
        if together:
            same = (rel.dir == rel.given.dir)
            return "satisfied" if (together > 0) == same else "reversed"
    if rel.given is None:
        return _vote(seen[0].count(rel.dir), len(seen[0]) - seen[0].count(rel.dir))
    sat = rev = 0
    for ps in seen[0]:
        for pg in seen[1]:
            if (ps == rel.dir) == (pg == rel.given.dir):
                sat += 1
            else:
                rev += 1
    return _vote(sat, rev)


_PROPORTIONAL = re.compile(r"成正比|正比于|正相关|proportional to|∝|scales? linearly with|linear(?:ly)? (?:in|with)|线性")
_INVERSE = re.compile(r"成反比|反比于|负相关|inversely proportional|inverse(?:ly)?")


def _proportional(text: str, mentions: list[Mention]) -> int:
    """+1 when the claim says the subject and the condition move together ("lr ∝ batch",
    "学习率与 batch 成正比"), -1 when against each other ("方差与 1/B 成正比"), 0 when it does not say."""
    subj = [m for m in mentions if m.role == 0]
    given = [m for m in mentions if m.role == 1]
    for a in subj:
        for b in given:
            first, last = (a, b) if a.start < b.start else (b, a)
            between = text[first.end : last.start]
            if len(between) > 24 or re.search(r"[，,;；。\x00]", between):
                continue
            tail = re.split(r"[，,;；。\x00]", text[last.end : last.end + 8])[0]
            span = between + " " + tail
            sense = -1 if _INVERSE.search(span) else (1 if _PROPORTIONAL.search(span) else 0)
            if sense and re.search(r"1\s?/\s?$", text[max(0, b.start - 3) : b.start]):
                sense = -sense  # "∝ 1/B"
            if sense:
                return sense
    return 0


# Order markers, read between the two mentions (X … Y in the text) or around them.
_AFTER_Y_LATER = re.compile(r"^\s?(?:的)?(?:之后|以后|后面|后边|后)")  # "X 在 Y 之后": X is later
_AFTER_Y_EARLIER = re.compile(r"^\s?(?:的)?(?:之前|以前|前面|前边|前)")  # "X 放在 Y 之前": X is earlier
_BETWEEN_KEEP = re.compile(
    r"^\s?(?:之后|以后|后面|后边|后|完|做完)|然后|接着|随后|紧接|再|→|->|=>|⇒|>|\bthen\b|followed by|\bbefore\b|precede|prior to|"
    r"feeds? into|\binto\b|goes? to|^\s?-\s?$|^\s?,?\s?$"
)
_BETWEEN_SWAP = re.compile(r"之前|以前|前面|\bafter\b|\bfollows?\b|preceded by|comes? after")
_GAP_TO_X = r"(?:\s?\S{0,4}){0,2}\s?$"  # the marker sits at most a couple of words before X
_BEFORE_X_KEEP = re.compile(r"(?:先|首先|first|\bafter)" + _GAP_TO_X)
_FIRST_STEP = re.compile(r"(?:先|首先|\bfirst)" + _GAP_TO_X)
_BEFORE_X_SWAP = re.compile(r"\bbefore" + _GAP_TO_X)


# Between two steps of a list: a separator ("、", ";", a line), an item number, and what is
# left of the first step, with no comma or colon (those start another clause).
_LISTED = re.compile(r"[^,，:：]{0,16}?(?:[、;；\x00]\s?(?:\(?\d{1,2}[.)、]?|[①-⑩]|第.步)?\s?(?:再|然后|接着|最后|之后)?\s?)+")


def _order_sense(text: str, x: Mention, y: Mention) -> int:
    """+1 when the text says X comes first, -1 when it says Y does, 0 when it does not say."""
    between = text[x.end : y.start]
    chain = re.search(r"→|->|=>|⇒|然后|接着|随后|再|之后|\bthen\b|followed by|afterwards", between)
    first = _FIRST_STEP.search(text[max(0, x.start - 8) : x.start])
    if first and len(between) <= 40 and len(re.findall(r"[\x00，,;；:：]", between)) == 1:
        return 1  # "先用检测器框出每个人，再/对每个框做单人估计": the step marked first, then the next clause
    if len(between) > (80 if chain else 30) or (
        re.search(r"[\x00，,;；:：]", between) and not chain and not _LISTED.fullmatch(between)
    ):
        return 0  # two clauses apart, nothing links them in time
    after_y = text[y.end : y.end + 4]
    if not re.search(r"[，,;；]", between):
        if _AFTER_Y_LATER.search(after_y) and re.search(r"在|放|接|跟|位于|排", between):
            return -1
        if _AFTER_Y_EARLIER.search(after_y) and re.search(r"在|放|接|跟|位于|排", between):
            return 1
    if _BETWEEN_SWAP.search(between) and not re.match(r"^\s?(?:之后|以后|后面|后)", between):
        return -1
    if _LISTED.fullmatch(between):
        return 1  # steps listed in turn: "conv、BN、ReLU", "卷积；BN；ReLU", one per line
    if _BETWEEN_KEEP.search(between):
        return 1
    before_x = text[max(0, x.start - 8) : x.start]
    if _BEFORE_X_SWAP.search(before_x):
        return -1
    if _BEFORE_X_KEEP.search(before_x):
        return 1
    return 0


def _pairwise(text: str, mentions: list[Mention], sense) -> Status:
    """Votes over each mention of one role and the next mention of the other role."""
    sat = rev = 0
    for i, x in enumerate(mentions):
        y = next((m for m in mentions[i + 1 :] if m.role != x.role), None)
        if y is None:
            continue
        s = sense(text, x, y)
        if s == 0:
            continue
        # x is role 0 (first / numerator) and the text puts it first: satisfied.
        if (s > 0) == (x.role == 0):
            sat += 1
        else:
            rev += 1
    return _vote(sat, rev)


def _order(rel: Order, text: str, den: Denials) -> Status:
    return _pairwise(text, _mentions(text, term_lists(rel), den), _order_sense)


_RATIO_OVER = re.compile(
    r"^(?:_?\w{1,2})?\s?\)?\s?(?:/|÷|除以|divided by|over|out of(?: all)?(?: the)?)\s?[(（]?\s?(?:all |the )?$"
)
_RATIO_SHARE = re.compile(r"占|所占|among|\bin\b|within|out of|\bto\b|compared to")
_RATIO_IN = re.compile(r"中|里|当中|之中|中间|里面|分之|\bthat\b|\bwhich\b|\bwho\b")
_RATIO_WORD = re.compile(r"比例|占比|比率|比重|百分比|概率|fraction|proportion|share|percentage|ratio|rate")


def _ratio_sense(text: str, x: Mention, y: Mention) -> int:
    """+1 when X is the numerator, -1 when Y is."""
    between = text[x.end : y.start]
    if len(between) > 24:
        return 0
    if _RATIO_OVER.match(between):
        return 1
    around = text[max(0, x.start - 16) : x.start] + text[y.end : y.end + 10]
    if _RATIO_IN.search(between) and (_RATIO_WORD.search(around) or _RATIO_WORD.search(between)):
        return -1  # "预测为正的样本中真正为正的比例", "fraction of positives that are detected"
    if _RATIO_SHARE.search(between) and (_RATIO_WORD.search(around + between) or "占" in between):
        return 1  # "TP 占预测为正的比例", "the share of TP among predicted positives"
    return 0


def _ratio(rel: Ratio, text: str, den: Denials) -> Status:
    return _pairwise(text, _mentions(text, term_lists(rel), den), _ratio_sense)


def evaluate(relation, text: str) -> Status:
    """How one normalised claim stands towards one relation; `silent` when it names none of the
    relation's terms (it cannot have turned the relation round), `absent` when it names some
    without saying which way."""
    text = text[:MAX_CLAIM]
    den = denials(text)
    read = {"binds": _binds, "direction": _direction, "order": _order, "ratio": _ratio}[relation.kind]
    status = read(relation, text, den)
    if status == "absent" and _silent(relation, text, den):
        return "silent"
    return status


def term_lists(relation) -> list[list[str]]:
    """Every term list a relation reads."""
    if relation.kind == "binds":
        return [p.entity for p in relation.pairs] + [p.property for p in relation.pairs]
    if relation.kind == "order":
        return [relation.first, relation.then]
    if relation.kind == "ratio":
        return [relation.numerator, relation.denominator]
    return [relation.subject] + ([relation.given.subject] if relation.given else [])


def silent(relation, text: str) -> bool:
    """The claim names nothing the relation is about: it cannot have turned it round."""
    return evaluate(relation, text) == "silent"


def _silent(relation, text: str, den: Denials) -> bool:
    return not _mentions(text, term_lists(relation), den, keep_negated=True)


def describe(relation) -> str:
    """A short name for a relation in messages: "binds BN/LN", "order conv → BN"."""
    if relation.kind == "binds":
        return "binds " + "/".join(p.entity[0] for p in relation.pairs)
    if relation.kind == "order":
        return f"order {relation.first[0]} → {relation.then[0]}"
    if relation.kind == "ratio":
        return f"ratio {relation.numerator[0]} / {relation.denominator[0]}"
    given = f" as {relation.given.subject[0]} goes {relation.given.dir}" if relation.given else ""
    return f"direction {relation.subject[0]} {relation.dir}{given}"


def _replace(text: str, swaps: list[tuple[int, int, str]]) -> str:
    for s, e, new in sorted(swaps, reverse=True):
        text = text[:s] + new + text[e:]
    return text


def reverse(relation, text: str) -> str:
    """The claim turned round: binds' entities rotated, order and ratio roles exchanged, the
    subject's polarity words flipped. Lint checks that this evaluates as `reversed`."""
    den = denials(text)
    if relation.kind == "binds":
        n = len(relation.pairs)
        ents = _mentions(text, [p.entity for p in relation.pairs], den, keep_all=True)
        return _replace(text, [(m.start, m.end, norm_term(relation.pairs[(m.role + 1) % n].entity[0])) for m in ents])
    if relation.kind in ("order", "ratio"):
        lists = term_lists(relation)
        ms = _mentions(text, lists, den, keep_all=True)
        return _replace(text, [(m.start, m.end, norm_term(lists[1 - m.role][0])) for m in ms])
    lists = term_lists(relation)
    mentions = _mentions(text, lists, den, keep_all=True)
    clause = _clause_ids(text.replace("、", ","))
    swaps = []
    for s, e, word, english in _polarity_words(text, mentions):
        owner = _polarity_owner(text, (s, e), word, mentions, clause, english)
        if owner is not None and owner.role == 0 and word in (_UP, _DOWN):
            a, b = _transition_numbers(_TRANSITION.match(text, s))
            swaps.append((s, e, f"{b}→{a}"))
        elif owner is not None and owner.role == 0 and word in _OPPOSITE:
            swaps.append((s, e, _OPPOSITE[word]))
    return _replace(text, swaps)


__all__ = ["Status", "describe", "evaluate", "reverse"]
