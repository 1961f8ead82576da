"""The offline judge on answers written independently of the rubrics and the golden sets.

`evals/heldout/` holds five answers per concept question (complete, partial, swapped, reversed,
negated), written by examiners who never saw the golden sets, the rubrics or the judge, from the
question bank's key points alone. Each answer carries only the band a fair examiner would give
(wrong kinds at most 35%). Prints the share of answers in band, per kind, and for the wrong
answers made of the right words (swapped, reversed, negated). A measure of how far the golden
figures generalise, not a gate: the judge has been tuned on the golden sets only.

    python bench/heldout.py [--dir DIR] [--split first|second] [--show]

--dir: another set of answers in the same format (default: evals/heldout). `evals/heldout-b/`
is a second set of 285, written later by other examiners in the same way, which no change to the
judge or the rubrics was tuned on when it was added.

--split: the held-out questions in two halves (alphabetical): `first` holds a-d and p-y ids,
`second` the rest, so that a change studied on one half can be checked on the other.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HELDOUT = Path(__file__).resolve().parent.parent / "evals" / "heldout"
WRONG_KINDS = ("swapped", "reversed", "negated")
SECOND_HALF = ("dilated-conv", "pose-estimation-paradigms")  # alphabetical range of the second half


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")
    band: tuple[float, float]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    kind: Literal["complete", "partial", "swapped", "reversed", "negated"]
    lang: Literal["zh", "en"]
    text: str = Field(min_length=1, max_length=5000)
    expected: Expected
    note: str | None = None


class HeldOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question_id: str
    answers: list[Answer] = Field(min_length=1)


def _in_split(qid: str, split: str | None) -> bool:
    second = SECOND_HALF[0] <= qid <= SECOND_HALF[1]
    return split is None or (split == "second") == second


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=HELDOUT, help="held-out answers (default: evals/heldout)")
    ap.add_argument("--split", choices=["first", "second"])
    ap.add_argument("--show", action="store_true", help="list the answers out of band")
    args = ap.parse_args()
    if not args.dir.is_dir():
        ap.error(f"{args.dir}: no such directory")

    from grader.judges.offline import OfflineJudge
    from grader.rubric.bank import Bank

    bank, judge = Bank.load(), OfflineJudge()
    passed: dict[str, list[bool]] = {}
    misses, high = [], 0
    for path in sorted(args.dir.glob("*.yaml")):
        held = HeldOut.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        if not _in_split(held.question_id, args.split):
            continue
        rubric = bank.get(held.question_id)
        for a in held.answers:
            g = judge.grade(rubric, a.text)
            ok = g.percent is not None and a.expected.band[0] <= g.percent <= a.expected.band[1]
            passed.setdefault(a.kind, []).append(ok)
            if not ok:
                high += g.percent is not None and g.percent > a.expected.band[1]
                misses.append(f"  {held.question_id}/{a.id}: {g.percent}, expected {a.expected.band[0]:g}-{a.expected.band[1]:g}")
    every = [ok for oks in passed.values() for ok in oks]
    wrong = [ok for k in WRONG_KINDS for ok in passed.get(k, [])]
    print(f"held-out answers in band: {sum(every)}/{len(every)} = {sum(every) / max(1, len(every)):.3f}")
    for kind, oks in passed.items():
        print(f"  {kind:10} {sum(oks)}/{len(oks)}")
    print(f"wrong claims, right words: {sum(wrong)}/{len(wrong)} = {sum(wrong) / max(1, len(wrong)):.3f}")
    print(f"out of band: {len(misses) - high} too low (or unscored), {high} too high")
    if args.show:
        print("\n".join(misses))


if __name__ == "__main__":
    main()
