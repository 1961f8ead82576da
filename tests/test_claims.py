"""Claim-level grading by the offline judge: concept groups met inside one claim, relations
(binds, order, direction, ratio) that a swapped or reversed answer fails, negation and refutation
on both sides of a match, and how penalties combine with earned credit."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading.models import (
    CriterionGrade,
    Feedback,
    MisconceptionHit,
    graded,
    penalty_applied,
    total_score,
)
from grader.grading.feedback import answer_language
from grader.judges.offline import OfflineJudge, judge_info
from grader.judges.relations import evaluate, reverse
from grader.rubric.lint import lint_rubric
from grader.rubric.loader import load_file
from grader.text.negation import denials, refutes_previous
from grader.text.normalize import normalize
from grader.text.terms import find_term_all

FIXTURE = Path(__file__).parent / "fixtures" / "claims" / "claims-demo.yaml"


@pytest.fixture(scope="module")
def rubric():
    r, problems = load_file(FIXTURE)
    assert r is not None, problems
    return r


@pytest.fixture(scope="module")
def judge():
    return OfflineJudge()


def verdict(judge, rubric, answer: str, crit: str):
    g = judge.grade(rubric, answer)
    c = next(c for c in g.criteria if c.id == crit)
    return c.verdict, c.flags, g


# --- 1. groups inside one claim ----------------------------------------------------------------

def test_groups_spread_over_unrelated_sentences_do_not_meet_a_criterion(judge, rubric):
    v, _, _ = verdict(judge, rubric, "训练时 BN 用当前 batch 的均值做归一化。", "train-batch-mean")
    assert v == "met"
    # the question's own word in one sentence, one concept in another about counting: no claim
    v, _, _ = verdict(judge, rubric, "精确率是一个重要指标。我们先数一数真正例有多少个。", "precision-formula")
    assert v == "missed"


def test_a_sentence_that_refers_back_makes_one_claim_with_the_one_before(judge, rubric):
    v, _, _ = verdict(judge, rubric, "训练时 BN 要做归一化。它用的是当前 batch 的均值。", "train-batch-mean")
    assert v == "met"


# --- 2. relations ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "crit, right, turned",
    [
        ("bn-ln-axes", "BN 在 batch 维度上跨样本归一化，LN 在每个样本内部归一化。", "BN 对每个样本内部的所有特征归一化，LN 在 batch 维度上跨样本归一化。"),
        ("bn-ln-axes", "BatchNorm normalises across the batch, while LayerNorm normalises within each sample.",
         "BatchNorm normalises within each sample, while LayerNorm normalises across the batch."),
        ("conv-then-bn", "先做卷积再做 BN。", "先做 BN 再做卷积。"),
        ("conv-then-bn", "The conv comes first, followed by BN.", "BN is applied before the conv."),
        ("batch-variance", "batch 越大，梯度方差越小。", "batch 越大，梯度方差越大。"),
        ("batch-variance", "Increasing the batch size reduces the gradient variance.", "Increasing the batch size increases the gradient noise."),
        ("precision-formula", "精确率等于 TP 除以 TP+FP。", "精确率 = (TP+FP)/TP。"),
    ],
)
def test_a_turned_round_claim_earns_nothing_and_is_flagged(judge, rubric, crit, right, turned):
    v, flags, _ = verdict(judge, rubric, right, crit)
    assert v == "met" and "reversed_relation" not in flags
    v, flags, g = verdict(judge, rubric, turned, crit)
    assert v == "missed" and "reversed_relation" in flags
    c = next(c for c in g.criteria if c.id == crit)
    assert "Turned round" in c.rationale and c.evidence[0].quote == turned
    # a wrong claim like a listed one: quoted, corrected by the criterion's statement, and costing
    # half the point (nothing is left to take it from here)
    assert [(m.id, m.kind, m.penalty, m.evidence[0].quote) for m in g.misconceptions] == [(crit, "turned", 1.0, turned)]
    assert g.misconceptions[0].correction in g.feedback.fix and g.score == 0


def test_a_turned_round_claim_costs_half_the_point_from_what_the_answer_earned(judge, rubric):
    right = "先做卷积再做 BN。"
    g_right = judge.grade(rubric, right)
    g = judge.grade(rubric, right + "batch 越大，梯度方差越大。")
    assert [(m.id, m.kind, m.penalty) for m in g.misconceptions] == [("batch-variance", "turned", 1.0)]
    assert g.misconceptions[0].claim == "这一点说反了（变化方向说反）"
    assert sum(c.points for c in g.criteria) == sum(c.points for c in g_right.criteria) == 2
    assert g.score == 1.0 and g_right.score == 2.0


def test_a_clause_asserting_a_listed_wrong_claim_is_not_charged_again_for_a_relation(judge, rubric):
    g = judge.grade(rubric, "测试时也用 batch 的均值，而且 LN 在 batch 维度上归一化，BN 在每个样本内部归一化。")
    assert [m.id for m in g.misconceptions] == ["test-uses-batch-mean"]
    assert "reversed_relation" not in next(c for c in g.criteria if c.id == "bn-ln-axes").flags


def test_a_turned_round_claim_put_up_to_be_rejected_costs_nothing(judge, rubric):
    g = judge.grade(rubric, "有人说 batch 越大梯度方差越大，这是错的。先做卷积再做 BN。")
    assert g.misconceptions == [] and g.score == 2.0


def test_a_negated_polarity_word_turns_the_direction_round(judge, rubric):
    v, flags, _ = verdict(judge, rubric, "batch 变大以后，梯度方差不会变小。", "batch-variance")
    assert (v, flags) == ("missed", ["reversed_relation"])


def test_a_claim_that_does_not_say_which_way_is_at_most_partial(judge, rubric):
    v, flags, _ = verdict(judge, rubric, "精确率和 TP 有关系。", "precision-formula")
    assert v == "partial" and "relation_absent" in flags


def test_a_claim_that_names_nothing_a_relation_reads_is_silent_not_unsettled():
    from grader.judges.relations import silent

    rel = Binds(kind="binds", pairs=[
        {"entity": ["BN"], "property": ["batch 维度"]}, {"entity": ["LN"], "property": ["每个样本"]},
    ])
    assert silent(rel, normalize("归一化以后再做仿射变换"))  # says nothing either side could swap
    assert not silent(rel, normalize("一个对 batch 维度统计"))  # a property without its owner: unsettled
    assert not silent(rel, normalize("BN 不是对每个样本"))  # a denied mention still counts as a mention


@pytest.mark.parametrize(
    "text, status",
    [
        ("precision = tp / (tp + fp)", "satisfied"),
        ("预测为正的样本中真正例的比例", "satisfied"),
        ("真正例中预测为正的比例", "reversed"),
        ("the fraction of predicted positives that are true positives", "satisfied"),
        ("tp 占预测为正的比例", "satisfied"),
    ],
)
def test_ratio_forms(rubric, text, status):
    rel = rubric.criterion("precision-formula").relations[0]
    assert evaluate(rel, normalize(text)) == status


@pytest.mark.parametrize(
    "text, status",
    [
        ("bn 放在卷积后面", "satisfied"),
        ("bn 放在卷积之前", "reversed"),
        ("卷积 → bn → relu", "satisfied"),
        ("bn is applied after the conv", "satisfied"),
        ("卷积和 bn 都很常用", "absent"),
    ],
)
def test_order_forms(rubric, text, status):
    assert evaluate(rubric.criterion("conv-then-bn").relations[0], text) == status


def test_one_property_given_to_both_entities_is_reversed(rubric):
    rel = rubric.criterion("bn-ln-axes").relations[0]
    assert evaluate(rel, normalize("BN 和 LN 其实都是对每个样本内部归一化")) == "reversed"


def test_the_automatic_reversal_turns_each_kind_round(rubric):
    for crit in ("bn-ln-axes", "conv-then-bn", "batch-variance", "precision-formula"):
        rel = rubric.criterion(crit).relations[0]
        claim = normalize(rubric.criterion(crit).statement.zh)
        assert evaluate(rel, claim) == "satisfied", crit
        assert evaluate(rel, reverse(rel, claim)) == "reversed", crit


# --- lint --------------------------------------------------------------------------------------

def test_lint_accepts_relations_the_reference_satisfies(rubric):
    assert lint_rubric(FIXTURE, rubric) == []


def test_lint_names_file_criterion_and_relation_the_reference_does_not_satisfy(rubric):
    ref = rubric.reference_answer.model_copy(update={"zh": "先做 BN 再做卷积。", "en": "BN comes before the conv."})
    broken = rubric.model_copy(update={"reference_answer": ref})
    messages = [(p.field, p.message) for p in lint_rubric(FIXTURE, broken) if "relations" in p.field]
    assert ("criteria[1].relations[0]", "no claim of the reference answer satisfies order conv → BN ('conv-then-bn')") in messages


def test_lint_reports_a_reference_claim_that_turns_a_relation_round(rubric):
    ref = rubric.reference_answer.model_copy(update={"zh": rubric.reference_answer.zh + "\n也有人先做 BN 再做卷积。"})
    broken = rubric.model_copy(update={"reference_answer": ref})
    problems = [p.message for p in lint_rubric(FIXTURE, broken) if p.field == "criteria[1].relations[0]"]
    assert problems == ["order conv → BN ('conv-then-bn'): the reference claim '也有人先做bn再做卷积。' evaluates as reversed"]


def test_lint_reports_a_relation_whose_reversal_is_not_caught(rubric):
    # "与 batch 成反比" settles the direction but has no polarity word to flip.
    crit = rubric.criterion("batch-variance")
    ref = rubric.reference_answer.model_copy(update={"zh": "梯度方差与 batch 成反比。", "en": None})
    broken = rubric.model_copy(update={"reference_answer": ref})
    problems = [p for p in lint_rubric(FIXTURE, broken) if p.field == "criteria[2].relations[0]"]
    assert evaluate(crit.relations[0], normalize("梯度方差与 batch 成反比")) == "satisfied"
    assert len(problems) == 1 and "evaluates as satisfied, not reversed" in problems[0].message


# --- 3. negation and refutation ----------------------------------------------------------------

@pytest.mark.parametrize("answer", ["BN 训练时不用 batch 的均值。", "During training BN does not use the batch mean."])
def test_a_negated_true_statement_earns_nothing_and_is_charged_as_a_wrong_claim(judge, rubric, answer):
    v, flags, g = verdict(judge, rubric, answer, "train-batch-mean")
    assert (v, flags) == ("missed", ["denied_point"])
    # the whole point stated and denied says the opposite: half the point, quoted and corrected
    assert [(m.id, m.kind, m.penalty, m.evidence[0].quote) for m in g.misconceptions] == [
        ("train-batch-mean", "denied", 1.0, answer)
    ]
    zh = answer_language(answer) == "zh"
    assert g.misconceptions[0].claim == ("这一点被否定了（说成了不成立）" if zh else "This point is denied (said not to hold)")
    assert g.misconceptions[0].correction in g.feedback.fix and g.listed_misconception_ids == []


@pytest.mark.parametrize(
    "answer, score",
    [
        ("不用 batch 的均值。", 0.0),  # only part of the point, denied: no credit, no charge
        ("有人说 BN 训练时不用 batch 的均值，这是错的。", 0.0),  # a denial put up to be rejected
        ("训练时用 batch 的均值归一化。During training BN does not use the batch mean.", 2.0),  # said right too
    ],
)
def test_a_denial_is_charged_only_when_it_denies_the_whole_point_and_nothing_says_it_right(judge, rubric, answer, score):
    g = judge.grade(rubric, answer)
    assert g.misconceptions == [] and g.score == score


@pytest.mark.parametrize(
    "text, denied",
    [
        ("ce 不像 mse 那样会梯度消失", ["会梯度消失"]),  # what it is compared with is not denied
        ("饱和时不会消失,不像 mse。", ["消失"]),  # "unlike MSE" alone denies nothing
        ("结果不像是过拟合", ["像是过拟合"]),  # "does not seem to be" still denies
    ],
)
def test_a_comparison_denies_what_follows_the_likeness_not_what_it_is_compared_with(text, denied):
    n = normalize(text)
    assert [n[a:b] for a, b in denials(n).negated] == denied


def test_a_sentence_charged_with_a_listed_wrong_claim_is_not_charged_again_for_a_denial(judge, rubric):
    g = judge.grade(rubric, "BN 训练时不用 batch 的均值，测试时也用 batch 的均值。")
    assert [(m.id, m.kind) for m in g.misconceptions] == [("test-uses-batch-mean", "listed")]
    # in a sentence of its own, the denial is a second wrong statement
    g = judge.grade(rubric, "BN 训练时不用 batch 的均值。测试时也用 batch 的均值。")
    assert [(m.id, m.kind) for m in g.misconceptions] == [("test-uses-batch-mean", "listed"), ("train-batch-mean", "denied")]


def test_a_negator_that_a_point_term_carries_denies_nothing_around_it(bank):
    judge, r = OfflineJudge(), bank.get("l2-vs-weight-decay")
    for answer in ("SGD 下两者没区别。", "在 SGD 下两者没有区别，是一回事。"):
        g = judge.grade(r, answer)
        assert next(c.verdict for c in g.criteria if c.id == "sgd-equivalent") == "met", answer
        assert g.misconceptions == [], answer
    g = judge.grade(r, "SGD 下两者并不等价。")
    assert [(m.id, m.kind) for m in g.misconceptions] == [("sgd-equivalent", "denied")]
    # a term inside a longer one that carries the negator ("依赖 batch" in "不依赖 batch") is
    # part of it: neither asserted nor denied
    g = judge.grade(bank.get("norm-variants"), "BN 依赖 batch，小 batch 效果差；LN 不依赖 batch。")
    assert next(c.verdict for c in g.criteria if c.id == "batch-dependence") == "met"
    assert g.misconceptions == []


@pytest.mark.parametrize(
    "answer",
    [
        "有人说测试时也用 batch 的均值，这是错的。",
        "很多人以为测试时也用 batch 的均值。其实不对。",
        "测试时不是用 batch 的均值，而是用 running mean。",
        "It is a myth that at test time BN uses the batch mean.",
        "A common mistake is to think that at test time it uses the batch mean.",
    ],
)
def test_a_wrong_claim_stated_to_reject_it_costs_nothing(judge, rubric, answer):
    g = judge.grade(rubric, answer)
    assert g.misconceptions == []


def test_the_same_wrong_claim_asserted_is_flagged(judge, rubric):
    g = judge.grade(rubric, "测试时也用 batch 的均值。")
    assert [m.id for m in g.misconceptions] == ["test-uses-batch-mean"]


def test_denials_mark_what_is_rejected_and_what_is_affirmed():
    text = normalize("不是用 batch 均值，而是用 running mean")
    d = denials(text)
    assert d.denies(text.index("batch")) and not d.denies(text.index("running"))
    text = normalize("推理时用 running mean 而不是 batch 统计量")
    d = denials(text)
    assert d.denies(text.index("batch")) and not d.denies(text.index("running"))
    # a negator denies the term right after it, or a whole proposition it disbelieves; not the
    # object of a negated verb further on
    text = normalize("轴对齐的矩形框没法紧致地框住旋转的物体")
    assert not denials(text).negates_term(text.index("旋转"), text)
    text = normalize("我不认为 SVM 只依赖支持向量")
    assert denials(text).negates_term(text.index("支持向量"), text)
    # "not only … but also", a condition or a question is not a denial
    assert denials(normalize("BN not only speeds up training but also regularises")).negated == []
    assert denials(normalize("如果没有残差连接，网络会退化")).negated == []
    assert denials(normalize("是不是要更新")).negated == []


@pytest.mark.parametrize("text,claim", [
    ("有种看法认为“测试时用当前 batch 的均值，running mean 只是监控用的”，这个是错的：推理用 running mean", "batch"),
    ("有一种解释是 ReLU 的导数永远是 1，这是错的", "导数"),
    ("用各卡梯度的最大值肯定不对", "最大值"),
    ("把各卡的梯度取最大值没有任何数学意义", "最大值"),
])
def test_a_claim_rejected_in_other_words_is_refuted_whole(text, claim):
    n = normalize(text)
    assert denials(n).is_refuted(n.index(claim)), text


def test_a_sentence_that_rejects_the_previous_one_refutes_it():
    assert refutes_previous(normalize("这是错的。")) and refutes_previous(normalize("That's a myth."))
    assert not refutes_previous(normalize("这是训练时的做法。"))


def test_what_happens_otherwise_is_not_what_the_claim_asserts(rubric):
    rel = rubric.criterion("bn-ln-axes").relations[0]
    text = normalize("BN 在 batch 维度上归一化，否则 LN 就会在 batch 维度上归一化")
    assert denials(text).is_hypothetical(text.index("ln"))
    assert evaluate(rel, text) == "satisfied"


# --- 4. best evidence after removing wrong sentences -------------------------------------------

def test_a_wrong_sentence_does_not_erase_credit_earned_elsewhere(judge, rubric):
    v, _, g = verdict(judge, rubric, "训练时 BN 用当前 batch 的均值做归一化。测试时也用 batch 的均值。", "train-batch-mean")
    assert v == "met" and [m.id for m in g.misconceptions] == ["test-uses-batch-mean"]


def test_a_sentence_asserting_a_wrong_claim_earns_no_partial_credit(judge, rubric):
    v, flags, g = verdict(judge, rubric, "训练时和测试时都用 batch 的均值。", "train-batch-mean")
    assert v == "missed" and "in_wrong_claim" in flags and g.score == 0


# --- 5. penalties ------------------------------------------------------------------------------

def _crit(points: float) -> CriterionGrade:
    return CriterionGrade(id="x", verdict="met", points=points, max_points=points)


def _mis(penalty: float) -> MisconceptionHit:
    return MisconceptionHit(id="m", claim="c", correction="k", penalty=penalty)


def test_penalties_take_at_most_three_quarters_of_the_earned_points():
    assert penalty_applied([_crit(4)], [_mis(2), _mis(2)]) == 3
    assert total_score([_crit(4)], [_mis(2), _mis(2)], 10) == 1
    assert total_score([_crit(8)], [_mis(2)], 10) == 6  # under the cap: the full penalty
    assert total_score([], [_mis(2)], 10) == 0


def test_a_capped_penalty_is_stated_in_the_grading(rubric):
    g = graded(rubric, judge_info(), [_crit(4)], [_mis(2), _mis(2)], Feedback())
    assert g.score == 1 and g.percent == 10
    assert g.notes == ["penalties 4 capped at 3 (0.75 of the 4 points earned)"]
    assert graded(rubric, judge_info(), [_crit(8)], [_mis(2)], Feedback()).notes == []


# --- 6. formula terms keep their operators -----------------------------------------------------

@pytest.mark.parametrize(
    "term, text, found",
    [
        ("p-y", "梯度是 p - y", True),
        ("p-y", "梯度是 p_y", False),
        ("p-y", "梯度是 py", False),
        ("p_y", "p_y 是第 y 类的概率", True),
        ("p_y", "p-y", False),
        ("TP+FP", "tp + fp", True),
        ("TP/(TP+FP)", "tp / (tp + fp)", True),
        ("TP/(TP+FP)", "tp (tp + fp)", False),
        ("1-p", "1 - p", True),
        ("1-p", "1p", False),
        ("running mean", "running_mean", True),
        ("running mean", "running-mean", True),
        ("running_mean", "running mean", True),
        ("mini-batch", "minibatch", True),
        # a superscript is an exponent: "2ⁿ − 1" is 2^n - 1, never 2n - 1
        ("2^n - 1", "一共 2ⁿ − 1 步", True),
        ("2n-1", "一共 2ⁿ − 1 步", False),
        ("n^2", "复杂度 O(n²)", True),
        ("n2", "复杂度 O(n²)", False),
        ("A^T", "AᵀA x = Aᵀ y", True),
    ],
)
def test_formula_terms_keep_their_operators_and_words_their_separators(term, text, found):
    assert bool(find_term_all(term, normalize(text))) is found


# --- second pass: bounded work, lexicalised negators, late negation, lists, echoes -------------

from grader.judges import relations as rel_mod  # noqa: E402
from grader.judges.offline import _Claim, _claim_verdict, _echoes  # noqa: E402
from grader.rubric.models import Binds, Direction, Order  # noqa: E402
from grader.text.sentences import HARD_UNIT, list_runs, split_units  # noqa: E402


def test_relation_work_is_bounded_on_a_huge_run_on_claim():
    rel = Binds(kind="binds", pairs=[
        {"entity": ["BN"], "property": ["batch 维度"]}, {"entity": ["LN"], "property": ["每个样本"]},
    ])
    text = normalize("BN batch 维度 LN 每个样本 " * 2000)
    mentions = rel_mod._mentions(text, [["BN"], ["LN"], ["batch 维度"], ["每个样本"]], denials(text))
    assert len(mentions) == rel_mod.MAX_MENTIONS
    assert evaluate(rel, text) in ("satisfied", "reversed", "absent")
    assert max(len(u.text) for u in split_units("梯度" * 10_000)) <= HARD_UNIT


@pytest.mark.parametrize("text", [
    "不确定性很大", "数据不平衡", "两者差不多", "训练不稳定", "无偏估计", "无论 batch 多大", "是不是超过阈值", "感受野不断变大",
    "各任务 loss 的尺度不一样", "梯度方向不一致", "深网络不好优化", "不好训练",
])
def test_words_that_merely_contain_a_negating_character_deny_nothing(text):
    d = denials(normalize(text))
    assert (d.negated, d.late, d.rejected) == ([], [], [])


def test_a_clause_final_negator_denies_the_subject_before_it():
    for text, subject in [("遮挡变化也不大", "遮挡变化"), ("学习率不用控制", "学习率"), ("这种做法并不常用", "这种做法"),
                          ("遮挡的问题现在也没有了", "遮挡的问题"), ("L2 的泛化不好", "泛化")]:
        n = normalize(text)
        d = denials(n)
        assert d.is_late_negated(n.index(subject)), text
        assert not d.is_negated(n.index(subject)), text  # still asserted for a negative point


def test_negation_stops_at_a_clause_end_and_at_a_connective():
    n = normalize("不增加参数就能扩大感受野")
    d = denials(n)
    assert d.is_negated(n.index("参数")) and not d.is_negated(n.index("感受野"))
    n = normalize("不用 batch 的均值；running 均值更稳")
    assert not denials(n).is_negated(n.index("running"))


VARIANCE = Direction(kind="direction", subject=["梯度方差", "gradient variance"], dir="down")


@pytest.mark.parametrize("text,status", [
    ("梯度方差降到很低", "satisfied"),
    ("这样梯度方差和原来差不多", "absent"),
    ("乘加以后梯度方差", "absent"),
    ("a large batch never enlarges the gradient variance", "satisfied"),
])
def test_polarity_words_are_whole_words(text, status):
    assert evaluate(VARIANCE, normalize(text)) == status


LATENCY = Direction(kind="direction", subject=["latency", "延迟"], dir="up", better="down")
ACCURACY = Direction(kind="direction", subject=["accuracy", "精度"], dir="down", better="up")


@pytest.mark.parametrize("rel,text,status", [
    (LATENCY, "so latency is worse than flops suggest", "satisfied"),
    (LATENCY, "实际延迟更差", "satisfied"),
    (LATENCY, "latency is better than flops suggest", "reversed"),
    (LATENCY, "延迟并不差", "reversed"),
    (ACCURACY, "accuracy gets worse", "satisfied"),
    (ACCURACY, "精度更好", "reversed"),
    (VARIANCE, "梯度方差更好", "absent"),  # no `better`: the rubric has not said which way is better
])
def test_better_and_worse_move_a_subject_the_way_its_rubric_says_is_better(rel, text, status):
    assert evaluate(rel, normalize(text)) == status


def test_a_negator_inside_a_matched_term_denies_nothing_else():
    # "两者不等价" is the property; it must not deny "Adam" earlier in the clause.
    rel = Binds(kind="binds", pairs=[
        {"entity": ["sgd"], "property": ["等价"]}, {"entity": ["adam", "自适应优化器"], "property": ["不等价"]},
    ])
    assert evaluate(rel, normalize("在 Adam、RMSProp 这类自适应优化器下两者不等价：L2 的梯度会被缩放")) == "satisfied"
    assert evaluate(rel, normalize("在 SGD 下两者不等价")) == "reversed"


def test_a_negated_predicate_after_a_comma_does_not_deny_the_clause_before():
    n = normalize("RoIAlign：全程保留浮点坐标，不取整；")
    d = denials(n)
    assert not d.is_late_negated(n.index("浮点")) and d.is_negated(n.index("取整"))
    rel = Binds(kind="binds", pairs=[
        {"entity": ["RoIPool"], "property": ["四舍五入"]}, {"entity": ["RoIAlign"], "property": ["浮点"]},
    ])
    assert evaluate(rel, n) == "satisfied"
    n = normalize("遮挡变化也不大")  # a clause-final negator still denies its own clause
    assert denials(n).is_late_negated(n.index("遮挡"))


@pytest.mark.parametrize("term,text,found", [
    ("allow", "it allowed gradients to flow", True),
    ("simulate", "simulating parts of the product", True),
    ("run", "running statistics", True),
    ("study", "two studies found", True),
    ("differ", "and the difference is small", False),
    ("differ", "a different optimizer", False),
    ("general", "they generalize better", False),
])
def test_english_inflections_match_but_derivations_do_not(term, text, found):
    n = normalize(text)
    from grader.text.terms import words_of

    assert bool(find_term_all(term, n, words_of(n))) is found


THREADS = Binds(kind="binds", pairs=[
    {"entity": ["进程"], "property": ["资源分配"]}, {"entity": ["线程"], "property": ["调度单位"]},
])


@pytest.mark.parametrize("text,status", [
    ("线程是进程内的调度单位", "satisfied"),
    ("相对于进程，线程是调度单位", "satisfied"),
    ("进程是调度单位", "reversed"),
])
def test_binds_skip_entities_that_only_qualify_or_are_compared(text, status):
    assert evaluate(THREADS, normalize(text)) == status


CONV_BN = Order(kind="order", first=["conv", "卷积"], then=["BN"])


@pytest.mark.parametrize("text,status", [
    ("顺序是卷积、BN、ReLU", "satisfied"),
    ("顺序是 BN、卷积、ReLU", "reversed"),
    ("卷积;BN;ReLU", "satisfied"),
    ("卷积\x00BN\x00ReLU", "satisfied"),
])
def test_order_of_steps_listed_in_turn(text, status):
    assert evaluate(CONV_BN, normalize(text) if "\x00" not in text else text.lower()) == status


def test_the_splitter_keeps_operators_abbreviations_and_wrapped_lines():
    assert [u.text for u in split_units("如果 gt != 255 就计入。下一句")] == ["如果 gt != 255 就计入。", "下一句"]
    assert len(split_units("Zhang et al. 提出了这个方法。")) == 1
    wrapped = "进程是操作系统进行资源分配的基本单位，拥有独立的虚拟地址空间；线程是\nCPU 调度的基本单位。"
    assert [u.text.replace("\n", " ") for u in split_units(wrapped)][-1] == "线程是 CPU 调度的基本单位。"
    units = split_units("步骤如下：\n1. 先卷积\n2. 再 BN\n3. 最后 ReLU")
    assert [u.text for u in units] == ["步骤如下：", "1. 先卷积", "2. 再 BN", "3. 最后 ReLU"]
    assert list_runs(units) == [(0, 1, 2, 3)]


def test_the_rejected_half_of_a_contrast_earns_nothing():
    n = normalize("看的是原始输入 x 而不是 Wx+b，Wx+b 是下一层的事")
    d = denials(n)
    assert d.is_rejected(n.index("wx+b")) and not d.is_rejected(n.index("原始输入"))


def _claim(groups: int, sim: float) -> _Claim:
    return _Claim((0,), set(range(groups)), set(), set(), [], sim, sim, [], set())


def test_similarity_never_stands_in_for_the_only_other_concept():
    assert _claim_verdict(_claim(1, 0.62), 2, []) == "partial"  # one concept and a loose likeness
    assert _claim_verdict(_claim(1, 0.95), 2, []) == "met"  # a close paraphrase
    assert _claim_verdict(_claim(0, 0.95), 1, []) == "missed"  # similarity alone
    assert _claim_verdict(_claim(2, 0.95), 3, []) == "met"
    assert _claim_verdict(_claim(1, 0.95), 3, []) == "missed"  # a lone concept is a mention


def test_an_echo_of_the_question_earns_nothing_whatever_its_spacing(judge, rubric):
    q = rubric.question.zh
    assert _echoes(rubric, normalize(q.replace("BN 和 LN", "BN和LN")))
    assert not _echoes(rubric, normalize("BN 在 batch 维度上归一化"))
    g = judge.grade(rubric, q + "\n" + rubric.question.en)
    assert {c.verdict for c in g.criteria} == {"missed"}


def test_a_point_that_something_is_missing_is_met_by_saying_it_is_not_there(bank):
    judge = OfflineJudge()
    rubric = bank.get("vit-replace-cnn")  # "ViT 缺少 CNN 的归纳偏置 … 需要大规模预训练"
    said = judge.grade(rubric, "ViT 没有卷积那样的归纳偏置，所以比较吃数据，得从大规模预训练的权重开始。")
    assert {c.id: c.verdict for c in said.criteria}["data-and-inductive-bias"] == "met"
    # an affirmative point still loses a term the answer denies
    denied = judge.grade(bank.get("bn-inference"), "推理时不用 running mean 和 running var，还是用当前 batch 的统计量。")
    assert {c.id: c.verdict for c in denied.criteria}["inference-uses-running"] == "missed"


@pytest.mark.parametrize("answer", [
    "ViT 并不缺少归纳偏置，数据少从头训练也能训得很好，不需要预训练。",
    "ViT doesn't lack inductive bias at all, so it trains fine from scratch on small data without pre-training.",
])
def test_denying_that_something_is_missing_does_not_meet_a_point_that_it_is(bank, answer):
    g = OfflineJudge().grade(bank.get("vit-replace-cnn"), answer)
    assert {c.id: c.verdict for c in g.criteria}["data-and-inductive-bias"] == "missed"


def test_rejecting_the_right_claim_does_not_hide_the_wrong_one_that_follows(bank):
    g = OfflineJudge().grade(bank.get("bn-inference"), "推理时用 running mean 没有任何意义，测试时就应该直接用当前 batch 的均值和方差来归一化。")
    assert [m.id for m in g.misconceptions] == ["test-uses-batch-stats"]
    assert {c.id: c.verdict for c in g.criteria}["inference-uses-running"] != "met"


def test_a_word_that_merely_contains_a_negator_negates_nothing():
    from grader.text.negation import negation_scopes
    from grader.text.normalize import normalize

    # "淹没" (swamp) and "不可或缺" (indispensable) contain 没 / 不 but deny nothing
    assert negation_scopes(normalize("大量简单负样本淹没了正样本的梯度")) == []
    assert negation_scopes(normalize("残差连接对深层网络不可或缺")) == []


def test_once_without_something_denies_only_that_thing():
    from grader.text.negation import denials
    from grader.text.normalize import normalize

    text = normalize("没有全连接层后网络可以接受任意尺寸的输入")
    den = denials(text)
    assert den.is_negated(text.index("全连接层"))
    assert not den.is_negated(text.index("任意尺寸"))


def _bank(qid: str):
    from grader.rubric.loader import shipped_bank_dir

    r, problems = load_file(next(shipped_bank_dir().rglob(f"{qid}.yaml")))
    assert r is not None, problems
    return r


def test_one_concept_inside_a_sentence_about_something_else_is_a_word_not_a_claim(judge):
    dcn = _bank("dcn-flops")
    g = judge.grade(dcn, "可变形卷积是为了解决物体几何形变的问题。DCN 给每个采样点学一个偏移量，让感受野能贴合物体形状，在检测和分割上涨点很明显。")
    assert {c.id: c.verdict for c in g.criteria}["offset-branch-cost"] == "missed"
    # a short item that names one method still earns partial credit for it
    acc = _bank("model-acceleration")
    g = judge.grade(acc, "- 剪枝\n- 量化（FP16、INT8）\n- TensorRT 部署")
    verdicts = {c.id: c.verdict for c in g.criteria}
    assert verdicts["pruning-distillation"] == verdicts["quantization"] == "partial"


def test_an_adverb_inside_a_chinese_term_still_matches_it():
    assert find_term_all("收敛更快", normalize("ReLU 训练收敛也更快")) == [(6, 11)]
    assert find_term_all("梯度消失", normalize("连乘之后梯度就消失了"))
    assert not find_term_all("梯度消失", normalize("梯度不消失"))  # a negator is no adverb


def test_english_polarity_words_count_next_to_chinese_ones():
    from grader.rubric.models import Direction

    rf = Direction(kind="direction", subject=["receptive field", "感受野"], dir="up")
    # normalising removes the space between Chinese and English, and \b no longer holds there
    assert evaluate(rf, normalize("advantage 就是 enlarge receptive field")) == "satisfied"
    assert evaluate(rf, normalize("advantage 就是 shrink receptive field")) == "reversed"
    latency = Direction(kind="direction", subject=["推理时间"], dir="up")
    assert evaluate(latency, normalize("推理时间会明显变长")) == "satisfied"


def test_a_comma_between_two_clauses_does_not_join_their_subjects():
    from grader.rubric.models import Binds

    rel = Binds(kind="binds", pairs=[{"entity": ["多进程"], "property": ["CPU 密集"]},
                                     {"entity": ["多线程"], "property": ["I/O 密集"]}])
    assert evaluate(rel, normalize("CPU 密集用多进程，多线程只适合 I/O 密集")) == "satisfied"
    assert evaluate(rel, normalize("CPU 密集用多线程，多进程只适合 I/O 密集")) == "reversed"
    assert evaluate(rel, normalize("多进程，多线程都适合 CPU 密集")) == "reversed"  # one property, both sides


def test_a_phrase_matches_with_its_last_word_in_the_plural():
    text = normalize("interpolate the position embeddings for the new resolution")
    assert find_term_all("position embedding", text) == [(16, 35)]
    assert not find_term_all("position embedding", normalize("position embeddingless"))


def test_golden_expectations_count_what_a_turned_round_claim_costs(rubric):
    from grader.evals.golden import GoldenSet, check_against_rubric, expected_percent

    met = {c.id: "met" for c in rubric.criteria}
    def answer(id_, kind, verdicts, band, **more):
        return {"id": id_, "kind": kind, "lang": "zh", "text": "…", "expected": {"band": band, "verdicts": verdicts, **more}}

    swapped = {**met, "batch-variance": "missed", "train-batch-mean": "missed", "precision-formula": "missed"}
    gs = GoldenSet.model_validate({"question_id": rubric.id, "rubric_version": rubric.version, "answers": [
        answer("complete", "complete", met, [90, 100]),
        answer("partial", "partial", swapped, [35, 45]),
        answer("misconception", "misconception", swapped, [10, 40], misconceptions=["test-uses-batch-mean"]),
        answer("wrong", "wrong", swapped, [25, 35], turned=["batch-variance"]),  # 40% without the cost
        answer("bad-turned", "swapped", swapped, [0, 100], turned=["train-batch-mean"]),
    ]})
    points = sum(c.points for c in rubric.criteria)
    assert expected_percent(gs.answers[3], rubric) == round(100 * (4 - 1) / points, 1)  # 2 met of 2 points, minus half of 2
    assert check_against_rubric(gs, rubric) == [
        "bad-turned: turned 'train-batch-mean' must be a criterion with relations, expected missed",
    ]


MULTIPLICATIONS = Direction(kind="direction", subject=["乘法次数", "乘法", "multiplications"], dir="down")


def _reads_and_turns_round(relation, text: str, status: str) -> None:
    """The claim reads as `status`, and lint's automatic reversal of it does not."""
    assert evaluate(relation, normalize(text)) == status
    assert evaluate(relation, reverse(relation, normalize(text))) != status


@pytest.mark.parametrize(
    "text, status",
    [
        ("winograd 乘法 36→16", "satisfied"),
        ("F(2×2,3×3) 的乘法从 36 次变成 16 次", "satisfied"),
        ("winograd 的乘法次数从 16 到 36", "reversed"),
        ("multiplications go from 16 to 36", "reversed"),
        ("winograd 把乘法从 36 次降到 16 次", "satisfied"),  # the verb and the numbers: one move
        ("乘法大概 3 到 5 个", "absent"),  # a range, not a move
        ("乘法 16 -> 16", "absent"),
    ],
)
def test_a_number_that_becomes_another_says_which_way_it_moved(text, status):
    if status == "absent":
        assert evaluate(MULTIPLICATIONS, normalize(text)) == status
    else:  # lint's automatic reversal exchanges the numbers
        _reads_and_turns_round(MULTIPLICATIONS, text, status)


MEMORY = Direction(kind="direction", subject=["内存", "显存", "memory"], dir="up")


@pytest.mark.parametrize(
    "text, status",
    [
        ("im2col 需要额外内存", "satisfied"),
        ("im2col 不需要额外的显存", "reversed"),
        ("im2col 能节省内存", "reversed"),
        ("im2col needs extra memory", "satisfied"),
        ("im2col saves memory", "reversed"),
        # a share or a multiple of what it was
        ("im2col 的内存是原来的 k² 倍", "satisfied"),
        ("memory is 9 times larger", "satisfied"),
        ("im2col 内存占用降到原来的 1/k²", "reversed"),
        ("it needs 1/9 of the memory", "reversed"),
    ],
)
def test_extra_saved_shares_and_multiples_say_which_way_a_cost_moved(text, status):
    _reads_and_turns_round(MEMORY, text, status)


RECEPTIVE_FIELD = Direction(kind="direction", subject=["感受野", "receptive field"], dir="up")


@pytest.mark.parametrize(
    "text, status",
    [
        ("在不增加参数的情况下扩大感受野", "satisfied"),
        ("空洞卷积在没有额外参数的前提下让感受野变大", "satisfied"),
        ("并不能在不增加参数的情况下扩大感受野", "reversed"),  # the outer negator still reaches past it
    ],
)
def test_a_negator_inside_a_circumstance_denies_only_within_it(text, status):
    n = normalize(text)
    assert evaluate(RECEPTIVE_FIELD, n) == status
    if status == "satisfied":
        assert not denials(n).is_negated(n.index("感受野"))


TOP_DOWN = Order(kind="order", first=["检测器", "detector"], then=["单人姿态估计", "single-person pose"])


@pytest.mark.parametrize(
    "text, status",
    [
        ("先用检测器框出每个人，对每个框做单人姿态估计", "satisfied"),
        ("先做单人姿态估计，检测器放到最后", "reversed"),
        ("检测器很重要，单人姿态估计也很重要", "absent"),  # two clauses, nothing orders them
    ],
)
def test_a_step_marked_first_comes_before_the_next_clause(text, status):
    assert evaluate(TOP_DOWN, normalize(text)) == status


JACOBIAN = Binds(kind="binds", pairs=[
    {"entity": ["i=j", "相等时"], "property": ["p_i(1-p_i)"]},
    {"entity": ["i≠j", "不等时", "不相等时"], "property": ["-p_i p_j"]},
])


@pytest.mark.parametrize(
    "text, status",
    [
        ("i 等于 j 时是 p_i(1-p_i)，不等时是 -p_i p_j", "satisfied"),  # 不 belongs to "不等时"
        ("相等时是 -p_i p_j，不相等时是 p_i(1-p_i)", "reversed"),
        ("i=j 时不是 -p_i p_j", "absent"),  # a negator before a term still denies it
    ],
)
def test_a_negator_a_term_carries_denies_nothing_after_it(text, status):
    assert evaluate(JACOBIAN, normalize(text)) == status


def test_a_relation_that_is_not_required_holds_back_no_unsettled_claim(judge, rubric):
    unsettled = "精确率和 TP 有关系。"
    turned = "精确率 = (TP+FP)/TP。"
    data = rubric.model_dump()
    crit = next(c for c in data["criteria"] if c["id"] == "precision-formula")
    crit["relations"][0]["required"] = False
    optional = type(rubric).model_validate(data)
    assert verdict(judge, rubric, unsettled, "precision-formula")[:2] == ("partial", ["relation_absent"])
    v, flags, _ = verdict(judge, optional, unsettled, "precision-formula")
    assert v == "met" and "relation_absent" not in flags
    # turning it round still earns nothing and is charged
    v, flags, g = verdict(judge, optional, turned, "precision-formula")
    assert (v, flags) == ("missed", ["reversed_relation"])
    assert [(m.id, m.kind) for m in g.misconceptions] == [("precision-formula", "turned")]
