"""The offline judge on hand-written answers: ranking, wrong claims, English answers, gaming."""

from __future__ import annotations

import pytest

from grader.judges.offline import OfflineJudge

ANSWERS = {
    "bn-inference": {
        "complete": "训练时 BN 对每个通道用当前 mini-batch 的均值和方差归一化，再乘 γ 加 β，同时用 momentum 做滑动平均更新 "
        "running_mean 和 running_var。推理时不再用 batch 统计量，而是用训练时累积的 running mean 和 running var，"
        "输出和 batch 里其他样本无关。测试时什么都不更新，PyTorch 里要先调用 model.eval()。另外推理时 BN 可以融合进前面的卷积。",
        "partial": "训练的时候用当前 batch 的均值和方差做归一化，测试的时候用训练时保存的滑动平均均值和方差。",
        "off-topic": "ReLU 的导数在正区间是 1，可以缓解梯度消失，而且计算比 sigmoid 简单。",
        "english": "During training, BN normalizes each channel with the mini-batch mean and variance, then applies gamma and beta, "
        "and it updates the running mean and running variance with an exponential moving average (momentum). At inference it "
        "uses those running statistics instead of batch statistics, so the output is deterministic and independent of the "
        "batch. Nothing is updated at test time; in PyTorch you must call model.eval().",
    },
    "l1-vs-l2": {
        "complete": "L1 正则是权重绝对值之和 λΣ|w|，L2 正则是权重平方和 λΣw²。L1 在 0 点的次梯度是常数，会把不重要的权重压到正好 0，"
        "得到稀疏解，可以做特征选择；L2 的梯度和 w 成正比，让权重整体变小但一般不为 0。几何上 L1 的约束是菱形，"
        "最优点容易落在坐标轴顶点，L2 是圆。贝叶斯角度 L1 对应拉普拉斯先验，L2 对应高斯先验。",
        "partial": "L1 是绝对值之和，会产生稀疏解；L2 是平方和，让权重变小。",
        "off-topic": "进程是资源分配的单位，线程是调度的单位，线程共享进程的地址空间。",
        "english": "L1 regularization adds the sum of absolute weights, L2 the sum of squared weights. L1 drives many weights to "
        "exactly zero, giving a sparse solution and acting as feature selection, because its subgradient at zero is constant; "
        "L2 shrinks all weights smoothly toward zero but rarely to zero. Geometrically the L1 ball is a diamond whose corners "
        "lie on the axes; the L2 ball is round. L1 corresponds to a Laplace prior and L2 to a Gaussian prior.",
    },
    "process-vs-thread": {
        "complete": "进程是操作系统资源分配的基本单位，有独立的地址空间；线程是 CPU 调度的基本单位，同一进程内的线程共享地址空间和资源，"
        "但各有自己的栈和寄存器。进程切换开销大，线程切换开销小。进程间通信要用管道、共享内存、socket 等 IPC，线程间可以直接读写共享内存，"
        "但要加锁同步避免竞争。一个线程崩溃会导致整个进程崩溃，进程之间相互隔离。Python 有 GIL，CPU 密集型任务要用多进程。",
        "partial": "进程有独立的内存空间，线程共享进程的内存，线程切换更快。",
        "off-topic": "BN 在训练时用 batch 统计量，推理时用 running mean 和 running var。",
        "english": "A process is the unit of resource allocation with its own address space; a thread is the unit of CPU scheduling, "
        "and threads of one process share its address space and resources while each has its own stack and registers. "
        "Switching between processes costs more than switching threads. Processes communicate through IPC such as pipes, "
        "shared memory or sockets; threads share memory directly but need locks to avoid races. One thread crashing brings "
        "down the whole process. In CPython the GIL means CPU-bound work needs multiple processes.",
    },
}


@pytest.fixture(scope="module")
def judge():
    return OfflineJudge()


@pytest.mark.parametrize("qid", sorted(ANSWERS))
def test_complete_above_partial_above_off_topic(bank, judge, qid):
    rubric = bank.get(qid)
    score = {kind: judge.grade(rubric, text).percent for kind, text in ANSWERS[qid].items()}
    assert score["complete"] >= 80
    assert score["complete"] > score["partial"] > score["off-topic"]
    assert score["off-topic"] <= 15


@pytest.mark.parametrize("qid", sorted(ANSWERS))
def test_a_correct_english_answer_gets_most_of_the_credit(bank, judge, qid):
    assert judge.grade(bank.get(qid), ANSWERS[qid]["english"]).percent >= 70


@pytest.mark.parametrize("text", ["不知道", "这个我不太清楚", "I don't know", "sorry, no idea", "嗯……没学过"])
def test_i_dont_know_scores_zero(bank, judge, text):
    g = judge.grade(bank.get("bn-inference"), text)
    assert g.status == "graded" and g.score == 0
    assert all(c.verdict == "missed" for c in g.criteria)


@pytest.mark.parametrize("text", ["Pass", "skip"])
def test_passing_on_a_question_scores_zero(bank, judge, text):
    assert judge.grade(bank.get("bn-inference"), text).score == 0


@pytest.mark.parametrize("answer", [
    "At inference it uses the running mean and running variance instead of batch statistics?",
    "Passed over? No: at inference it uses the running mean and running variance instead of batch statistics.",
])
def test_a_claim_said_with_a_rising_tone_or_starting_with_pass_is_graded(bank, judge, answer):
    g = judge.grade(bank.get("bn-inference"), answer)
    assert {c.id: c.verdict for c in g.criteria}["inference-uses-running"] == "met"


def test_a_real_question_in_an_answer_claims_nothing(bank, judge):
    g = judge.grade(bank.get("bn-inference"), "Does it use the running mean and running variance instead of batch statistics?")
    assert {c.id: c.verdict for c in g.criteria}["inference-uses-running"] != "met"


def test_repeating_the_question_earns_nothing(bank, judge):
    rubric = bank.get("bn-inference")
    echo = rubric.question.zh + " " + " ".join(rubric.aliases)
    assert judge.grade(rubric, echo).score == 0


@pytest.mark.parametrize(
    "padding",
    [
        "running mean, running var, EMA, momentum, model.eval, 冻结, 折叠, SyncBN, batch 均值, 方差, gamma, beta",
        "running mean running var EMA momentum model.eval 冻结 折叠 SyncBN batch均值 方差 gamma beta",
        "关键词：滑动平均、指数、推理、running_mean、running_var、不更新、eval、融合、小 batch、Group Norm",
    ],
)
def test_keyword_padding_is_not_rewarded(bank, judge, padding):
    rubric = bank.get("bn-inference")
    g = judge.grade(rubric, padding)
    assert g.percent <= 20
    padded_answer = judge.grade(rubric, ANSWERS["bn-inference"]["partial"] + "\n" + padding)
    plain = judge.grade(rubric, ANSWERS["bn-inference"]["partial"])
    assert padded_answer.percent <= plain.percent + 10


def test_wrong_claims_are_flagged_with_evidence_and_cost_points(bank, judge):
    rubric = bank.get("bn-inference")
    answer = "训练时用 batch 的均值和方差归一化，再乘 γ 加 β。测试时也是用当前测试 batch 的均值来归一化，而且测试时 BN 的均值方差会继续更新。"
    g = judge.grade(rubric, answer)
    assert sorted(m.id for m in g.misconceptions) == ["test-time-updates", "test-uses-batch-stats"]
    for m in g.misconceptions:
        ev = m.evidence[0]
        assert ev.verified and answer[ev.start : ev.end] == ev.quote
    assert g.percent <= 20
    inference = next(c for c in g.criteria if c.id == "inference-uses-running")
    assert inference.verdict != "met"


def test_evidence_points_into_the_answer_and_is_deterministic(bank, judge):
    rubric = bank.get("l1-vs-l2")
    answer = ANSWERS["l1-vs-l2"]["complete"]
    first, second = judge.grade(rubric, answer), judge.grade(rubric, answer)
    assert first.model_dump(exclude={"created_at", "usage"}) == second.model_dump(exclude={"created_at", "usage"})
    for c in first.criteria:
        for e in c.evidence:
            assert answer[e.start : e.end] == e.quote
    assert first.judge.kind == "offline" and "offline" in first.judge.label


def test_traditional_chinese_and_full_width_are_understood(bank, judge):
    rubric = bank.get("bn-inference")
    simplified = ANSWERS["bn-inference"]["complete"]
    traditional = simplified.replace("训练", "訓練").replace("统计量", "統計量").replace("测试", "測試").replace("更新", "更新").replace("调用", "調用")
    full_width = simplified.replace("momentum", "ｍｏｍｅｎｔｕｍ").replace("running_mean", "ｒｕｎｎｉｎｇ＿ｍｅａｎ")
    base = judge.grade(rubric, simplified).percent
    assert judge.grade(rubric, traditional).percent == base
    assert judge.grade(rubric, full_width).percent >= base - 10
