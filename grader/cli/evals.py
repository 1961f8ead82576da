"""`grader evals ...`: rubric regression runs over the golden sets and canaries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from grader.cli.common import (
    BaseUrlOpt,
    DbOpt,
    JsonOpt,
    JudgeOpt,
    ModelOpt,
    NoBuiltinOpt,
    RubricsOpt,
    SamplesOpt,
    build_judge,
    console,
    fail,
    load_bank,
    open_store,
    print_json,
)

app = typer.Typer(help="Rubric regression runs: golden answers, canaries, baselines.", no_args_is_help=True)


def _fmt(x) -> str:
    return "—" if x is None else f"{x:.3f}"


@app.command()
def run(
    judge: JudgeOpt = None,
    questions: Annotated[str | None, typer.Option("--questions", "-q", help="Comma-separated question ids (default: all).", show_default=False)] = None,
    save_baseline: Annotated[str | None, typer.Option("--save-baseline", help="Store this run as baseline NAME.", show_default=False)] = None,
    baseline: Annotated[str | None, typer.Option("--baseline", "-b", help="Compare with this baseline (name or run id).", show_default=False)] = None,
    junit: Annotated[Path | None, typer.Option("--junit", help="Also write a JUnit XML file.", show_default=False)] = None,
    golden: Annotated[Path | None, typer.Option("--golden", help="Golden-set directory (default: the shipped evals/golden).", show_default=False)] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Thresholds file (default: evals/config.yaml).", show_default=False)] = None,
    samples: SamplesOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    show: Annotated[int, typer.Option("--show", help="How many failing cases to list.")] = 15,
    json_out: JsonOpt = False,
    db: DbOpt = None,
    rubrics: RubricsOpt = None,
    no_builtin: NoBuiltinOpt = False,
) -> None:
    """Grade the golden sets and canaries, print the agreement figures and, against a baseline,
    every verdict that flipped and every band that broke. Exit 1 when a threshold is crossed."""
    from grader.evals.runner import Problem, bank_hash, compute_metrics, diff_results, load_config, load_golden_sets, run_cases
    from grader.evals.store import find_run, run_results, save_run
    from grader.grading.service import Grader

    try:
        cfg = load_config(config)
    except ValueError as exc:
        fail(str(exc))
    if golden is not None and not golden.is_dir():
        fail(f"golden-set directory {golden} does not exist")
    bank = load_bank(rubrics, no_builtin)
    wanted = [q.strip() for q in questions.split(",") if q.strip()] if questions else None
    for q in wanted or []:
        if q not in bank.rubrics:
            from grader.cli.common import get_rubric

            get_rubric(bank, q)  # fails with suggestions
    try:
        sets = load_golden_sets(bank, wanted, golden)
    except Problem as exc:
        fail(f"invalid golden set: {exc}")
    ids = wanted or list(bank.rubrics)
    the_judge = build_judge(judge, samples, model, base_url)
    store = open_store(db)
    before = None
    if baseline:
        row = find_run(store, baseline)
        if row is None:
            fail(f"no eval run or baseline named {baseline!r}; see `grader evals list`")
        before = run_results(store, row["id"])
    # The LLM judge's gradings are cached in the store (re-runs cost nothing); the offline judge is
    # fast enough that storing its gradings would only clutter history.
    grader = Grader(the_judge, store if the_judge.kind == "llm" else None, source="evals")
    results = _with_progress(lambda on_case: run_cases(bank, grader, ids, sets, on_case=on_case), ids, json_out)
    flips, broke, fixed = diff_results(before, results) if before is not None else ([], [], [])
    m = compute_metrics(
        results, cfg.thresholds, len([b for b in broke if b.kind != "canary"]), sum(f.regression for f in flips)
    )
    info = the_judge.info()
    run_id = save_run(store, info, bank_hash(bank.rubrics[i] for i in ids), ids, m, results, save_baseline)
    store.close()
    if junit:
        _write_junit(junit, results)
    if json_out:
        print_json({"run_id": run_id, "metrics": m.model_dump(), "flipped": [f.model_dump() for f in flips],
                    "broken": [b.model_dump() for b in broke], "fixed": [f.model_dump() for f in fixed],
                    "failing_cases": [r.model_dump() for r in results if not r.passed]})
    else:
        _print_run(run_id, info, m, results, flips, broke, fixed, baseline, show)
    if m.failures:
        raise typer.Exit(1)


def _with_progress(run, ids: list[str], quiet: bool):
    """A progress bar on stderr, one step per question (a full run takes minutes)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from grader.cli import common

    progress = Progress(
        TextColumn("grading {task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("eta"), TimeRemainingColumn(), console=Console(stderr=True), transient=True,
        disable=quiet or common.QUIET,
    )
    seen: set[str] = set()
    with progress:
        task = progress.add_task(ids[0] if ids else "", total=len(ids))

        def on_case(result) -> None:
            if result.question_id not in seen:
                if seen:
                    progress.advance(task)
                seen.add(result.question_id)
                progress.update(task, description=result.question_id)

        results = run(on_case)
        progress.update(task, completed=len(ids))
    return results


def _print_run(run_id, info, m, results, flips, broke, fixed, baseline, show) -> None:
    out = console()
    out.print(f"eval run {run_id} · {info.label} · {m.golden_answers} golden answers, {m.canaries} canaries", highlight=False)
    rows = [
        ("band pass rate", _fmt(m.band_pass_rate)),
        ("criterion agreement", f"{_fmt(m.criterion_agreement)} over {m.criteria_compared} verdicts"),
        ("Spearman (scores)", _fmt(m.spearman)),
        ("quadratic weighted kappa", _fmt(m.qwk)),
        ("misconception recall", f"{_fmt(m.misconception_recall)} ({m.misconception_false_alarms} false alarms)"),
        ("canary pass rate", _fmt(m.canary_pass_rate)),
    ]
    for name, value in rows:
        out.print(f"  {name:<26} {value}", highlight=False)
    _print_kinds(out, m)
    failing = [r for r in results if not r.passed]
    if failing:
        out.print(f"{len(failing)} failing case(s):")
        for r in failing[:show]:
            out.print(f"  ✗ {r.question_id}/{r.case_id}: {r.message}", highlight=False)
        if len(failing) > show:
            out.print(f"  … and {len(failing) - show} more (--show N, or --json)")
    if baseline is not None:
        out.print(f"against baseline {baseline}: {len(flips)} verdict(s) flipped, {len(broke)} case(s) broke, {len(fixed)} fixed")
        for f in flips[:50]:
            exp = f" (expected {f.expected})" if f.expected else ""
            mark = "✗" if f.regression else "↺"
            out.print(f"  {mark} {f.question_id}/{f.case_id} · {f.criterion}: {f.before} → {f.after}{exp}", highlight=False)
        for b in broke:
            out.print(f"  ✗ broke {b.question_id}/{b.case_id}: {b.message}", highlight=False)
    for failure in m.failures:
        out.print(f"[red]threshold crossed:[/red] {failure}", highlight=False)
    if not m.failures:
        out.print("[green]all thresholds met[/green]")


def _print_kinds(out, m) -> None:
    """Band pass rate per kind of golden answer: where the judge is weak, not just how much."""
    if not m.by_kind:
        return
    out.print("  band pass rate by kind", highlight=False)
    for kind, f in m.by_kind.items():
        out.print(f"    {kind:<24} {_fmt(f.band_pass_rate)}  {f.passed}/{f.answers}", highlight=False)
    w = m.wrong_with_right_words
    if w is not None:
        out.print(f"  {'wrong claims, right words':<26} {_fmt(w.band_pass_rate)}  {w.passed}/{w.answers} "
                  "(swapped, reversed, negated)", highlight=False)
    if "refutation" in m.by_kind:
        out.print(f"  {'refutation false alarms':<26} {m.refutation_false_alarms} misconception(s) flagged on "
                  "answers that reject them", highlight=False)


def _write_junit(path: Path, results) -> None:
    import xml.etree.ElementTree as ET

    suites = ET.Element("testsuites", name="grader evals")
    by_q: dict[str, list] = {}
    for r in results:
        by_q.setdefault(r.question_id, []).append(r)
    for qid, cases in by_q.items():
        suite = ET.SubElement(suites, "testsuite", name=qid, tests=str(len(cases)),
                              failures=str(sum(not c.passed for c in cases)))
        for c in cases:
            case = ET.SubElement(suite, "testcase", classname=f"evals.{qid}", name=c.case_id)
            if not c.passed:
                ET.SubElement(case, "failure", message=c.message).text = json.dumps(
                    {"verdicts": c.verdicts, "expected": c.expected_verdicts}, ensure_ascii=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")


@app.command("list")
def list_runs(limit: Annotated[int, typer.Option("--limit", "-n", min=1)] = 20, json_out: JsonOpt = False, db: DbOpt = None) -> None:
    """List stored eval runs, newest first."""
    from grader.evals.store import list_runs as stored

    rows = stored(open_store(db), limit)
    data = [
        {"id": r["id"], "created_at": r["created_at"], "baseline": r["baseline"], "judge": f"{r['judge_kind']}:{r['judge_model']}",
         "passed": bool(r["passed"]), "metrics": json.loads(r["metrics"])}
        for r in rows
    ]
    if json_out:
        print_json(data)
        return
    from rich.table import Table

    table = Table(title=f"{len(data)} eval run(s)")
    for col in ("id", "when", "baseline", "judge", "bands", "agreement", "Spearman", "QWK", "canaries", "passed"):
        table.add_column(col)
    for d in data:
        m = d["metrics"]
        table.add_row(str(d["id"]), d["created_at"][:19].replace("T", " "), d["baseline"] or "", d["judge"],
                      _fmt(m["band_pass_rate"]), _fmt(m["criterion_agreement"]), _fmt(m["spearman"]), _fmt(m["qwk"]),
                      _fmt(m["canary_pass_rate"]), "yes" if d["passed"] else "no")
    console().print(table)


@app.command()
def diff(
    run_a: Annotated[str, typer.Argument(help="Earlier run: id or baseline name.")],
    run_b: Annotated[str, typer.Argument(help="Later run: id or baseline name.")],
    json_out: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """What moved between two stored runs: flipped verdicts, broken and fixed cases, figures."""
    from grader.evals.runner import diff_results
    from grader.evals.store import find_run, run_results

    store = open_store(db)
    rows = []
    for ref in (run_a, run_b):
        row = find_run(store, ref)
        if row is None:
            fail(f"no eval run or baseline named {ref!r}; see `grader evals list`")
        rows.append(row)
    flips, broke, fixed = diff_results(run_results(store, rows[0]["id"]), run_results(store, rows[1]["id"]))
    ma, mb = (json.loads(r["metrics"]) for r in rows)
    if json_out:
        print_json({"a": rows[0]["id"], "b": rows[1]["id"], "metrics": {"a": ma, "b": mb},
                    "flipped": [f.model_dump() for f in flips], "broken": [b.model_dump() for b in broke],
                    "fixed": [f.model_dump() for f in fixed]})
        return
    out = console()
    out.print(f"run {rows[0]['id']} → run {rows[1]['id']}")
    for key in ("band_pass_rate", "criterion_agreement", "spearman", "qwk", "canary_pass_rate"):
        out.print(f"  {key:<22} {_fmt(ma.get(key))} → {_fmt(mb.get(key))}", highlight=False)
    out.print(f"{len(flips)} verdict(s) flipped, {len(broke)} case(s) broke, {len(fixed)} fixed")
    for f in flips:
        exp = f" (expected {f.expected})" if f.expected else ""
        out.print(f"  ↺ {f.question_id}/{f.case_id} · {f.criterion}: {f.before} → {f.after}{exp}", highlight=False)
    for b in broke:
        out.print(f"  ✗ broke {b.question_id}/{b.case_id}: {b.message}", highlight=False)
    for f in fixed:
        out.print(f"  ✓ fixed {f.question_id}/{f.case_id}", highlight=False)


@app.command()
def patterns(
    questions: Annotated[str | None, typer.Option("--questions", "-q", help="Comma-separated question ids (default: all).", show_default=False)] = None,
    golden: Annotated[Path | None, typer.Option("--golden", help="Golden-set directory.", show_default=False)] = None,
    json_out: JsonOpt = False,
    rubrics: RubricsOpt = None,
    no_builtin: NoBuiltinOpt = False,
) -> None:
    """For rubric authors: each misconception's patterns against the golden sets (answers that
    assert it and are missed; answers that do not and are flagged)."""
    from grader.evals.patterns import pattern_reports
    from grader.evals.runner import Problem, load_golden_sets

    bank = load_bank(rubrics, no_builtin)
    wanted = [q.strip() for q in questions.split(",") if q.strip()] if questions else None
    try:
        sets = load_golden_sets(bank, wanted, golden)
    except Problem as exc:
        fail(f"invalid golden set: {exc}")
    reports = pattern_reports(bank, sets)
    if json_out:
        print_json([r.model_dump() for r in reports])
        return
    expected = sum(r.expected for r in reports)
    caught = sum(r.caught for r in reports)
    alarms = sum(len(r.false_alarms) for r in reports)
    out = console()
    for r in reports:
        if r.missed or r.false_alarms:
            parts = []
            if r.missed:
                parts.append(f"missed in {', '.join(r.missed)}")
            if r.false_alarms:
                parts.append(f"false alarm in {', '.join(r.false_alarms)}")
            out.print(f"  {r.question_id}/{r.misconception}: {'; '.join(parts)}", highlight=False)
    out.print(f"{caught}/{expected} asserted misconceptions caught; {alarms} false alarm(s)")


@app.command()
def agreement(json_out: JsonOpt = False, db: DbOpt = None) -> None:
    """Judge-versus-human agreement over every reviewed grading (latest review of each)."""
    from grader.evals import metrics
    from grader.store.reviews import reviewed_pairs

    pairs = reviewed_pairs(open_store(db))
    if not pairs:
        fail("no reviewed gradings yet: record human grades with `grader review GRADING_ID`")
    judge_pct = [p["judge_percent"] for p in pairs]
    human_pct = [p["human_percent"] for p in pairs]
    hv = [h for p in pairs for h, _ in p["verdicts"]]
    jv = [j for p in pairs for _, j in p["verdicts"]]
    data = {
        "reviewed": len(pairs),
        "qwk": metrics.quadratic_kappa(human_pct, judge_pct),
        "pearson": metrics.pearson(human_pct, judge_pct),
        "mean_abs_diff": round(sum(abs(a - b) for a, b in zip(human_pct, judge_pct)) / len(pairs), 2),
        "verdicts_compared": len(hv),
        "verdict_agreement": round(sum(a == b for a, b in zip(hv, jv)) / len(hv), 4) if hv else None,
        "verdict_kappa": metrics.verdict_kappa(hv, jv),
        "verdict_confusion": metrics.verdict_confusion(hv, jv),
    }
    if json_out:
        print_json(data)
        return
    out = console()
    out.print(f"{data['reviewed']} reviewed grading(s)")
    out.print(f"  scores: QWK {_fmt(data['qwk'])}, Pearson {_fmt(data['pearson'])}, mean |judge − human| {data['mean_abs_diff']} points")
    out.print(f"  verdicts: {data['verdicts_compared']} compared, agreement {_fmt(data['verdict_agreement'])}, kappa {_fmt(data['verdict_kappa'])}")
    out.print("  confusion (rows: human, columns: judge)   missed partial met")
    for h, row in data["verdict_confusion"].items():
        out.print(f"    {h:<8} {row['missed']:>6} {row['partial']:>7} {row['met']:>4}")
