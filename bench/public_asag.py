"""Distilled rubrics on public human-scored short-answer data, end to end through the CLI.

For each data set (JSONL rows of id, qid, question, reference, answer and a gold score): distil
one rubric per question offline from its reference alone (`grader rubric distill --jsonl`), lint
them, grade every answer through the batch path (`grader batch --rubrics DIR --no-builtin`), and
print Pearson, Spearman, RMSE and QWK against the gold, raw and after a linear calibration fitted
on question-disjoint folds, next to two unsupervised baselines (sentence-embedding cosine and
TF-IDF cosine between answer and reference).

    python bench/public_asag.py DATA_DIR [--only mohler] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SETS = {  # file stem -> (gold field, gold maximum, category slug for the drafts)
    "mohler": ("score_avg", 5.0, "coding-algorithms"),
    "sas_zh_le": ("score", 1.0, "classical-ml"),
}
FOLDS = 5
BATCH_FILE = 1000


def _slug(prefix: str, qid: str) -> str:
    return f"{prefix}-" + re.sub(r"[^a-z0-9]+", "-", qid.lower()).strip("-")


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, env=env)


def _metrics(pred: np.ndarray, gold: np.ndarray, top: float) -> dict:
    from scipy.stats import pearsonr, spearmanr
    from sklearn.metrics import cohen_kappa_score

    steps = 10 if top <= 1 else 2 * top  # half points on a 0..5 scale, tenths on 0..1
    q = lambda x: np.clip(np.rint(np.asarray(x) / top * steps), 0, steps).astype(int)  # noqa: E731
    return {
        "pearson": pearsonr(pred, gold)[0],
        "spearman": spearmanr(pred, gold)[0],
        "rmse": float(np.sqrt(np.mean((pred - gold) ** 2))),
        "qwk": cohen_kappa_score(q(gold), q(pred), weights="quadratic"),
    }


def _calibrated(pred: np.ndarray, gold: np.ndarray, groups: list[str], top: float) -> np.ndarray:
    """A linear map from predicted to gold, each answer's fitted on the other questions only."""
    qids = sorted(set(groups))
    fold_of = {q: i % FOLDS for i, q in enumerate(qids)}
    folds = np.array([fold_of[g] for g in groups])
    out = np.empty_like(pred)
    for f in range(FOLDS):
        test = folds == f
        a, b = np.polyfit(pred[~test], gold[~test], 1)
        out[test] = np.clip(a * pred[test] + b, 0, top)
    return out


def _baselines(rows: list[dict]) -> dict[str, np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from grader.text import embed

    answers = [r["answer"] for r in rows]
    refs = [r["reference"] for r in rows]
    a, b = embed.encode(answers), embed.encode(refs)
    cjk = any(re.search(r"[\u4e00-\u9fff]", t) for t in refs)
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2)) if cjk else TfidfVectorizer()
    vec.fit(answers + sorted(set(refs)))
    ta, tb = vec.transform(answers), vec.transform(refs)
    tfidf = np.asarray(ta.multiply(tb).sum(axis=1)).ravel()
    return {"embedding cosine": np.sum(a * b, axis=1), "tf-idf cosine": tfidf}


def run(path: Path, limit: int | None, work: Path, env: dict) -> None:
    gold_field, top, category = SETS[path.stem]
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit:
        keep = sorted({r["qid"] for r in rows})[:limit]
        rows = [r for r in rows if r["qid"] in keep]
    prefix = "q"
    questions: dict[str, dict] = {}
    for r in rows:
        q = questions.setdefault(_slug(prefix, r["qid"]), {"id": _slug(prefix, r["qid"]), "category": category,
                                                          "question": r["question"], "references": []})
        if r["reference"] not in q["references"]:
            q["references"].append(r["reference"])
    work.mkdir(parents=True, exist_ok=True)
    qfile, rubrics = work / "questions.jsonl", work / "rubrics"
    qfile.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in questions.values()), encoding="utf-8")
    afiles = []
    for n in range(0, len(rows), BATCH_FILE):  # the batch path takes at most 1,000 answers a file
        afiles.append(work / f"answers-{n // BATCH_FILE:02d}.jsonl")
        afiles[-1].write_text("\n".join(json.dumps({"question_id": _slug(prefix, r["qid"]), "answer": r["answer"]},
                                                   ensure_ascii=False) for r in rows[n : n + BATCH_FILE]), encoding="utf-8")
    print(f"\n== {path.name}: {len(rows)} answers, {len(questions)} questions")
    distilled = _cli("rubric", "distill", "--jsonl", str(qfile), "-o", str(rubrics), "-j", "offline", "--force", env=env)
    refused = distilled.stderr.count("error:")
    print(f"distill: exit {distilled.returncode}, {distilled.stdout.strip().splitlines()[-1] if distilled.stdout.strip() else ''}"
          f"; refused {refused}")
    sizes = [int(m) for m in re.findall(r": (\d+) criteria", distilled.stdout)]
    if sizes:
        print("criteria per rubric: " + ", ".join(f"{k}: {sizes.count(k)}" for k in sorted(set(sizes))))
    lint = _cli("rubric", "lint", str(rubrics), env=env)
    print(f"lint: exit {lint.returncode}: {(lint.stdout + lint.stderr).strip().splitlines()[-1]}")
    report = work / "report.json"
    batch = _cli("batch", *map(str, afiles), "--format", "jsonl", "--rubrics", str(rubrics), "--no-builtin",
                 "-j", "offline", "-c", "1", "--report", str(report), env=env)
    # several transcripts: one report each, named after the transcript file
    reports = [report] if len(afiles) == 1 else [work / f"report-{a.name.replace('.', '_')}.json" for a in afiles]
    if not all(r.exists() for r in reports):
        found = sorted(p.name for p in work.glob("report*"))
        sys.exit(f"batch failed (exit {batch.returncode}): {batch.stderr.strip()[-500:]} (reports: {found})")
    graded = [p for r in reports for p in _percents(json.loads(r.read_text(encoding="utf-8")))]
    if len(graded) != len(rows):
        print(f"warning: {len(rows) - len(graded)} answer(s) not graded (batch exit {batch.returncode})")
    gold = np.array([float(r[gold_field]) for r in rows])
    groups = [r["qid"] for r in rows]
    systems = {"distilled rubric, offline judge": np.array([g if g is not None else 0.0 for g in graded]) / 100 * top}
    systems.update({k: np.clip(v, 0, 1) * top for k, v in _baselines(rows).items()})
    print(f"{'system':34} {'':4} {'pearson':>8} {'spearman':>8} {'rmse':>6} {'qwk':>6}")
    for name, pred in systems.items():
        for how, p in (("raw", pred), ("cal", _calibrated(pred, gold, groups, top))):
            m = _metrics(p, gold, top)
            print(f"{name:34} {how:4} {m['pearson']:8.3f} {m['spearman']:8.3f} {m['rmse']:6.3f} {m['qwk']:6.3f}")


def _percents(report) -> list[float | None]:
    """Each graded answer's percent, in input order, from the batch JSON report."""
    items = report.get("items") or report.get("answers") or report.get("results") or []
    out = []
    for it in items:
        g = it.get("grading") or it
        out.append(g.get("percent"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="directory holding mohler.jsonl and sas_zh_le.jsonl")
    ap.add_argument("--only", choices=sorted(SETS))
    ap.add_argument("--limit", type=int, help="first N questions of each set only")
    ap.add_argument("--work", type=Path, help="keep the drafts and reports here")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="asag-"))
    # A fresh store each run: gradings stored by an earlier run of the same judge version would be
    # served again, and a change to the judge would not show.
    (work / "grader.db").unlink(missing_ok=True)
    env = {**os.environ, "GRADER_DB": str(work / "grader.db"), "GRADER_CACHE_DIR": str(work / "cache")}
    for stem in SETS:
        if args.only in (None, stem):
            run(args.data / f"{stem}.jsonl", args.limit, work / stem, env)
    print(f"\nfiles: {work}")


if __name__ == "__main__":
    main()
