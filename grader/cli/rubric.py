"""`grader rubric ...`: tools for rubric authors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grader.cli.common import JsonOpt, fail, print_json

app = typer.Typer(help="Validate and author rubrics.", no_args_is_help=True)


@app.command()
def lint(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Rubric files or directories (default: the shipped bank).", show_default=False)
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Validate rubrics: schema, unique ids, points, key terms, aliases. Exit 1 on any problem."""
    from grader.rubric.lint import lint as run_lint
    from grader.rubric.loader import load_paths, shipped_bank_dir

    targets = paths or [shipped_bank_dir()]
    for p in targets:
        if not p.exists():
            fail(f"{p} does not exist")
    result = load_paths(targets, use_cache=False)
    if not result.rubrics and not result.problems:
        fail("no rubric files (*.yaml) found")
    problems = run_lint(result)
    if json_out:
        print_json({"rubrics": len(result.rubrics), "problems": [str(p) for p in problems]})
    else:
        for p in problems:
            typer.echo(str(p), err=True)
        checked = len(result.rubrics) + len({p.path for p in result.problems})
        status = "ok" if not problems else f"{len(problems)} problem(s)"
        typer.echo(f"{checked} file(s) checked: {status}", err=bool(problems))
    if problems:
        raise typer.Exit(1)


@app.command()
def distill(
    question: Annotated[str | None, typer.Option("--question", "-q", help="The question, as an interviewer asks it.", show_default=False)] = None,
    reference: Annotated[list[Path] | None, typer.Option("--reference", "-r", help="A reference answer file (repeatable).", show_default=False)] = None,
    question_id: Annotated[str | None, typer.Option("--id", help="Id of the new question (lowercase-hyphen).", show_default=False)] = None,
    category: Annotated[str | None, typer.Option("--category", "-c", help="Category slug or name.", show_default=False)] = None,
    qtype: Annotated[str, typer.Option("--type", "-t", help="concept, derivation or coding.")] = "concept",
    question_en: Annotated[str | None, typer.Option("--question-en", help="The question in English.", show_default=False)] = None,
    jsonl: Annotated[Path | None, typer.Option("--jsonl", help="Many questions: lines of {id, category, type, question, question_en, references}.", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory the drafts are written to.")] = Path("."),
    judge: Annotated[str | None, typer.Option("--judge", "-j", help="offline, or llm (the default when an LLM model is configured).", show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Draft a rubric from a question and reference answers, validated and written as YAML for
    you to edit: with the configured LLM, or offline (key points split from the references, key
    terms and synonyms extracted automatically)."""
    from grader.cli.common import read_text_file
    from grader.cli.questions import resolve_category
    from grader.config import ConfigError, load_settings
    from grader.rubric.distill import Draft, DistillError, distill_offline, finish, to_yaml

    try:
        settings = load_settings()
    except ConfigError as exc:
        fail(str(exc))
    kind = judge or ("llm" if settings.llm.configured else "offline")
    if kind not in ("offline", "llm"):
        fail(f"unknown judge {kind!r}; choose offline or llm")
    if kind == "llm" and not settings.llm.configured:
        fail("no LLM model configured: set GRADER_LLM_MODEL or use --judge offline")
    drafts = _drafts_from_jsonl(jsonl) if jsonl else []
    if not jsonl:
        if not (question and reference and question_id and category):
            fail("give --question, --reference, --id and --category (or --jsonl FILE)")
        drafts = [Draft(question_id, resolve_category(category), qtype, question, question_en,
                        [read_text_file(r) for r in reference], [r.name for r in reference])]
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for d in drafts:
        target = out / f"{d.question_id}.yaml"
        if target.exists() and not force:
            fail(f"{target} exists; use --force to overwrite")
        try:
            if kind == "llm":
                from grader.rubric.distill_llm import distill_llm

                data = distill_llm(d, settings.llm)
            else:
                data = distill_offline(d)
            rubric, problems = finish(data)
        except DistillError as exc:
            fail(f"{d.question_id}: {exc}")
        how = "with the LLM" if kind == "llm" else "offline"
        note = f"Draft distilled {how} from {len(d.references)} reference answer(s): check every criterion"
        note += ", translate the English statements and add misconceptions." if kind == "offline" else "."
        target.write_text(to_yaml(rubric, note), encoding="utf-8")
        written += 1
        typer.echo(f"{target}: {len(rubric.criteria)} criteria" + (f"; to fix: {'; '.join(problems)}" if problems else ""))
    typer.echo(f"{written} draft(s) written")


def _drafts_from_jsonl(path: Path):
    import json

    from grader.cli.questions import resolve_category
    from grader.rubric.distill import Draft

    drafts = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        fail(f"{path}: cannot read: {exc.strerror}")
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            refs = row["references"] if isinstance(row["references"], list) else [row["references"]]
            drafts.append(Draft(row["id"], resolve_category(row["category"]), row.get("type", "concept"),
                                row["question"], row.get("question_en"), [str(r) for r in refs], [path.name]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            fail(f"{path}: line {n}: expected {{id, category, question, references}}: {exc}")
    if not drafts:
        fail(f"{path}: no questions")
    return drafts
