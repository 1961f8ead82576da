"""`grader rubric distill` offline: drafts that lint clean, translations the bank vouches for,
and the other language left for the author rather than copied."""

from __future__ import annotations

import yaml

from grader.cli.app import app
from grader.rubric.distill import TO_WRITE, bank_synonyms
from grader.text.normalize import has_cjk, normalize

REFERENCE = (
    "全量 GD 每走一步都要遍历整个训练集，单步代价 O(N)；mini-batch SGD 每步只用 B 个样本，代价 O(B)。"
    "mini-batch 梯度是全量梯度的无偏估计，方差约与 1/B 成正比。这份噪声有助于逃离鞍点，相当于隐式正则。"
    "mini-batch 能利用 GPU 的矩阵并行计算，训练更稳定。要精确收敛需要学习率衰减。"
)


def test_translations_come_only_from_what_the_bank_vouches_for():
    table = bank_synonyms()
    assert "detection" in table[normalize("检测")] and "gradient" in table[normalize("梯度")]
    assert "动量" in table[normalize("momentum")]
    # concept groups are not dictionaries: nothing for these (they used to get 单阶段, diminishing, swin)
    for term in ("anchor", "去掉", "金字塔", "RPN"):
        assert normalize(term) not in table, term
    assert all("swin" not in t and "pvt" not in t for t in table.get(normalize("检测"), ()))
    for term, translations in table.items():
        assert all(has_cjk(t) != has_cjk(term) for t in translations), term


def test_offline_drafts_lint_clean_and_leave_english_to_the_author(runner, tmp_path):
    ref = tmp_path / "ref.txt"
    ref.write_text(REFERENCE, encoding="utf-8")
    out = tmp_path / "drafts"
    for qid, question in (("sgd-a", "mini-batch SGD 相对全量 GD 有什么优点？"), ("sgd-b", "为什么训练时用小批量梯度下降？")):
        result = runner.invoke(app, ["rubric", "distill", "-q", question, "-r", str(ref),
                                     "--id", qid, "-c", "classical-ml", "-o", str(out), "-j", "offline"])
        assert result.exit_code == 0, result.output
        assert "to fix" not in result.stdout
    lint = runner.invoke(app, ["rubric", "lint", str(out)])  # both drafts together, too
    assert lint.exit_code == 0, lint.output
    data = yaml.safe_load((out / "sgd-a.yaml").read_text(encoding="utf-8"))
    assert data["question"]["en"].startswith(TO_WRITE)
    for c in data["criteria"]:
        assert c["statement"]["en"] == TO_WRITE and has_cjk(c["statement"]["zh"])
        assert c["statement"]["zh"] != c["statement"]["en"]
