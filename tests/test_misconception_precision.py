"""Wrong-claim patterns must catch the wrong claim and leave nearby correct statements alone: a
false alarm costs a correct answer twice (the penalty, and no credit for that sentence)."""

from __future__ import annotations

import pytest

from grader.text.normalize import normalize
from grader.text.sentences import split_units
from grader.text.terms import find_claim

CASES = [
    # (question, sentence, the misconception it asserts, or None for a correct statement)
    ("resnet-blocks", "ResNet v2（pre-activation）把 BN 和 ReLU 放在卷积之前，也就是 relu 放在相加之前的分支里。", None),
    ("resnet-blocks", "每个 block 里 relu 放在相加之前。", "every-conv-has-relu"),
    ("dcn-flops", "DCN 实际耗时差不多是普通卷积的 2 到 3 倍。", None),
    ("dcn-flops", "理论 FLOPs 只多一点，但实际耗时多了一倍。", None),
    ("dcn-flops", "DCN 实际跑起来开销是普通卷积的 2 倍。", None),
    ("dcn-flops", "DCN 实际速度和普通卷积差不多。", "speed-same-as-flops"),
    ("dcn-flops", "DCN 的计算量是普通卷积的 2 倍。", "dcn-doubles-flops"),
    ("bn-principle", "γ=1、β=0 时 BN 输出均值为 0，方差约为 1。", None),
    ("bn-principle", "BN 的输出均值就是 0，方差是 1。", "makes-gaussian"),
    ("conv-bn-fusion", "如果融合后精度下降，一般是后面的量化导致的，融合本身是精确的。", None),
    ("conv-bn-fusion", "融合之后精度会下降一些。", "fusion-approximate"),
    ("weight-init", "Xavier 原论文给的是均匀分布，He 原论文用的是高斯分布，但两者都有均匀和正态两种形式。", None),
    ("weight-init", "Xavier 是均匀分布，He 初始化是高斯分布。", "xavier-uniform-he-gaussian"),
    ("optimizers", "AdamW 泛化更好。", None),
    ("relu-positive-input", "反过来想，如果某个神经元的 z 永远是正的，那 ReLU 在它那里就是恒等映射。", None),
    ("relu-positive-input", "每一层的 z 永远是正的。", "preact-never-negative"),
    ("optimizers", "Adam 泛化更好。", "adam-always-better"),
    ("multitask-loss-weighting", "较高的学习率会导致 dying ReLU。", None),
    ("bn-forward-code", "减去均值，再除以标准差 √(σ² + ε)。", None),
    ("relu-vs-sigmoid", "ReLU 在正区间导数为 1，负区间导数为 0。", None),
    ("relu-vs-sigmoid", "ReLU 的导数 始终为 1，所以没有梯度消失。", "relu-grad-always-one"),
    ("process-vs-thread", "进程是资源分配的基本单位，线程是调度的基本单位。", None),
    ('det-fg-bg-imbalance', '正样本只取 GT 附近 IoU 大于 0.7 的 anchor。', None),
    ('roialign', '对大目标两者差别不大，主要差在小目标和高 IoU 阈值上。', None),
    ('det-open-problems', '在 COCO 上换 backbone 刷点已经没什么可做的了，更值得做的是开放词汇检测。', None),
    ('background-class', '推理时每个 anchor 都要做回归，但训练时回归损失只算正样本。', None),
    ('anchor-vs-set-matching', '匈牙利匹配本身不可微，梯度只通过匹配上的预测反传。', None),
    ('upsampling-methods', '双线性插值零参数，可学习的是转置卷积。', None),
    ('train-val-test', '要避免在测试集上调参。', None),
    ('train-val-test', '严禁用测试集调参。', None),
    ('train-val-test', '不应当用测试集调超参。', None),
    ('data-imbalance', '不平衡时建议看 ROC-AUC 和 PR-AUC 两个指标。', None),
    ('svm-vs-lr', '线性 SVM 和 L2 正则 LR 只有损失函数不同，但由此带来支持向量的稀疏性等差别。', None),
    ('framework-internals', '调用 torch.cuda.synchronize()，等 GPU 同步执行完再计时。', None),
    ('process-vs-thread', '说线程不稳定、容易丢数据是不对的。', None),
    ('hanoi', '需要的时间复杂度为 2^n。', None),
    ('max-subarray', '如果子序列不要求连续，答案就是所有正数之和，那是另一个问题。', None),
    ('rearrange-string-k', 'k = 2 时，最高频次超过 (n+1)/2 就无解。', None),
    ("eval-metrics", "precision 也叫准确率。", "precision-called-accuracy"),  # an error per the question bank
]


@pytest.mark.parametrize("qid, sentence, expected", CASES, ids=[f"{c[0]}:{c[2] or 'correct'}:{i}" for i, c in enumerate(CASES)])
def test_pattern_precision(bank, qid, sentence, expected):
    rubric = bank.get(qid)
    fired = sorted({m.id for u in split_units(sentence) for m in rubric.misconceptions
                    if find_claim(m.patterns, normalize(u.text))})
    assert fired == ([expected] if expected else [])


def test_no_reference_answer_or_correction_trips_any_pattern_of_its_question(bank):
    """Corrections state the right claim; flagging them would penalise a model answer."""
    hits = []
    for r in bank.rubrics.values():
        texts = [r.reference_answer.zh, r.reference_answer.en or ""] + [t for m in r.misconceptions for t in (m.correction.zh, m.correction.en)]
        for text in texts:
            for u in split_units(text):
                for m in r.misconceptions:
                    if find_claim(m.patterns, normalize(u.text)):
                        hits.append(f"{r.id}/{m.id}: {u.text}")
    assert hits == []
