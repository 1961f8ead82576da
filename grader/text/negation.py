"""What a sentence denies: negation scopes ("不用 batch 的均值", "does not use the batch mean") and
refuted claims ("有人说…，这是错的", "it is a myth that …"). Works on normalised text (see
`grader.text.normalize`), Chinese and English. A term inside a denied span is not asserted by the
sentence: it earns no credit and, for a listed wrong claim, costs nothing."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

# A negator denies what follows it up to the end of its clause or a contrast word ("不是 X 而是 Y":
# X denied, Y affirmed; "X 而不是 Y": Y denied). "不" alone negates ("不更新", "不稳定") except in
# the words where it does not ("不同", "不断", "不仅", ...).
_NEGATOR = re.compile(
    r"(?:而不是|而非|并不是|并非|并不|并没有?|并未|从未|不是|不会|不能|不用|不再|不需要?|不必|无需|无须|"
    r"不应该?|不该|不要|没有|没(?!错)|从不|决不|绝不|谈不上|算不上|称不上|说不上|"
    r"不(?!同|断|仅|但|只|止|少|过|管|论|久|如|然|错|光|一定|得不|妨|外乎|对称|可避免|确定|平衡|均衡|变|等式|规则|连续|可导))"
    r"|\b(?:not(?! only| just| merely)|never|cannot|neither|nor|no(?! matter| doubt)|rather than|instead of|stops? using|stopped using)\b|n['’]t\b"
)
# A denial stops at a clause boundary or where the sentence turns ("而是", "but").
_SCOPE_END = re.compile(
    r"[，,;；:：。!！?？\x00()（）]|而是|但是|但|却|(?<![然因从进反])而(?!且)|只是|其实|实际上|反而|"
    r"\b(?:but|however|instead|rather|yet|whereas|while|although|though|actually)\b"
)
# Words that contain a negating character without denying anything: "不确定性", "不平衡", "差不多",
# "无偏", "无论", "是不是" (a question). Masked before negators are looked for, longest first.
LEXICALISED = (
    "不确定性", "不确定", "不平衡", "不均衡", "不稳定", "不对称", "不连续", "不可导", "不规则", "不等式", "不变性", "不变",
    "不一定", "不可避免", "不外乎", "不得不", "差不多", "不多", "不少", "不断", "不仅", "不但", "不只", "不止", "不过",
    "不管", "不论", "不久", "不如", "不然", "不错", "不光", "不妨", "不同", "不一样", "不一致", "无论", "无偏", "无损", "无监督", "无穷",
    "无限", "无数", "无人", "毫无疑问", "没错", "是不是", "会不会", "能不能", "要不要", "有没有", "用不用", "对不对",
    "大不大", "高不高", "好不好", "行不行", "淹没", "湮没", "埋没", "出没", "没收", "不可或缺", "必不可少", "缺一不可",
)
# "不好" before a verb says it is hard to do ("深网络不好优化", "不好训练"), denying nothing.
_LEXICAL = re.compile("|".join(sorted(LEXICALISED, key=len, reverse=True)) + r"|不好(?=[\u4e00-\u9fff])")


@lru_cache(maxsize=4096)
def mask_lexicalised(text: str) -> str:
    """The text with each lexicalised word blanked (offsets kept), so "不确定性" denies nothing."""
    return _LEXICAL.sub(lambda m: "〇" * len(m.group()), text)


# Negators that close their clause deny what comes before them: "…的问题现在也没有了", "遮挡变化也
# 不大", "学习率不用控制", "这种做法并不常用". At most this many word characters may follow.
LATE_TAIL = 2
_LATE_HEAD = re.compile(r"(?:也|都|还|就|并|根本|完全|其实|现在|已经|基本|几乎)+\s?$")
# A negation stops at these connectives: "不增加参数就能扩大感受野" affirms the receptive field.
_CONNECTIVE = re.compile(r"就|也|才")

# "没有 X 后/之后/的话，…" (once there is no X): the negation ends with X.
_ONCE_WITHOUT = re.compile(r"之后|以后|的话|后(?![面处续验端者来期台向果])")
_CONDITIONAL = re.compile(r"(?:如果|若|要是|假如|一旦|倘若|\bif|\bwhether|\bor)\s?$")
TERM_REACH_ZH = 4  # a negated term follows its negator closely: "不用当前 batch"
TERM_REACH_EN = 12  # "not use the batch mean"
ZH_SCOPE = 16  # characters a Chinese negator reaches
EN_SCOPE = 40  # characters an English one reaches (about six words)

# "有人说 X" / "it is a myth that X": X is a claim the writer rejects.
_REFUTE_BEFORE = re.compile(
    r"(?:有人(?:会)?(?:说|认为|以为|觉得|觉得是|写成|当成|理解成|搞成)|(?:很多|不少|许多|一些|有些|部分)(?:人|同学|初学者)?(?:会)?(?:以为|认为|觉得|说|误以为)|"
    r"(?:常|经常|往往|通常|一般)?被(?:误)?(?:理解|认为|说|当|看)(?:成|为|作)|常有人说|常听人说|听人说|常听到|经常听到|(?:有|有一)种(?:说法|解释|观点|看法|理解)(?:是|说|认为|称)?|有说法(?:是|认为|称)|网上(?:有人|有种\w{0,4})?说|以前我?以为|我以前以为|误以为|错误地?认为|"
    r"(?:一个|一种)?常见(?:的)?(?:误解|误区|错误|说法)(?:是|就是|：|:))"
    r"|\b(?:(?:it is|it['’]s) (?:a )?(?:myth|misconception|common misconception|mistake) (?:that|to think|to say)|"
    r"a (?:common )?(?:mistake|misconception|misunderstanding|myth) is (?:to (?:think|believe|say|assume) )?(?:that )?|"
    r"(?:some|many|most)(?: people)? (?:say|think|believe|claim|assume)(?: that)?|"
    r"people (?:often |sometimes )?(?:say|think|believe|claim|assume)(?: that)?|"
    r"it is (?:often |commonly |sometimes )?(?:said|believed|claimed|assumed) that|"
    r"contrary to (?:the )?(?:popular|common) (?:belief|view|claim) that|you might think(?: that)?)"
)
# "X，这是错的" / "X - that's a myth": what comes before is rejected.
_REFUTE_AFTER = re.compile(
    r"(?:这|那|这个|这种|这样|此|该)?(?:个|种)?(?:说法|理解|观点|想法|解释)?(?:其实|实际上|完全|根本|肯定|显然|明显|当然|绝对)?"
    r"(?:是|就是)?(?:(?:很多|不少|许多)人的|(?:一个|一种|个)?常见的)?"
    r"(?:错的|错误的|不对的|误解|误区|谬误|不成立的?|不正确的?|并?不对|并不正确|并?不是这样的?|其实不是|其实不然|并非如此|"
    r"没有(?:任何)?(?:数学|理论|实际)?(?:意义|道理|根据|依据))"
    r"(?=\s?(?:[，,。;；:：!！?？)\x00—-]|$))"
    r"|\b(?:(?:this|that|which) (?:is|was) (?:wrong|incorrect|false|a myth|a misconception|not true|not correct)|"
    r"(?:that|this)['’]s (?:wrong|incorrect|false|a myth|a misconception|not true)|is a (?:myth|misconception))\b"
)
# A rejecting prefix reaches to the end of its sentence unless the sentence turns back.
_TURN = re.compile(r"[，,;；]\s?(?:但|但是|其实|实际上|事实上|而|正确的是)|\b(?:but|however|actually|in fact)\b")


# "我不认为 X" / "I don't think X": X is denied as a whole, however far its terms are.
_DISBELIEF = re.compile(
    r"(?:不认为|不觉得|不相信|不同意|并不是说|不是说|谈不上|算不上)"
    r"|\b(?:(?:don['’]t|do not|doesn['’]t|does not) (?:think|believe|agree)(?: that)?|disagree that|it is not true that|it['’]s not true that)\b"
)
# "否则…" / "otherwise …": what happens in another case, not what the writer asserts for this one.
_HYPOTHETICAL = re.compile(
    r"不然|否则|要不然|要是忘|如果忘|忘了|忘记|万一|\b(?:otherwise|unless|if you forget|forgetting|if you don't|if you do not)\b"
)


@dataclass
class Denials:
    """Denied spans of one normalised sentence, as sorted, merged (start, end) pairs."""

    # (start, end, negator position) of each negation scope, so that a negator a term carries
    # ("不等时", "不收敛") can be told apart from one that denies the term.
    negated_marks: list[tuple[int, int, int]] = field(default_factory=list)
    refuted: list[tuple[int, int]] = field(default_factory=list)
    length: int = 0
    # What "我不认为…"/"I don't think …" denies: the whole proposition, to the end of its clause.
    disbelieved: list[tuple[int, int]] = field(default_factory=list)
    # From "否则"/"otherwise" to the end of its sentence: another case than the one asserted.
    hypothetical: list[tuple[int, int]] = field(default_factory=list)
    # (start, end, negator position) of what each clause-final negator denies: its subject
    # ("遮挡变化也不大"), denied for a point stated affirmatively but not read as a negation of what
    # follows. The negator's position lets a term that carries it ("…下两者不等价") keep it from
    # denying the rest of the clause.
    late_marks: list[tuple[int, int, int]] = field(default_factory=list)

    # What "而不是/而非/rather than/instead of" rejects: the rejected half of a contrast.
    rejected: list[tuple[int, int]] = field(default_factory=list)

    @cached_property
    def negated(self) -> list[tuple[int, int]]:
        """The negation scopes as sorted (start, end) pairs."""
        return sorted((s, e) for s, e, _ in self.negated_marks)

    def is_rejected(self, pos: int) -> bool:
        return self._inside(self.rejected, pos)

    @cached_property
    def late(self) -> list[tuple[int, int]]:
        """The late scopes as sorted, merged (start, end) pairs."""
        return _merge([(s, e) for s, e, _ in self.late_marks])

    def is_late_negated(self, pos: int, owned: list[tuple[int, int]] | None = None) -> bool:
        """Whether `pos` lies before a clause-final negator. With `owned` (spans of matched terms),
        a negator inside one of those terms ("不等价", "不收敛") belongs to that term and denies
        nothing else."""
        if not owned:
            return self._inside(self.late, pos)
        return _covered_unowned(self.late_marks, pos, owned)

    def is_negated_beside(self, pos: int, owned: list[tuple[int, int]]) -> bool:
        """Whether `pos` is denied by a negator that is not part of a matched term (`owned`):
        in "不等时是 -p_i p_j" the 不 belongs to "不等时" and denies nothing after it."""
        return _covered_unowned(self.negated_marks, pos, owned)

    def is_hypothetical(self, pos: int) -> bool:
        return self._inside(self.hypothetical, pos)

    def _inside(self, spans: list[tuple[int, int]], pos: int) -> bool:
        i = bisect_right(spans, (pos, float("inf"))) - 1
        return i >= 0 and spans[i][0] <= pos < spans[i][1]

    def is_negated(self, pos: int) -> bool:
        return self._inside(self.negated, pos)

    def negates_term(self, pos: int, text: str) -> bool:
        """Whether a term starting at `pos` is itself denied: a negator right before it ("不用
        batch 的均值", "does not use the batch mean"), not one that denies a verb further back
        ("没法框住旋转的物体" still speaks of rotated objects)."""
        reach = TERM_REACH_EN if text[pos : pos + 1].isascii() else TERM_REACH_ZH
        if self._inside(self.disbelieved, pos):
            return True
        return any(s <= pos < e and pos - s <= reach for s, e in self.negated)

    def is_refuted(self, pos: int) -> bool:
        return self._inside(self.refuted, pos)

    def denies(self, pos: int) -> bool:
        return self.is_negated(pos) or self.is_refuted(pos)

    def negators_before(self, pos: int) -> int:
        """How many negation scopes cover `pos` (two negations cancel: "不是不会")."""
        return sum(1 for s, e in self.negated if s <= pos < e)

    @property
    def fully_refuted(self) -> bool:
        """The whole sentence is a claim put up to be rejected."""
        covered = sum(e - s for s, e in self.refuted)
        return self.length > 0 and covered >= 0.6 * self.length


def _covered_unowned(marks: list[tuple[int, int, int]], pos: int, owned: list[tuple[int, int]]) -> bool:
    """Whether a scope covers `pos` whose negator lies outside every owned (matched term) span."""
    return any(s <= pos < e and not any(a <= n < b for a, b in owned) for s, e, n in marks)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _scope_end(text: str, start: int, reach: int) -> int:
    m = _SCOPE_END.search(text, start, min(len(text), start + reach))
    return m.start() if m else min(len(text), start + reach)


def _negation_end(text: str, start: int, reach: int) -> int:
    """End of a negator's scope: its clause end or reach, or a connective ("就/也/才") after it."""
    end = _scope_end(text, start, reach)
    c = _CONNECTIVE.search(text, start + 1, end)
    return c.start() if c else end


_CLAUSE_MARKS = set("，,;；:：。!！?？\x00")


def late_scopes(text: str) -> list[tuple[int, int, int]]:
    """(start, end, negator position) of what a clause-final negator denies: the clause before it
    ("遮挡变化也不大" denies that the occlusion change is large)."""
    masked = mask_lexicalised(text)
    out = []
    for m in _NEGATOR.finditer(masked):
        if not m.group()[0] in "不没并从决绝谈算称说" or re.search(r"是|而|非", m.group()):
            continue  # English, and "不是/并非/而不是 X", put the negator before what it denies
        end = _scope_end(masked, m.end(), ZH_SCOPE)
        tail = masked[m.end() : end]
        if len(re.findall(r"\w", tail)) > LATE_TAIL or re.search(r"[a-z0-9]", tail):
            continue
        if masked[max(0, m.start() - 2) : m.start()].rstrip(" ")[-1:] in _CLAUSE_MARKS:
            continue  # "保留浮点坐标，不取整": a predicate of its own, not a denial of the clause before
        start = _clause_start(masked, m.start())
        head = _LATE_HEAD.search(masked, start, m.start())
        stop = head.start() if head else m.start()
        if re.search(r"\w", masked[start:stop]) and not _CONDITIONAL.search(masked[max(0, m.start() - 4) : m.start()]):
            out.append((start, stop, m.start()))
    return out


_REJECTOR = re.compile(r"而不是|而非|\b(?:rather than|instead of)\b")


def rejected_scopes(text: str) -> list[tuple[int, int]]:
    """(start, end) of the rejected half of "X 而不是 Y" / "X rather than Y": Y."""
    masked = mask_lexicalised(text)
    return [
        (m.end(), _negation_end(masked, m.end(), EN_SCOPE if m.group()[0].isascii() else ZH_SCOPE))
        for m in _REJECTOR.finditer(masked)
    ]


def negators(text: str) -> list[re.Match[str]]:
    """Every negator in a normalised text, conditions ("if no …") included."""
    return list(_NEGATOR.finditer(mask_lexicalised(text)))


_LIKE = re.compile(r"那样|那么|一样|这样|似的")
_IN_CIRCUMSTANCE = re.compile(r"在\s?(?:并)?$")
CIRCUMSTANCE_END = r"(?:的)?(?:情况|前提|条件)下"
_CIRCUMSTANCE_END = re.compile(CIRCUMSTANCE_END)


def negation_scopes(text: str) -> list[tuple[int, int]]:
    """(start, end) of what each negator denies: from the end of the negator to the end of its
    clause, a contrast word, a connective ("就/也/才"), or its reach."""
    return [(s, e) for s, e, _ in negation_marks(text)]


def negation_marks(text: str) -> list[tuple[int, int, int]]:
    """(start, end, negator position) of each negation scope."""
    scopes = []
    text = mask_lexicalised(text)
    for m in _NEGATOR.finditer(text):
        s = m.start()
        # "如果没有 X" / "if not" set a condition; "是不是", "会不会" ask a question.
        if _CONDITIONAL.search(text[max(0, s - 4) : s]) or (
            m.group()[0] == "不" and 0 < s < len(text) - 1 and text[s - 1] == text[s + 1]
        ):
            continue
        english = m.group()[0].isascii()
        end = _negation_end(text, m.end(), EN_SCOPE if english else ZH_SCOPE)
        if m.group() in ("没有", "没"):  # "没有全连接层后网络可以…": only the missing thing is denied
            cut = _ONCE_WITHOUT.search(text, m.end(), end)
            end = cut.start() if cut else end
        if text.startswith("不像", s) and not text.startswith("不像是", s):
            # "CE 不像 MSE 那样会梯度消失": what it is compared with is not denied, only what follows
            # "那样"; "…，不像 MSE" alone denies nothing ("不像是过拟合" still denies).
            like = _LIKE.search(text, m.end(), end)
            if like is not None:
                scopes.append((like.end(), end, s))
            continue
        if _IN_CIRCUMSTANCE.search(text[max(0, s - 3) : s]):
            # "在不增加参数的情况下扩大感受野": a negator inside the circumstance denies only within it
            cut = _CIRCUMSTANCE_END.search(text, m.end(), end)
            end = cut.start() if cut else end
        scopes.append((m.end(), end, s))
    return scopes


_CLOSE_QUOTE = {"”": "“", '"': '"', "」": "「", "』": "『", "’": "‘"}


def _quote_start(text: str, pos: int) -> int | None:
    """Where a quoted claim starts when the rejection follows its closing quote ("有人说“A，B”，这是
    错的": the whole quote is rejected, not only its last clause)."""
    head = text[:pos].rstrip(" ，,:：—-")
    if not head or head[-1] not in _CLOSE_QUOTE:
        return None
    opening = head.rfind(_CLOSE_QUOTE[head[-1]], 0, len(head) - 1)
    return opening if opening >= 0 and pos - opening <= 400 else None


def _clause_start(text: str, pos: int) -> int:
    """Start of the clause that ends at `pos`, skipping the punctuation right before it."""
    head = text[:pos].rstrip(" ，,;；:：—-")
    starts = [m.end() for m in re.finditer(r"[，,;；。!！?？\x00]", head)]
    return starts[-1] if starts else 0


@lru_cache(maxsize=4096)
def denials(text: str) -> Denials:
    """The denied spans of one normalised sentence."""
    refuted: list[tuple[int, int]] = []
    for m in _REFUTE_BEFORE.finditer(text):
        turn = _TURN.search(text, m.end())
        after = _REFUTE_AFTER.search(text, m.end())
        stops = [x.start() for x in (turn, after) if x]
        refuted.append((m.start(), min(stops) if stops else len(text)))
    for m in _REFUTE_AFTER.finditer(text):
        start = _quote_start(text, m.start())
        start = _clause_start(text, m.start()) if start is None else start
        if text[start : m.start()].strip(" ，,;；:：—-"):
            refuted.append((start, m.end()))
    marks = [(s, e, n) for s, e, n in negation_marks(text) if e > s]
    disbelieved = [(m.end(), _scope_end(text, m.end(), len(text))) for m in _DISBELIEF.finditer(text)]
    late = late_scopes(text)
    hypo = []
    for m in _HYPOTHETICAL.finditer(text):
        end = text.find("\x00", m.start())
        hypo.append((m.start(), end if end >= 0 else len(text)))
    return Denials(
        negated_marks=marks, refuted=_merge(refuted), length=len(text), hypothetical=_merge(hypo),
        disbelieved=_merge(disbelieved), late_marks=late, rejected=_merge(rejected_scopes(text)),
    )


def refutes_previous(text: str) -> bool:
    """A sentence that opens by rejecting what was just said ("这是错的。", "That's a myth.")."""
    m = _REFUTE_AFTER.match(text.lstrip(" ，,"))
    return bool(m) and m.end() > 0 and not re.search(r"\w", text.lstrip(" ，,")[m.end() :][:2] or "")
