"""What an interviewer's words are: a question, a follow-up, a backchannel, or small talk.

Plain pattern rules, on purpose: they are fast, deterministic and easy to read in a review, and
they only have to separate an interview's structure, not understand the content.
"""

from __future__ import annotations

import re

from grader.transcripts.fillers import strip_fillers

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])|(?<=\.)\s+|\n+")

# --- questions -------------------------------------------------------------------------------
_ENDS_WITH_QMARK = re.compile(r"[?？][\s)）\"”'’]*$")
_ENDS_WITH_PARTICLE = re.compile(r"(?:吗|呢|么|嘛)[\s。.!！~～…]*$")
_ZH_OPENER = re.compile(
    r"^(?:那|那么|好|然后|接下来|下面|再|我们)?[，,\s]*(?:你|我们)?(?:先|再|来)?"
    r"(?:请问|请你|能不能|能否|可不可以|你可以|你能|你知道|你了解|你觉得|你认为|为什么|为何|怎么|怎样|如何"
    r"|讲一下|讲讲|讲下|说一下|说说|说下|介绍一下|介绍下|解释一下|解释下|谈谈|谈一下|聊聊|聊一下|描述一下|推导一下|推一下"
    r"|写一下|写一个|写个|实现一下|实现一个|手写|手推|给定|给你|有没有|是不是|什么是|哪些)"
)
_EN_OPENER = re.compile(
    r"^(?:so|ok|okay|and|now|then|next)?[,\s]*"
    r"(?:what|how|why|when|which|where|who|explain|describe|tell me|can you|could you|would you|do you|did you"
    r"|have you|is it|is there|are there|walk me through|write|implement|derive|given|compare|define|let'?s talk)\b",
    re.I,
)
# Chinese puts the question word late ("...有什么区别"); ASR often leaves out the question mark.
_ENDS_WITH_INTERROGATIVE = re.compile(
    r"(?:什么|啥|区别|差别|异同|为什么|为啥|怎么样|怎么办|怎么(?:做|操作|实现|算|处理|计算|更新|解决)的?|如何|哪些|哪个|多少|几种|优缺点|是否)[\s~～]*$"
)
_TASK = re.compile(
    r"写一道|做一道|来一道|出一道|一道(?:编程|算法|代码)?题|写(?:个|一下)?代码|手撕|coding (?:question|problem)|let'?s (?:do|write) (?:a|some)",
    re.I,
)
_ZH_INTERROGATIVE = re.compile(
    r"什么|怎么|为什么|为何|如何|哪些|哪个|哪几|多少|几种|是否|是不是|有没有|能不能|会不会|区别|差别|异同|优缺点|优势|劣势|原理"
)
_ANSWER_OPENER = re.compile(
    r"^(?:因为|我觉得|我认为|我理解|我记得|我的理解|我个人|首先|主要|其实|对|是的|它|它们|这个|这是|这就是|这样|所以|一般|通常|比如|我们可以|可以用"
    r"|because|i think|i believe|i guess|so basically|well|basically|it|its|it's|the|first|yes|yeah|sure|right)\b"
    r"|^(?:因为|我觉得|首先|主要|其实|它|所以|一般|通常|比如|这就是|这样)",
    re.I,
)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def question_score(text: str) -> float:
    """How much a stretch of speech sounds like a question: 1.0 sure, 0.5 a hint, 0 none."""
    sentences = _sentences(strip_fillers(text))
    if not sentences:
        return 0.0
    last = sentences[-1]
    if _ENDS_WITH_QMARK.search(last):
        return 1.0
    if _ENDS_WITH_PARTICLE.search(last):
        return 0.9
    if _ENDS_WITH_INTERROGATIVE.search(last) and not _ANSWER_OPENER.match(last):
        return 0.8  # no closing punctuation at all, yet ends on a question word
    # A question opens or closes the turn; a middle sentence opening with "怎么" is the answer talking.
    if any(_ZH_OPENER.match(s) or _EN_OPENER.match(s) for s in {sentences[0], last}) or _TASK.search(last):
        return 0.7
    if _ZH_INTERROGATIVE.search(last) and not _ANSWER_OPENER.match(sentences[0]):
        return 0.5
    return 0.0


def is_question(text: str) -> bool:
    return question_score(text) >= 0.5


# --- acknowledgements, greetings and lead-ins -------------------------------------------------
_ACK = re.compile(
    r"^(?:好的?|行|嗯|可以|没问题|对的?|不错|很好|明白|了解|知道了|ok(?:ay)?|great|good|nice|alright|all right|right|sure"
    r"|thanks|thank you|cool|got it|perfect|i see)(?:[，,。.!！~～、\s]+|$)",
    re.I,
)
_LEAD_IN = re.compile(
    r"^(?:(?:那|那么)?(?:我们)?(?:先|再|接着|接下来|下面)?(?:问|聊|来|看|换)(?:一个|个|一下|一道)?(?:基础的|简单的|别的|其他的)?"
    r"(?:问题|话题|题)?吧?[。.!！]|下一个问题[。.:：，,]?|下一题[。.:：，,]?|next question[.:,]?|let'?s move on[.,!]?|moving on[.,]?)\s*",
    re.I,
)
_GREETING_WORDS = re.compile(
    r"^(?:你好|您好|hi|hello|hey|早上好|上午好|下午好|晚上好|good (?:morning|afternoon|evening)|嗨|能听到吗|听得到吗|听得到我说话吗"
    r"|can you hear me(?: ok(?:ay)?)?|我是[^，,。.]{0,12}面试官|i'?m [^,.]{0,30}interviewer|欢迎[^，,。.]{0,12}|welcome[^,.]{0,30}"
    r"|thanks for joining|我们开始吧|我们先开始|我们直接开始|let'?s (?:get )?start(?:ed)?)"
    r"(?:[，,。.!！?？~～]+\s*|\s*$)",  # only a whole greeting, not "let's start with ResNet"
    re.I,
)


def strip_acknowledgement(text: str) -> str:
    """Drop what opens an interviewer's turn before the real question: "好的，嗯，", "OK, great.",
    "你好，我们开始吧。", "下一个问题。". The question itself is left as asked."""
    out = strip_fillers(text)
    while True:
        new = out
        for pattern in (_ACK, _GREETING_WORDS, _LEAD_IN):
            new = pattern.sub("", new, count=1).lstrip()
        if new == out:
            return out
        out = new


def is_backchannel(text: str) -> bool:
    """Nothing but "嗯" / "好的" / "OK": the listener keeping the floor open, not a new turn."""
    return not strip_acknowledgement(text)


# --- follow-ups --------------------------------------------------------------------------------
_GENERIC_FOLLOW_UP = re.compile(
    r"^(?:为什么|为啥|为什么呢|为何|还有吗|还有呢|还有别的吗|还有其他的吗|还有其他的呢|还有没有|然后呢|接着呢|具体(?:一点|点|说说|讲讲|呢)?"
    r"|能(?:再)?(?:展开|详细|具体)(?:说|讲)?(?:说|讲|一下)?(?:吗)?|举个例子|比如呢|比如说呢|怎么做|怎么实现(?:的)?(?:呢)?|是吗|确定吗|你确定吗"
    r"|why|why not|how|how so|anything else|what else|and then|for example|such as|can you elaborate|elaborate|go on"
    r"|are you sure|really|and|what about it)$",
    re.I,
)
_CONTINUATION_START = re.compile(
    r"^(?:那|那么|那如果|如果|假如|要是|还有|另外|and|but|so|then|what if|what about|how about|if)(?:\b|(?=[\u4e00-\u9fff]))", re.I
)
_ANAPHORA = re.compile(r"它|它们|这个|这样|那样|这种|那种|这里|这一步|刚才|刚刚|你说的|你刚|上面|前面|\b(?:it|that|this|those|these|them)\b", re.I)
_NEW_TOPIC = re.compile(
    r"区别|异同|是什么|什么是|介绍一下|介绍下|讲一下|讲讲|说一下|说说|解释一下|原理|了解|知道|听说过"
    r"|difference|what is|explain|do you know|are you familiar|heard of",
    re.I,
)
_REACTION = re.compile(r"^(?:对|是的|没错|不是|不对|不太对|yes|no|right|exactly|not quite)(?:\b|(?=[\u4e00-\u9fff，,。.\s]))", re.I)
FOLLOW_UP_MAX_UNITS = 12  # a follow-up leans on the question before it, so it is short


def units(text: str) -> int:
    """Length in "words": one per CJK character, one per run of Latin letters or digits."""
    return len(re.findall(r"[\u3400-\u9fff]|[A-Za-z0-9_]+", text))


def is_follow_up(text: str) -> bool:
    """A short probe that only makes sense after the previous question ("那测试的时候呢？", "为什么？")."""
    q = strip_acknowledgement(text)
    bare = re.sub(r"[\s，,。.!！?？~～…]+", "", q)
    if not bare or units(q) > FOLLOW_UP_MAX_UNITS:
        return False
    if _GENERIC_FOLLOW_UP.match(re.sub(r"[\s，,。.!！?？~～…]+$", "", q).strip()) or _GENERIC_FOLLOW_UP.match(bare):
        return True
    if _ANAPHORA.search(q):
        return True
    if _NEW_TOPIC.search(q):
        return False
    if _REACTION.match(strip_fillers(text)) and not is_question(q):
        return True  # "对，训练阶段。": the interviewer answering the candidate's clarifying question
    return bool(_CONTINUATION_START.match(q) or re.search(r"呢[\s?？。]*$", q))


# --- small talk --------------------------------------------------------------------------------
_GREETING = re.compile(
    r"^(?:你好|您好|hi|hello|hey|早上好|上午好|下午好|晚上好|good (?:morning|afternoon|evening)|嗨)"
    r"|能听到|听得到|听得清|听得见|听到我|看得到我|can you hear me|hear me (?:ok|well|clearly)",
    re.I,
)
_SMALL_TALK = re.compile(
    r"自我介绍|介绍一?下?(?:你)?自己|introduce yourself|tell me (?:a (?:little )?bit )?about yourself"
    r"|(?:介绍|讲|说|聊|谈)(?:一下|一讲|一聊|讲|说|聊|下)?(?:一下)?(?:你的|你|你们的)(?:简历|项目|实习|论文|研究|经历|工作)"
    r"|项目经历|实习经历|(?:介绍|讲|说|聊)(?:一下|下)?(?:简历|项目)"
    r"|your (?:project|projects|internship|research|background|experience|resume|cv)"
    r"|有什么(?:想|要)?(?:问|问题)|有没有什么(?:问题|想问|要问)|还有什么(?:想|要)问|any questions|questions for (?:me|us)"
    r"|今天(?:就)?(?:先)?到这|面试(?:就)?(?:先)?到这|就到这里|回去等通知|等(?:hr|HR)?通知|感谢(?:你的|您的)?(?:时间|参加)"
    r"|that'?s all (?:for today|from me)|thanks? (?:you )?for (?:your time|coming)|we'?ll be in touch"
    r"|nice (?:talking|meeting)"
    r"|什么时候(?:能|可以)?(?:入职|到岗|实习)|实习(?:多久|多长时间)|期望薪资|薪资|when can you start|notice period|salary",
    re.I,
)
_CLOSING_INVITATION = re.compile(
    r"有什么(?:想|要)?(?:问|问题)|有没有什么(?:问题|想问|要问)|还有什么(?:想|要)问|any questions|questions for (?:me|us)", re.I
)


def is_small_talk(text: str) -> bool:
    """Greetings, self-introduction, project chat, "any questions for me", logistics, goodbyes."""
    spoken = strip_fillers(text)
    if _SMALL_TALK.search(spoken):
        return True
    if _GREETING.search(spoken):
        rest = strip_acknowledgement(spoken)  # greetings and lead-ins gone: is a question left?
        return not rest or not is_question(rest) or bool(_GREETING.search(rest))
    return False


def opens_closing(text: str) -> bool:
    """ "你有什么想问我的" ends the technical part: what follows is chat about the team and job."""
    return bool(_CLOSING_INVITATION.search(text))
