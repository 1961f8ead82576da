"""`grader batch PATH...`: grade every answer in recorded mock interviews and write reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from grader.cli.common import (
    LangOpt,
    BaseUrlOpt,
    DbOpt,
    JsonOpt,
    JudgeOpt,
    ModelOpt,
    NoBuiltinOpt,
    NoCacheOpt,
    RubricsOpt,
    SamplesOpt,
    build_judge,
    console,
    fail,
    load_bank,
    open_store,
    print_json,
    warn,
)

DEFAULT_MIN_MATCH = 0.6  # below this match confidence a question is reported, not graded
EXIT_INCOMPLETE = 1
EXIT_INTERRUPTED = 130
REPORT_FORMATS = ("html", "md", "json", "csv")


def _parse_labels(values: list[str] | None) -> dict[str, str] | None:
    if not values:
        return None
    labels = {}
    for v in values:
        label, sep, role = v.partition("=")
        if not sep or not label.strip():
            fail(f"--label expects LABEL=ROLE (role: interviewer, candidate or unknown), not {v!r}")
        labels[label.strip()] = role.strip()
    return labels


def batch(
    paths: Annotated[list[str], typer.Argument(help="Transcript files, directories or globs.", show_default=False)],
    fmt: Annotated[str, typer.Option("--format", help="auto, text, srt, vtt, asr-json or jsonl.")] = "auto",
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="Extra speaker label, e.g. --label 考官=interviewer (repeatable).", show_default=False),
    ] = None,
    min_match: Annotated[float, typer.Option("--min-match", min=0, max=1, help="Lowest confidence at which a question is matched to the bank.")] = DEFAULT_MIN_MATCH,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, max=256, help="Answers graded at once by a judge that waits on the network (the offline judge uses the CPU and grades one at a time, its fastest).")] = 4,
    rate: Annotated[float | None, typer.Option("--rate", min=0.01, help="At most this many judge requests per second.", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the matched pairs and the LLM calls a run would need; grade nothing.")] = False,
    report: Annotated[
        list[Path] | None,
        typer.Option("--report", "-r", help="Write the report to this file (.html, .md, .json or .csv; repeatable). "
                      "With several transcripts, one file each, named FILE-<transcript file name>.", show_default=False),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where reports go when --report is not given (all formats).")] = Path("grader-reports"),
    lang: LangOpt = None,
    judge: JudgeOpt = None,
    samples: SamplesOpt = None,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    no_cache: NoCacheOpt = False,
    json_out: JsonOpt = False,
    db: DbOpt = None,
    rubrics: RubricsOpt = None,
    no_builtin: NoBuiltinOpt = False,
    allow_unsandboxed_code: Annotated[
        bool,
        typer.Option("--allow-unsandboxed-code", help="Run the code in answers even where bubblewrap cannot isolate it (risky: "
                     "the code can read and change anything your user can)."),
    ] = False,
) -> None:
    """Grade every answer in recorded mock interviews (notes, SRT/WebVTT, speech-recognition
    JSON, JSONL) and write a report per transcript.

    Every finished grading is stored at once: after Ctrl-C, or a failure, run the same command
    again to resume. Exit codes: 0 every matched answer graded; 1 some failed or unscored (or a
    file could not be read); 130 interrupted."""
    from grader.batch.matching import QuestionMatcher
    from grader.batch.runner import BatchInputError, collect_paths, estimate_llm_usage, load_transcripts, run_items, summarise

    from grader.cli.common import resolve_lang

    lang = resolve_lang(lang)
    for r in report or []:
        if r.suffix.lower().lstrip(".") not in REPORT_FORMATS:
            fail(f"--report {r}: the file name must end in .html, .md, .json or .csv")
    labels = _parse_labels(label)
    try:
        files = collect_paths(paths)
    except BatchInputError as exc:
        fail(str(exc))
    bank = load_bank(rubrics, no_builtin)
    results = load_transcripts(files, QuestionMatcher(bank), min_match, fmt, labels)
    for r in results:
        if r.error:
            warn(r.error)
    items = [i for r in results for i in r.items]
    out = console()

    if dry_run:
        the_judge = build_judge(judge, samples, model, base_url)
        _print_pairs(out, results, json_out)
        kind = the_judge.info().kind
        n = the_judge.info().samples
        calls, tin, tout = estimate_llm_usage(items, bank, n) if kind == "llm" else (0, 0, 0)
        matched = sum(1 for i in items if i.question_id)
        if json_out:
            print_json({"matched": matched, "unmatched": len(items) - matched, "judge": kind,
                        "llm_calls": calls, "input_tokens": tin, "output_tokens": tout})
        else:
            msg = f"{matched} answer(s) to grade, {len(items) - matched} unmatched; judge: {kind}"
            msg += f"; about {calls} LLM call(s), ~{tin:,} input and ~{tout:,} output tokens" if kind == "llm" else "; no LLM calls"
            out.print(msg, highlight=False)
        return

    the_judge = build_judge(judge, samples, model, base_url)
    store = open_store(db)
    from grader.grading.code import allow_unsandboxed_code as _allow_code

    _allow_code(allow_unsandboxed_code)
    from grader.grading.service import Grader

    grader = Grader(the_judge, store, use_cache=not no_cache)
    from grader.cli import common

    interrupted = _run(items, grader, bank, concurrency, rate, json_out or common.QUIET, run_items)
    from grader.report.data import load_reviews

    reviews = load_reviews(store, [i.grading_id for i in items])  # human grades recorded with `grader review`
    store.close()
    summary = summarise(results, interrupted)
    written = _write_reports(results, bank, report, out_dir, lang, reviews)
    if json_out:
        print_json({"summary": summary.model_dump(), "reports": [str(p) for p in written],
                    "transcripts": [json.loads(r.model_dump_json()) for r in results]})
    else:
        _print_pairs(out, results, False)
        out.print(
            f"{summary.graded} graded ({summary.from_store} from the store), {summary.unscored} unscored, "
            f"{summary.failed} failed, {summary.unmatched} unmatched, {summary.pending} not run; "
            f"{summary.judge_calls} judge call(s)",
            highlight=False,
        )
        for p in written:
            out.print(f"report: {p}", highlight=False)
        if interrupted:
            out.print("Interrupted: finished gradings are stored; run the same command again to resume.")
    if interrupted:
        raise typer.Exit(EXIT_INTERRUPTED)
    if not summary.all_graded:
        raise typer.Exit(EXIT_INCOMPLETE)


def _run(items, grader, bank, concurrency, rate, quiet, run_items) -> bool:
    """Grade with a progress bar; the first Ctrl-C stops cleanly. Returns whether interrupted."""
    import asyncio
    import signal

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    todo = [i for i in items if i.status == "pending"]
    progress = Progress(
        TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("eta"),
        TimeRemainingColumn(), console=console_err(), disable=quiet or not todo, transient=True,
    )
    state = {"interrupted": False}

    async def main() -> None:
        stop = asyncio.Event()

        def on_sigint() -> None:
            state["interrupted"] = True
            stop.set()

        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / platform
            pass
        task = progress.add_task("grading", total=len(todo))
        await run_items(todo, grader, bank, concurrency, rate, lambda _: progress.advance(task), stop)

    with progress:
        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            state["interrupted"] = True
    return state["interrupted"]


def console_err():
    from rich.console import Console

    return Console(stderr=True)


def _print_pairs(out, results, json_out: bool) -> None:
    if json_out:
        return
    from rich.markup import escape
    from rich.table import Table

    for r in results:
        if r.error:
            continue
        table = Table(title=f"{r.path} ({r.format}, {r.encoding}, roles from {r.role_source})", expand=True)
        for col in ("#", "question", "bank question", "match", "status", "score"):
            table.add_column(col, overflow="fold")
        for i in r.items:
            score = f"{i.grading.score:g}/{i.grading.max_score:g}" if i.grading and i.grading.score is not None else ""
            status = i.status + (f": {i.error}" if i.error and i.status != "graded" else "")
            table.add_row(str(i.index), escape(i.question[:60]), i.question_id or "—", f"{i.match_confidence:.2f}", escape(status), score)
        out.print(table)
        for s in r.skipped:
            out.print(f"  skipped {s.source}: {escape(s.text[:60])} ({s.reason})", highlight=False)


def _report_names(reports) -> list[str]:
    """One name per transcript, unique even for mock_interview.srt and mock_interview.vtt."""
    names: list[str] = []
    for rep in reports:
        base = Path(rep.path).name.replace(".", "_")
        name, n = base, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        names.append(name)
    return names


def _write_reports(results, bank, report_paths, out_dir: Path, lang: str | None, reviews=None) -> list[Path]:
    from grader.report.data import build_report
    from grader.report.writers import to_csv, to_json, to_markdown

    reports = [build_report(r, bank, lang, reviews) for r in results if not r.error]
    if not reports:
        return []
    targets: list[tuple[Path, str]] = []
    if report_paths:
        targets = [(p, p.suffix.lower().lstrip(".")) for p in report_paths]
    else:
        targets = [(out_dir / "report.html", "html"), (out_dir / "report.md", "md"),
                   (out_dir / "report.json", "json"), (out_dir / "summary.csv", "csv")]
    written: list[Path] = []
    for path, kind in targets:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "csv":  # one table for the whole batch
                path.write_text(to_csv(reports), encoding="utf-8")
                written.append(path)
                continue
            if kind == "html":  # pages and, for a batch, an index page linking them
                from grader.report.html import write_html_reports

                index = (path.with_name(f"{path.stem}-index.html") if len(reports) > 1 else None) if report_paths else out_dir / "index.html"
                written += write_html_reports(reports, _report_names(reports), path, index)
                continue
            for rep, name in zip(reports, _report_names(reports)):
                target = path if len(reports) == 1 else path.with_name(f"{path.stem}-{name}{path.suffix}")
                text = to_markdown(rep) if kind == "md" else to_json(rep)
                target.write_text(text, encoding="utf-8")
                written.append(target)
        except OSError as exc:
            fail(f"cannot write the report {path}: {exc.strerror}")
    return written
