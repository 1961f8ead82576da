"""How well offline distillation tracks hand-written rubrics (run by hand: python bench/distill_tracking.py [IDS]).
For each question, a rubric is distilled offline from the hand-written reference answer alone; every
golden answer is graded by the offline judge against both rubrics; prints the rank correlation."""
import sys
from scipy.stats import spearmanr
from grader.rubric.bank import Bank
from grader.rubric.distill import Draft, distill_offline, finish
from grader.judges.offline import OfflineJudge
from grader.evals.golden import golden_dir, load_golden
bank = Bank.load(); judge = OfflineJudge()
ids = sys.argv[1:] or ["bn-inference", "relu-vs-sigmoid", "l1-vs-l2", "process-vs-thread", "focal-loss-vs-ohem", "fcn", "dilated-conv", "svm-vs-lr", "eval-metrics", "weight-init"]
hand_all, dist_all = [], []
for qid in ids:
    r = bank.get(qid); gs = load_golden(golden_dir() / f"{qid}.yaml")
    d = Draft(qid, r.category, r.type, r.question.zh, r.question.en, [r.reference_answer.zh])
    rubric, problems = finish(distill_offline(d))
    hand = [judge.grade(r, a.text).percent for a in gs.answers]
    dist = [judge.grade(rubric, a.text).percent for a in gs.answers]
    hand_all += hand; dist_all += dist
    print(f"{qid:28s} criteria {len(rubric.criteria)} spearman {spearmanr(hand, dist).statistic:.2f}  hand {hand}  distilled {dist}")
print("all", round(spearmanr(hand_all, dist_all).statistic, 3), len(hand_all))
