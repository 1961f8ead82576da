"""The question bank: every rubric from the shipped directory and any team directories."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from grader.rubric.loader import Problem, bank_dirs, load_paths
from grader.rubric.models import Rubric


class UnknownQuestion(LookupError):
    def __init__(self, question_id: str, suggestions: list[str]):
        self.question_id = question_id
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown question id {question_id!r}{hint}")


@dataclass
class Bank:
    rubrics: dict[str, Rubric]
    paths: dict[str, Path]
    problems: list[Problem]

    @classmethod
    def load(cls, extra_dirs: list[Path] | None = None, include_shipped: bool = True) -> Bank:
        result = load_paths(bank_dirs(extra_dirs, include_shipped))
        rubrics: dict[str, Rubric] = {}
        paths: dict[str, Path] = {}
        for path, rubric in result.rubrics:  # later directories override earlier ids
            rubrics[rubric.id] = rubric
            paths[rubric.id] = path
        ordered = dict(sorted(rubrics.items(), key=lambda kv: (_category_rank(kv[1]), kv[0])))
        return cls(ordered, paths, result.problems)

    def get(self, question_id: str) -> Rubric:
        try:
            return self.rubrics[question_id]
        except KeyError:
            raise UnknownQuestion(question_id, self.suggest(question_id)) from None

    def suggest(self, text: str, n: int = 3) -> list[str]:
        ids = list(self.rubrics)
        close = difflib.get_close_matches(text, ids, n=n, cutoff=0.5)
        if len(close) < n:  # also ids that contain the typed text
            close += [i for i in ids if text and text in i and i not in close][: n - len(close)]
        return close

    def filter(self, category: str | None = None, qtype: str | None = None) -> list[Rubric]:
        return [
            r
            for r in self.rubrics.values()
            if (category is None or r.category == category) and (qtype is None or r.type == qtype)
        ]


def _category_rank(rubric: Rubric) -> int:
    from grader.rubric.categories import CATEGORIES

    order = list(CATEGORIES)
    return order.index(rubric.category) if rubric.category in order else len(order)  # a team's own after the bank's
