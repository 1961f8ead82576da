"""`grader review`: record a person's grade for a stored grading."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from grader.cli.common import DbOpt, JsonOpt, console, fail, open_store, print_json


def review(
    grading_id: Annotated[int | None, typer.Argument(help="Stored grading id (see `grader history`).", show_default=False)] = None,
    score: Annotated[float | None, typer.Option("--score", help="Your score, in the grading's points.", show_default=False)] = None,
    percent: Annotated[float | None, typer.Option("--percent", min=0, max=100, help="Your score as a percent.", show_default=False)] = None,
    verdict: Annotated[
        list[str] | None,
        typer.Option("--verdict", "-v", help="CRITERION=met|partial|missed (repeatable); unnamed criteria keep the judge's verdict.", show_default=False),
    ] = None,
    reviewer: Annotated[str | None, typer.Option("--reviewer", help="Who reviewed.", show_default=False)] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why.", show_default=False)] = None,
    pending: Annotated[bool, typer.Option("--pending", help="List gradings the judge flagged for review.")] = False,
    json_out: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Record a human grade for a stored grading; `grader evals agreement` compares judge and humans."""
    from grader.store.reviews import add_review, needing_review, percent_from_verdicts

    store = open_store(db)
    if pending:
        rows = needing_review(store)
        if json_out:
            print_json([{"id": r["id"], "question_id": r["question_id"], "percent": r["percent"]} for r in rows])
        else:
            for r in rows:
                console().print(f"{r['id']:>6}  {r['question_id']:<28} {r['percent']:g}%  {r['created_at'][:19]}", highlight=False)
            if not rows:
                typer.echo("Nothing flagged for review.")
        return
    if grading_id is None:
        fail("give a grading id (see `grader history`), or --pending")
    row = store.get(grading_id)
    if row is None:
        fail(f"no stored grading with id {grading_id}")
    if row["status"] != "graded":
        fail(f"grading {grading_id} is unscored ({json.loads(row['result']).get('reason')}); nothing to review")
    result = json.loads(row["result"])
    criteria = {c["id"] for c in result["criteria"]}
    verdicts = {c["id"]: c["verdict"] for c in result["criteria"]}
    for item in verdict or []:
        cid, sep, v = item.partition("=")
        if not sep or v not in ("met", "partial", "missed"):
            fail(f"--verdict expects CRITERION=met|partial|missed, not {item!r}")
        if cid not in criteria:
            fail(f"grading {grading_id} has no criterion {cid!r}; it has {', '.join(sorted(criteria))}")
        verdicts[cid] = v
    if score is not None and percent is not None:
        fail("give --score or --percent, not both")
    if score is not None:
        if not 0 <= score <= result["max_score"]:
            fail(f"--score must be between 0 and {result['max_score']:g}")
        human = round(100 * score / result["max_score"], 1)
    elif percent is not None:
        human = percent
    elif verdict:
        human = percent_from_verdicts(result, verdicts)
    else:
        fail("give --score, --percent or at least one --verdict")
    review_id = add_review(store, grading_id, human, verdicts, reviewer, note)
    if json_out:
        print_json({"review_id": review_id, "grading_id": grading_id, "percent": human, "verdicts": verdicts})
    else:
        typer.echo(f"review {review_id}: grading {grading_id} judged {row['percent']:g}%, you {human:g}%")
