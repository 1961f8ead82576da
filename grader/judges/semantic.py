"""A continuous score for rubrics with few criteria, blended into the offline judge's verdicts.

A rubric distilled from a one-sentence reference has one or two criteria, each met or missed by
a handful of the reference's own words: a correct paraphrase without those words would score
zero, and an answer with half of them the same as one with none. For such rubrics each
criterion's points blend its verdict with a continuous part: how much of the criterion's key
terms the answer covers (square root: the first terms matter most) and how close the answer is to
the criterion's statement (sentence embeddings). Sentences that assert a listed wrong claim, or
turn one of the criterion's relations round, contribute nothing to the continuous part."""

from __future__ import annotations

import math

import numpy as np

from grader.grading.models import CriterionGrade
from grader.rubric.models import Rubric

# Weight of the continuous part in a criterion's points, for a rubric distilled from references
# or with fewer than FEW_CRITERIA criteria; rubrics written with more criteria keep pure verdicts.
BLEND = 0.8
FEW_CRITERIA = 3
# Shares of the continuous part: the criterion's key-term groups found, the closest sentence's
# similarity to the criterion, and the reference answer's content words the answer uses (the
# question's own words left out, as graders of short answers do: repeating the question shows
# nothing). Each coverage counts by its square root: the first words matter most.
COVERAGE_SHARE = 0.36
SIMILARITY_SHARE = 0.24
REFERENCE_SHARE = 0.40
SIM_FLOOR, SIM_SPAN = 0.2, 0.6  # cosine below the floor is unrelated; floor + span is a paraphrase


def blend_weight(rubric: Rubric) -> float:
    return BLEND if rubric.origin == "distilled" or len(rubric.criteria) < FEW_CRITERIA else 0.0


def continuous(groups_found: int, groups: int, similarity: float, reference_recall: float) -> float:
    """A criterion's continuous score in [0, 1] from its key-term coverage, its similarity and
    the share of the reference's content words the answer uses."""
    coverage = groups_found / groups if groups else 0.0
    sim = min(1.0, max(0.0, (similarity - SIM_FLOOR) / SIM_SPAN))
    return (
        COVERAGE_SHARE * math.sqrt(coverage) + SIMILARITY_SHARE * sim
        + REFERENCE_SHARE * math.sqrt(max(0.0, min(1.0, reference_recall)))
    )


def reference_recall(rubric: Rubric, answer_words: frozenset[str]) -> float:
    """The largest share of one reference answer's content words that the answer uses, the
    question's words left out (unless they are all the reference has)."""
    from grader.text.terms import content_words

    asked = frozenset().union(*(content_words(q) for q in (rubric.question.zh, rubric.question.en)))
    best = 0.0
    for ref in rubric.reference_answer.texts():
        words = content_words(ref)
        words = (words - asked) or words
        if words:
            best = max(best, len(words & answer_words) / len(words))
    return best


def apply(rubric: Rubric, grades: list[CriterionGrade], texts: list[list[str]], weight: float) -> None:
    """Blend each criterion's points with its continuous score. `texts[i]` holds the sentences
    (normalised) that can speak for criterion i: those that assert no listed wrong claim, deny none
    of its concepts, turn none of its relations round, and are no bare list of terms. What the
    claim checks reject earns nothing from the continuous part either."""
    from grader.text import embed
    from grader.text.terms import content_words, find_group, words_of

    if weight <= 0 or not grades:
        return
    said = [[t for t in ts if t.strip()] for ts in texts]
    # The answer as a whole and each sentence: a criterion may be one sentence of a long answer.
    pieces = [["\n".join(ts), *ts] if len(ts) > 1 else ts for ts in said]
    distinct = list(dict.fromkeys(p for ps in pieces for p in ps))
    # A draft's untranslated side is a placeholder, not a statement: the written side stands in.
    statements = [t for c in rubric.criteria for t in _written(c.statement.zh, c.statement.en)]
    vecs = embed.encode(distinct + statements)
    row = {p: vecs[k] for k, p in enumerate(distinct)}
    stmt = vecs[len(distinct) :].reshape(len(rubric.criteria), 2, -1)
    recall: dict[str, float] = {}  # most criteria read the same sentences: segment them once
    for crit, grade, pair, ts, ps in zip(rubric.criteria, grades, stmt, said, pieces):
        if {"reversed_relation", "denied_point", "in_wrong_claim"} & set(grade.flags):
            continue  # a claim turned round or denied, or a wrong claim: the verdict stands alone
        score = 0.0
        if ts:
            text = "\n".join(ts)
            if text not in recall:
                recall[text] = reference_recall(rubric, content_words(text))
            words = words_of(text)
            found = sum(bool(find_group(g, text, words)) for g in crit.key_terms)
            similarity = float(np.max(pair @ np.stack([row[p] for p in ps]).T))
            score = continuous(found, len(crit.key_terms), similarity, recall[text])
        verdict = grade.points / grade.max_points if grade.max_points else 0.0
        grade.points = round(grade.max_points * ((1 - weight) * verdict + weight * score), 2)


def _written(zh: str, en: str) -> tuple[str, str]:
    from grader.rubric.distill import TO_WRITE, TO_WRITE_ZH

    if zh.startswith(TO_WRITE_ZH):
        zh = en
    if en.startswith(TO_WRITE):
        en = zh
    return zh, en
