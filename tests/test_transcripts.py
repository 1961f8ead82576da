"""Transcript reading: every format to exact question/answer pairs, encodings, line ends, fillers,
follow-ups, small talk, bad files, configurable labels. No network; fast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader.transcripts import Transcript, TranscriptError, read_transcript
from grader.transcripts.cues import is_follow_up, is_small_talk, question_score, strip_acknowledgement
from grader.transcripts.detect import detect_format
from grader.transcripts.encoding import decode_bytes
from grader.transcripts.fillers import strip_fillers
from grader.transcripts.labels import Labels
from grader.transcripts.timecode import to_seconds

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOT_TECHNICAL = "not a technical question"


def shape(t: Transcript) -> list[tuple]:
    """Pairs as (question, answer, [(follow-up question, follow-up answer), ...])."""
    return [(p.question, p.answer, [(f.question, f.answer) for f in p.follow_ups]) for p in t.pairs]


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


# --- the examples, each to its exact pairs ---------------------------------------------------


def test_markdown_notes_zh():
    t = read_transcript(EXAMPLES / "mock_interview_zh.md")
    assert (t.format, t.encoding, t.role_source) == ("text", "utf-8", "labels")
    assert shape(t) == [
        (
            "那我们先聊点基础的，BN 在训练和测试的时候分别是怎么操作的？",
            "训练的时候，BN 用当前 mini-batch 的 mean 和 variance 做归一化，然后再乘 γ 加 β。"
            "同时会用 momentum 去更新 running mean 和 running var，就是一个滑动平均。",
            [
                (
                    "那测试的时候呢？",
                    "测试的时候就不用 batch 的统计量了，直接用训练时累计下来的 running mean 和 running var，"
                    "γ 和 β 也是固定的，所以测试时什么都不更新。PyTorch 里要记得调 model.eval()，"
                    "不然 running stats 会被改掉。",
                )
            ],
        ),
        (
            "为什么现在大家都用 ReLU 而不用 sigmoid？",
            "这个主要是因为 sigmoid 在输入很大的时候导数特别小，会梯度消失。ReLU 的导数不管输入多大都是 1，"
            "所以不会梯度消失，而且没有指数运算，计算也简单。",
            [("那 ReLU 有什么缺点吗？", "好像没什么缺点吧，输出没有上界？")],
        ),
        (
            "你了解光流吗？讲一下 Lucas-Kanade 方法的基本假设。",
            "光流就是估计相邻两帧之间每个像素的运动。LK 假设亮度恒定、运动很小，还有一个小窗口内的像素运动一致，"
            "然后在窗口里用最小二乘解出 u 和 v。",
            [],
        ),
        (
            "我们写一道题：给一个整数数组，求和最大的连续子数组的和。",
            "这个用动态规划，dp[i] 表示以 i 结尾的最大子数组和，dp[i] = max(nums[i], dp[i-1] + nums[i])。"
            "只要一个变量就够了，时间 O(n)，空间 O(1)。\n\n"
            "```python\n"
            "def max_sub_array(nums):\n"
            "    best = cur = nums[0]\n"
            "    for x in nums[1:]:\n"
            "        cur = max(x, cur + x)\n"
            "        best = max(best, cur)\n"
            "    return best\n"
            "```",
            [],
        ),
    ]
    first = t.pairs[0]
    assert (first.index, first.start, str(first.source)) == (1, 72.0, "lines 8-11")
    assert first.question_raw == "好的。那我们先聊点基础的，BN 在训练和测试的时候分别是怎么操作的？"
    assert first.answer_raw.startswith("嗯，训练的时候") and "呃，同时" in first.answer_raw
    assert [(s.reason, str(s.source)) for s in t.skipped] == [
        ("text before the first speaker label", "line 3"),
        (NOT_TECHNICAL, "lines 5-6"),
        (NOT_TECHNICAL, "lines 33-34"),
        (NOT_TECHNICAL, "lines 35-36"),
    ]
    assert t.skipped[1].text.startswith("你好，能听到吗？我们先做个简单的自我介绍吧。")
    assert t.warnings == []


def test_english_notes():
    t = read_transcript(EXAMPLES / "mock_interview_en.txt")
    assert (t.format, t.role_source) == ("text", "labels")
    assert shape(t) == [
        (
            "Let's start with ResNet. What was the original motivation for ResNet's design?",
            "so the main problem was vanishing gradients. When networks get very deep, the gradients become too "
            "small, and the skip connections make the parameters small so the gradient flows back better.",
            [
                (
                    "Did deeper plain networks overfit, or was it something else?",
                    "I think it was overfitting because the deeper model has more parameters.",
                )
            ],
        ),
        (
            "What is the difference between L1 and L2 regularization?",
            "L1 adds the sum of absolute values of the weights, and L2 is the square root of the sum of squares. "
            "L1 gives sparse weights, L2 just makes them small.",
            [
                (
                    "Why?",
                    "Because the L1 constraint region is a diamond with corners on the axes, so the optimum tends to "
                    "hit a corner where some weights are exactly zero.",
                )
            ],
        ),
        (
            "What is the difference between a process and a thread?",
            "A process is the unit of resource allocation, with its own address space. A thread is the unit of "
            "scheduling inside a process; threads share the heap and file descriptors but each has its own stack "
            "and registers. Switching threads is cheaper, but if one thread segfaults the whole process dies.",
            [
                (
                    "Anything else?",
                    "In Python the GIL lets only one thread run bytecode at a time, so I use processes for CPU-bound "
                    "work and threads for I/O.",
                )
            ],
        ),
    ]
    assert [s.reason for s in t.skipped] == ["text before the first speaker label", NOT_TECHNICAL, NOT_TECHNICAL]


def test_srt_subtitles():
    t = read_transcript(EXAMPLES / "mock_interview.srt")
    assert (t.format, t.role_source) == ("srt", "labels")
    assert shape(t) == [
        (
            "介绍一下空洞卷积，它有什么优势和劣势？",
            "空洞卷积就是在卷积核的元素之间插入空洞，dilation rate 为 r 时等效卷积核大小是 K + (K-1)(r-1)。"
            "优点是不增加参数、不降采样就能扩大感受野，DeepLab 的 ASPP 就用了它。"
            "缺点是有 gridding effect，采样太稀疏，小物体的细节会丢。",
            [],
        ),
        (
            "数据不平衡怎么办？",
            "可以对少数类过采样，或者对多数类欠采样，也可以在 loss 里按类别频率加权。",
            [("还有吗？", "还可以用 focal loss，评价指标别只看 accuracy，看 PR 曲线和 F1。")],
        ),
        ("上采样方法都有哪些？", "有双线性插值、反卷积，还有…PixelShuffle。反卷积就是卷积的逆运算。", []),
    ]
    q1 = t.pairs[0]
    assert (q1.start, q1.end, str(q1.source)) == (1.0, 26.0, "cues 1-5")
    assert t.pairs[1].follow_ups[0].start == 36.5


def test_vtt_voice_tags():
    t = read_transcript(EXAMPLES / "mock_interview.vtt")
    assert (t.format, t.role_source) == ("vtt", "labels")
    assert shape(t) == [
        (
            "MobileNet V1 和 V2 有什么区别？",
            "V1 用深度可分离卷积，先 depthwise 3×3，再 pointwise 1×1，计算量大概是普通卷积的九分之一。"
            "V2 加了 inverted residual，先用 1×1 升维，再 depthwise，再 1×1 降维，"
            "最后一层不用 ReLU，叫 linear bottleneck。",
            [],
        ),
        (
            "线程和进程的区别是什么？",
            "进程是资源分配的单位，线程是 CPU 调度的单位。线程共享进程的内存，但是线程不稳定，容易丢失数据。",
            [],
        ),
        (
            "Python 里的 == 是怎么实现的？和 is 有什么区别？",
            "== 会调用对象的 __eq__ 方法比较值，is 比较的是 id，也就是是不是同一个对象。"
            "如果没有定义 __eq__，默认就退化成比较 identity。",
            [],
        ),
    ]
    assert (t.pairs[0].start, t.pairs[0].end) == (0.5, 19.0)  # the "嗯嗯" cue at 11 s was dropped, not split on


def test_whisper_json_without_speakers():
    t = read_transcript(EXAMPLES / "asr_whisper.json")
    assert (t.format, t.role_source) == ("asr-json", "cues")
    assert shape(t) == [
        (
            "训练的时候为什么要分成训练集、验证集和测试集？",
            "训练集用来拟合模型参数，验证集用来调超参数和做 early stopping，测试集只在最后用一次，"
            "用来估计模型的泛化能力。如果在测试集上调参，结果就会偏乐观。",
            [],
        ),
        (
            "讲一下BN的原理吧",
            "BN 就是对每个 channel 在 batch 上算均值和方差，做归一化，使特征符合正态分布，"
            "这样训练会更稳定，也可以用更大的学习率。",
            [("那γ和β有什么用呢？", "γ和β就是对归一化之后的特征做一些细微的调整。")],
        ),
        (
            "梯度消失和梯度爆炸一般是什么原因导致的",
            "主要是反向传播的时候梯度要连乘，如果每层的导数都小于 1 就会越乘越小，大于 1 就会爆炸，"
            "比如 sigmoid 的导数最大只有 0.25。可以用 ReLU、BN、残差连接和梯度裁剪来缓解。",
            [],
        ),
    ]
    assert [(s.reason, str(s.source)) for s in t.skipped] == [(NOT_TECHNICAL, "segments 14-15")]
    assert any("no speaker labels" in w for w in t.warnings)


def test_diarized_json():
    t = read_transcript(EXAMPLES / "asr_diarized.json")
    assert (t.format, t.role_source) == ("asr-json", "speakers")
    assert shape(t) == [
        (
            "EfficientNet 有什么特色？",
            "它的核心是 compound scaling，用一个系数 φ 同时放大深度、宽度和分辨率，约束是 α·β²·γ² ≈ 2，"
            "所以 FLOPs 大概按 2 的 φ 次方增长。baseline B0 是 NAS 搜出来的，用的是 MBConv 加 SE 模块。",
            [],
        ),
        (
            "常用的模型加速方法有哪些？",
            "有剪枝、量化、知识蒸馏，还有用 TensorRT 做算子融合，比如把 BN 融进卷积里。",
            [],
        ),
        (
            "Focal loss 解决了什么问题？和 OHEM 有什么区别？",
            "focal loss 主要解决的是正负样本不平衡，我记得它就是给正样本加一个更大的权重。OHEM 这个我不太清楚。",
            [],
        ),
    ]
    assert [(s.reason, str(s.source)) for s in t.skipped] == [
        (NOT_TECHNICAL, "segments 1-2"),
        (NOT_TECHNICAL, "segment 11"),
    ]
    assert any("SPEAKER_00 -> interviewer, SPEAKER_01 -> candidate" in w for w in t.warnings)


def test_jsonl_answer_sheet():
    t = read_transcript(EXAMPLES / "answers.jsonl")
    assert (t.format, t.role_source) == ("jsonl", "given")
    assert [(p.question_id, p.question) for p in t.pairs] == [
        ("bn-inference", ""),
        ("relu-vs-sigmoid", ""),
        ("max-subarray", ""),
        (None, "L1 和 L2 正则化有什么区别？"),
        (None, "What is the difference between a process and a thread?"),
    ]
    assert t.pairs[1].answer == "因为 ReLU 的导数永远是 1，所以不会梯度消失。"
    assert t.pairs[1].answer_raw == "嗯，因为 ReLU 的导数永远是 1，所以不会梯度消失。"
    assert "    best = cur = 0\n" in t.pairs[2].answer  # code keeps its indentation
    assert [str(p.source) for p in t.pairs] == [f"line {n}" for n in range(1, 6)]


def test_gbk_with_windows_line_ends():
    path = EXAMPLES / "mock_interview_gbk.txt"
    raw = path.read_bytes()
    assert b"\r\n" in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    t = read_transcript(path)
    assert (t.format, t.encoding) == ("text", "gb18030")
    assert shape(t) == [
        (
            "BN 放在激活函数之前还是之后？",
            "原论文是放在激活之前，conv -> BN -> ReLU，这样 BN 的输出正好落在 ReLU 的有效区间。\n"
            "不过实际上放在之后也有人用，效果差不多。",
            [],
        ),
        (
            "如果把权重全部初始化为 0 会怎么样？",
            "那每个神经元的输出都一样，反向传播的梯度也一样，对称性打不破，相当于每层只有一个神经元。"
            "一般用 Xavier 或者 Kaiming 初始化。",
            [],
        ),
        (
            "SVM 和逻辑回归有什么区别？",
            "SVM 用的是 hinge loss，只关心支持向量；LR 用的是 log loss，所有样本都有贡献。",
            [("还有吗？", "LR 输出的是概率，SVM 输出的是到超平面的距离，不是概率。SVM 可以用核函数处理非线性。")],
        ),
    ]
    assert not any("\r" in p.answer_raw or "\r" in p.question_raw for p in t.pairs)


# --- encodings and line ends -----------------------------------------------------------------

SMALL = "面试官：BN 在训练和测试的时候有什么区别？\n候选人：训练用 batch 统计量，测试用 running mean。\n"
SMALL_PAIRS = [("BN 在训练和测试的时候有什么区别？", "训练用 batch 统计量，测试用 running mean。", [])]


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"),
        ("utf-16-le", b"\xff\xfe", "utf-16"),
        ("utf-16-be", b"\xfe\xff", "utf-16"),
        ("gbk", b"", "gb18030"),
        ("gb18030", b"", "gb18030"),
    ],
)
def test_encodings_detected(tmp_path, encoding, prefix, expected):
    path = tmp_path / "notes.txt"
    path.write_bytes(prefix + SMALL.encode(encoding))
    t = read_transcript(path)
    assert t.encoding == expected
    assert shape(t) == SMALL_PAIRS


def test_short_gbk_is_not_mistaken_for_big5_or_korean():
    for text in ["问：你好", "问题：卷积", "答：对"]:
        assert decode_bytes(text.encode("gbk")).text == text


def test_big5_traditional_chinese():
    text = "面試官：bn層原理？為什麼要用relu？\n"
    decoded = decode_bytes(text.encode("big5"))
    assert (decoded.text, decoded.encoding) == (text, "big5")


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_windows_and_old_mac_line_ends(tmp_path, newline):
    t = read_transcript(write(tmp_path, "notes.md", SMALL, newline=newline))
    assert shape(t) == SMALL_PAIRS


# --- bad files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"  \n\r\n\t ", "file is empty"),
        (bytes(range(256)) * 8, "binary"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "PNG image"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF document"),
        (b"PK\x03\x04" + bytes(40), "ZIP archive"),
        (b"ID3\x04\x00" + bytes(100), "audio"),
    ],
)
def test_unreadable_files_give_one_clear_line(tmp_path, content, message):
    path = tmp_path / "interview.txt"
    path.write_bytes(content)
    with pytest.raises(TranscriptError) as err:
        read_transcript(path)
    text = str(err.value)
    assert str(path) in text and message in text and "\n" not in text
    assert err.value.path == str(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(TranscriptError, match="file not found"):
        read_transcript(tmp_path / "nope.srt")
    with pytest.raises(TranscriptError, match="directory"):
        read_transcript(tmp_path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.json", '{"segments": [', "invalid JSON"),
        ("a.json", '{"segments": [{"start": "soon", "text": "hi"}]}', "segment 1: start"),
        ("a.json", '{"segments": []}', "no segments"),
        ("a.json", '{"foo": 1}', "expected speech-recognition JSON"),
        ("a.jsonl", '{"answer": "x"}\nnot json\n', "no valid question/answer lines"),
        ("a.vtt", "00:00:01.000 --> 00:00:02.000\nhi\n", "WebVTT"),
        ("a.txt", "# 只有标题\n\n---\n", "no speech found"),
    ],
)
def test_malformed_content(tmp_path, name, content, message):
    with pytest.raises(TranscriptError, match=message) as err:
        read_transcript(write(tmp_path, name, content))
    assert name in str(err.value) and "\n" not in str(err.value)


def test_unknown_format_and_bad_label_mapping(tmp_path):
    path = write(tmp_path, "a.txt", SMALL)
    with pytest.raises(TranscriptError, match="unknown format 'docx'"):
        read_transcript(path, format="docx")
    with pytest.raises(TranscriptError, match="role must be one of"):
        read_transcript(path, labels={"张工": "boss"})


# --- fillers, follow-ups, small talk ---------------------------------------------------------


def test_fillers_removed_but_kept_in_raw(tmp_path):
    text = (
        "面试官：嗯，BN 在测试的时候怎么用？\n"
        "候选人：呃……那个，测试的时候啊，就是说用训练时的 running mean，额外的计算量几乎为零。\n"
    )
    pair = read_transcript(write(tmp_path, "a.txt", text)).pairs[0]
    assert pair.question == "BN 在测试的时候怎么用？"
    assert pair.answer == "测试的时候，用训练时的 running mean，额外的计算量几乎为零。"
    assert pair.answer_raw == "呃……那个，测试的时候啊，就是说用训练时的 running mean，额外的计算量几乎为零。"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("嗯嗯。", ""),
        ("Um, so, you know, BN uses uh the batch statistics.", "so BN uses the batch statistics."),
        ("Do you know how NMS works?", "Do you know how NMS works?"),
        ("这会带来额外的计算量，额，大概 10%。", "这会带来额外的计算量，大概 10%。"),
        ("代码：\n```python\n# 嗯 um\nx = 1\n```\n嗯，就这样。", "代码：\n```python\n# 嗯 um\nx = 1\n```\n就这样。"),
    ],
)
def test_strip_fillers(raw, clean):
    assert strip_fillers(raw) == clean


def test_follow_up_attached_to_previous_question(tmp_path):
    text = (
        "面试官：BN 在训练的时候怎么算均值和方差？\n"
        "候选人：在 N、H、W 上对每个 channel 求。\n"
        "面试官：那测试的时候呢？\n"
        "候选人：用 running mean 和 running var。\n"
        "面试官：为什么？\n"
        "候选人：因为测试时可能只有一张图。\n"
        "面试官：ReLU 和 sigmoid 有什么区别？\n"
        "候选人：ReLU 不饱和。\n"
    )
    t = read_transcript(write(tmp_path, "a.txt", text))
    assert shape(t) == [
        (
            "BN 在训练的时候怎么算均值和方差？",
            "在 N、H、W 上对每个 channel 求。",
            [("那测试的时候呢？", "用 running mean 和 running var。"), ("为什么？", "因为测试时可能只有一张图。")],
        ),
        ("ReLU 和 sigmoid 有什么区别？", "ReLU 不饱和。", []),
    ]
    assert str(t.pairs[0].source) == "lines 1-6"
    assert t.pairs[0].full_answer() == "在 N、H、W 上对每个 channel 求。\n用 running mean 和 running var。\n因为测试时可能只有一张图。"


@pytest.mark.parametrize(
    "text", ["那测试的时候呢？", "为什么？", "还有吗", "好，那推理的时候 BN 怎么算？", "它的缺点是什么？", "Why?", "What about at test time?"]
)
def test_is_follow_up(text):
    assert is_follow_up(text)


@pytest.mark.parametrize(
    "text",
    ["那 ReLU 和 sigmoid 有什么区别呢？", "那如果输入全是正数，ReLU 还有用吗？", "那光流呢，你了解光流吗？", "讲一下 ResNet 的结构", "Dropout"],
)
def test_is_not_follow_up(text):
    assert not is_follow_up(text)


@pytest.mark.parametrize(
    "text",
    [
        "你好，能听到吗？",
        "先介绍一下你自己吧",
        "介绍一下你的项目",
        "你有什么想问我的吗？",
        "好的，今天就到这里，回去等通知吧。",
        "Tell me about yourself.",
        "Do you have any questions for me?",
        "Great, thanks for your time today.",
    ],
)
def test_small_talk(text):
    assert is_small_talk(text)


@pytest.mark.parametrize("text", ["你好，我们直接开始，先讲一下 BN 的原理吧。", "讲一下 BN", "Why does ResNet work?"])
def test_not_small_talk(text):
    assert not is_small_talk(text)


def test_small_talk_skipped_with_reason(tmp_path):
    text = (
        "面试官：你好，先做个自我介绍吧。\n"
        "候选人：我叫小王，研二。\n"
        "面试官：还有吗？\n"
        "候选人：没了。\n"
        "面试官：1×1 卷积有什么作用？\n"
        "候选人：升降维、跨通道融合。\n"
        "面试官：你有什么想问我的吗？\n"
        "候选人：团队做什么方向？\n"
        "面试官：我们做自动驾驶感知。\n"
    )
    t = read_transcript(write(tmp_path, "a.txt", text))
    assert shape(t) == [("1×1 卷积有什么作用？", "升降维、跨通道融合。", [])]
    assert [(s.reason, str(s.source)) for s in t.skipped] == [
        (NOT_TECHNICAL, "lines 1-2"),
        (NOT_TECHNICAL, "lines 3-4"),  # a probe into small talk is small talk
        (NOT_TECHNICAL, "lines 7-8"),
        (NOT_TECHNICAL, "line 9"),  # chat after "any questions for me"
    ]


def test_question_without_answer_is_kept_with_a_warning(tmp_path):
    t = read_transcript(write(tmp_path, "a.txt", "面试官：讲一下 FCN。\n"))
    assert shape(t) == [("讲一下 FCN。", "", [])]
    assert t.warnings == ["Q1 (line 1) has no answer"]


def test_interviewer_backchannel_inside_an_answer_is_dropped(tmp_path):
    text = "面试官：讲一下 FCN。\n候选人：把全连接换成卷积，\n面试官：嗯。\n候选人：再用反卷积上采样。\n"
    assert shape(read_transcript(write(tmp_path, "a.txt", text))) == [
        ("讲一下 FCN。", "把全连接换成卷积，\n再用反卷积上采样。", [])
    ]


# --- labels ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "role", "speaker", "text", "start"),
    [
        ("面试官：你好", "interviewer", "面试官", "你好", None),
        ("[00:01:23] **面试官**：BN？", "interviewer", "面试官", "BN？", 83.0),
        ("00:01:23 候选人: 训练时", "candidate", "候选人", "训练时", 83.0),
        ("**面试官：** 讲一下", "interviewer", "面试官", "讲一下", None),
        ("Q1: what is BN", "interviewer", "Q1", "what is BN", None),
        ("A: an answer", "candidate", "A", "an answer", None),
        ("- **Me**: I think", "candidate", "Me", "I think", None),
        ("问：BN？", "interviewer", "问", "BN？", None),
        ("答：BN。", "candidate", "答", "BN。", None),
        ("我：对", "candidate", "我", "对", None),
        ("面试官（张工） [00:02:03]：嗯", "interviewer", "面试官（张工）", "嗯", 123.0),
        ("Interviewer 00:01:23: hi", "interviewer", "Interviewer", "hi", 83.0),
        ("[Interviewer] Why?", "interviewer", "Interviewer", "Why?", None),
        ("【面试官】你好", "interviewer", "面试官", "你好", None),
        ("SPEAKER_00: hi", "unknown", "SPEAKER_00", "hi", None),
        ("说话人1 00:00:05", "unknown", "说话人1", "", 5.0),
    ],
)
def test_label_lines(line, role, speaker, text, start):
    parsed = Labels().split(line)
    assert parsed is not None
    assert (parsed.role, parsed.speaker, parsed.text, parsed.start) == (role, speaker, text, start)


@pytest.mark.parametrize("line", ["公式：y = γx̂ + β", "def f(x):", "注意：这里", "(a) 第一点", "A", "普通的一句话"])
def test_not_label_lines(line):
    assert Labels().split(line) is None


def test_configurable_labels(tmp_path):
    text = "张工：讲一下 NMS 的流程。\n小王：按分数排序，取最高的框，去掉 IoU 大于阈值的框，重复。\n"
    path = write(tmp_path, "a.txt", text)
    expected = [("讲一下 NMS 的流程。", "按分数排序，取最高的框，去掉 IoU 大于阈值的框，重复。", [])]
    t = read_transcript(path, labels={"张工": "interviewer", "小王": "candidate"})
    assert (t.role_source, t.warnings) == ("labels", [])
    assert shape(t) == expected
    # Unmapped, the names are still taken as speakers, and the roles inferred (and said so).
    guessed = read_transcript(path)
    assert guessed.role_source == "speakers" and shape(guessed) == expected
    assert any("张工, 小王" in w for w in guessed.warnings)


def test_unmapped_name_labels_are_warned_about(tmp_path):
    text = "面试官：讲一下 NMS。\n张三：排序。\n面试官：那 Soft-NMS 呢？\n张三：衰减分数。\n"
    t = read_transcript(write(tmp_path, "a.txt", text))
    assert any("'张三：'" in w and "labels=" in w for w in t.warnings)


def test_labels_override_defaults(tmp_path):
    # Notes written by the interviewer: "我" is the interviewer here.
    text = "我：Dropout 在测试时怎么处理？\n同学：测试时不丢弃，输出按保留概率缩放。\n"
    t = read_transcript(write(tmp_path, "a.txt", text), labels={"我": "interviewer", "同学": "candidate"})
    assert shape(t) == [("Dropout 在测试时怎么处理？", "测试时不丢弃，输出按保留概率缩放。", [])]


def test_diarized_label_mixed_with_known_label(tmp_path):
    text = "面试官：讲一下 NMS。\n说话人2：按分数排序，去掉重叠大的框。\n"
    t = read_transcript(write(tmp_path, "a.txt", text))
    assert t.role_source == "speakers"
    assert shape(t) == [("讲一下 NMS。", "按分数排序，去掉重叠大的框。", [])]


# --- subtitles and ASR details ---------------------------------------------------------------


def test_srt_without_speakers_rebuilds_turns(tmp_path):
    srt = (
        "1\n00:00:00,000 --> 00:00:03,000\nBN 在训练和测试的时候有什么区别？\n\n"
        "2\n00:00:03,500 --> 00:00:08,000\n<i>训练用 batch 统计量</i>，\n测试用 running mean。\n\n"
        "3\n00:00:10,000 --> 00:00:12,000\n那测试的时候还更新吗？\n\n"
        "4\n00:00:12,500 --> 00:00:14,000\n不更新。\n"
    )
    t = read_transcript(write(tmp_path, "talk.srt", srt))
    assert t.role_source == "cues"
    assert shape(t) == [
        (
            "BN 在训练和测试的时候有什么区别？",
            "训练用 batch 统计量，测试用 running mean。",
            [("那测试的时候还更新吗？", "不更新。")],
        )
    ]


def test_vtt_cue_with_two_voices_and_label_in_text(tmp_path):
    vtt = (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:04.000\n<v.loud 面试官>为什么用 ReLU？</v>\n<v 候选人>不饱和，算得快。</v>\n\n"
        "00:00:05.000 --> 00:00:07.000\n面试官：还有吗？\n\n"
        "00:00:07.500 --> 00:00:09.000\n候选人：稀疏激活。\n"
    )
    t = read_transcript(write(tmp_path, "talk.vtt", vtt))
    assert shape(t) == [("为什么用 ReLU？", "不饱和，算得快。", [("还有吗？", "稀疏激活。")])]


def test_asr_plain_list_with_speaker_names(tmp_path):
    segments = [
        {"start": 0, "end": 2.5, "speaker": "Interviewer", "text": " What is IoU?"},
        {"start": 3, "end": 6, "speaker": "Candidate", "text": " Um, intersection over union of two boxes."},
        {"start": 6, "end": 7, "speaker": "Candidate", "text": ""},
    ]
    path = write(tmp_path, "asr.json", json.dumps(segments))
    t = read_transcript(path)
    assert (t.format, t.role_source) == ("asr-json", "labels")
    assert shape(t) == [("What is IoU?", "intersection over union of two boxes.", [])]
    assert (t.pairs[0].start, t.pairs[0].end) == (0.0, 6.0)


def test_jsonl_bad_line_is_skipped_and_reported(tmp_path):
    lines = [
        json.dumps({"question_id": "miou", "answer": "IoU 按类别平均。"}, ensure_ascii=False),
        "{broken",
        json.dumps({"answer": "没有问题的答案"}, ensure_ascii=False),
        json.dumps({"question": "先做个自我介绍吧", "answer": "我叫小王。"}, ensure_ascii=False),
    ]
    t = read_transcript(write(tmp_path, "a.jsonl", "\n".join(lines) + "\n"))
    assert [(p.question_id, p.answer) for p in t.pairs] == [("miou", "IoU 按类别平均。")]
    assert [(str(s.source), s.reason) for s in t.skipped] == [
        ("line 2", "invalid JSON: Expecting property name enclosed in double quotes (column 2)"),
        ("line 3", "needs a non-empty question or question_id"),
        ("line 4", NOT_TECHNICAL),
    ]
    assert len(t.warnings) == 2


# --- format detection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("x.txt", "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhi\n", "vtt"),
        ("x.txt", "1\n00:00:00,000 --> 00:00:01,000\nhi\n", "srt"),
        ("x.jsonl", '{"segments": [{"start": 0, "end": 1, "text": "hi"}]}', "asr-json"),
        ("x.json", '[{"start": 0, "end": 1, "text": "hi"}]', "asr-json"),
        ("x.json", '{"question": "q", "answer": "a"}\n{"question": "q2", "answer": "b"}\n', "jsonl"),
        ("x.md", "[00:00:01] **面试官**：你好\n", "text"),
        ("x.srt", "", "srt"),
        ("x", "面试官：你好\n", "text"),
    ],
)
def test_detect_format(name, content, expected):
    assert detect_format(name, content) == expected


def test_explicit_format_alias(tmp_path):
    path = write(tmp_path, "notes.log", SMALL)
    assert read_transcript(path, format="md").format == "text"


# --- odds and ends ---------------------------------------------------------------------------


def test_question_cues():
    assert question_score("BN 在训练和测试的时候有什么区别？") == 1.0
    assert question_score("BN在训练和测试的时候有什么区别") >= 0.7  # ASR without punctuation
    assert question_score("主要区别在于训练用 batch 统计量。") == 0.0
    assert question_score("I think it is because of gradients.") == 0.0
    assert strip_acknowledgement("好的，嗯，下一个问题。讲一下 FCN。") == "讲一下 FCN。"


def test_timecodes():
    assert to_seconds("00:01:23") == 83.0
    assert to_seconds("01:23.5") == 83.5
    assert to_seconds("1:02:03,250") == 3723.25
    assert to_seconds("00:99:00") is None


def test_transcript_round_trips_as_json():
    t = read_transcript(EXAMPLES / "mock_interview_zh.md")
    assert Transcript.model_validate_json(t.model_dump_json()) == t


def test_import_is_light():
    code = (
        "import sys, grader.transcripts as t; "
        "heavy = {'srt', 'webvtt', 'charset_normalizer', 'opencc', 'jieba', 'numpy'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
