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
    drafts, bad_lines = _drafts_from_jsonl(jsonl) if jsonl else ([], 0)
    if not jsonl:
        if not (question and reference and question_id and category):
            fail("give --question, --reference, --id and --category (or --jsonl FILE)")
        drafts = [Draft(question_id, resolve_category(category, new=True), qtype, question, question_en,
                        [read_text_file(r) for r in reference], [r.name for r in reference])]
    out.mkdir(parents=True, exist_ok=True)
    for d in drafts:
        target = out / f"{d.question_id}.yaml"
        if target.exists() and not force:
            fail(f"{target} exists; use --force to overwrite")
    weights = None
    if kind == "offline":
        from grader.rubric.distill import Weights, background

        # Key terms weigh by how well they tell this question's answer from the others' and a background.
        weights = Weights([r for d in drafts for r in d.references] + background())
    written, refused = 0, bad_lines
    _distinct_phrasings(drafts)
    for d in drafts:
        target = out / f"{d.question_id}.yaml"
        try:
            if kind == "llm":
                from grader.rubric.distill_llm import distill_llm

                data = distill_llm(d, settings.llm)
            else:
                data = distill_offline(d, weights)
            rubric, problems = finish(data)
        except DistillError as exc:
            if not jsonl:
                fail(f"{d.question_id}: {exc}")
            typer.echo(f"error: {d.question_id}: {exc}", err=True)  # the other questions go on
            refused += 1
            continue
        how = "with the LLM" if kind == "llm" else "offline"
        note = f"Draft distilled {how} from {len(d.references)} reference answer(s): check every criterion"
        note += ", translate the English statements and add misconceptions." if kind == "offline" else "."
        target.write_text(to_yaml(rubric, note), encoding="utf-8")
        written += 1
        typer.echo(f"{target}: {len(rubric.criteria)} criteria" + (f"; to fix: {'; '.join(problems)}" if problems else ""))
    typer.echo(f"{written} draft(s) written" + (f"; {refused} refused" if refused else ""))
    if refused:
        raise typer.Exit(1)


def _distinct_phrasings(drafts) -> None:
    """Two questions asked in the same words (a bank may not hold that: a question heard in an
    interview could not be told apart) get their id appended to the later one's text."""
    from grader.text.normalize import compact

    seen: set[str] = set()
    for d in drafts:
        key = compact(d.question_zh)
        if key in seen:
            d.question_zh = f"{d.question_zh.strip()} ({d.question_id})"
            typer.echo(f"{d.question_id}: the same question as an earlier one; its id is appended to its text", err=True)
        seen.add(compact(d.question_zh))


def _drafts_from_jsonl(path: Path):
    import json

    from grader.rubric.categories import category_slug
    from grader.rubric.distill import Draft, JsonlQuestion

    drafts, bad = [], 0
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}")
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = JsonlQuestion.model_validate(json.loads(line))
        except (ValueError, RecursionError) as exc:  # bad JSON, a missing field, a huge integer
            typer.echo(f"error: {path}: line {n}: expected {{id, category, question, references}}: {_why(exc)}", err=True)
            bad += 1  # one bad line costs that question only
            continue
        category = category_slug(row.category)
        if category is None:
            typer.echo(f"error: {path}: line {n}: category {row.category!r} is neither a bank category nor a slug", err=True)
            bad += 1
            continue
        drafts.append(Draft(row.id, category, row.type, row.question, row.question_en, row.references, [path.name]))
    if not drafts and not bad:
        fail(f"{path}: no questions")
    return drafts, bad


def _why(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc']) or 'line'}: {err['msg']}"
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply"
    return str(exc).splitlines()[0][:200]

