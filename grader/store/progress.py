"""Per-category progress from stored gradings: averages, trend, weakest topics."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class CategoryProgress:
    category: str
    attempts: int
    questions: int
    average: float  # mean percent over the latest attempt of each question
    trend: float | None  # mean of the later half of attempts minus the earlier half
    weakest: list[tuple[str, float]] = field(default_factory=list)


def summarise(rows) -> list[CategoryProgress]:
    """`rows`: graded rows in chronological order with question_id, category, percent."""
    by_cat: dict[str, list] = defaultdict(list)
    for r in rows:
        if r["percent"] is not None:
            by_cat[r["category"] or "unknown"].append(r)
    out = []
    for cat, items in by_cat.items():
        latest: dict[str, float] = {}
        for r in items:
            latest[r["question_id"]] = r["percent"]
        scores = [r["percent"] for r in items]
        trend = None
        if len(scores) >= 2:
            half = len(scores) // 2
            trend = round(sum(scores[half:]) / len(scores[half:]) - sum(scores[:half]) / half, 1)
        weakest = sorted(latest.items(), key=lambda kv: kv[1])[:3]
        out.append(
            CategoryProgress(
                category=cat,
                attempts=len(items),
                questions=len(latest),
                average=round(sum(latest.values()) / len(latest), 1),
                trend=trend,
                weakest=weakest,
            )
        )
    return sorted(out, key=lambda p: p.average)


def category_weights(progress: list[CategoryProgress], categories: list[str]) -> dict[str, float]:
    """Practice favours weak categories; a category never practised counts as weak."""
    avg = {p.category: p.average for p in progress}
    return {c: max(0.1, 1.0 - avg.get(c, 0.0) / 100.0) for c in categories}
