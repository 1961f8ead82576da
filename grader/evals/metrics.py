"""Agreement between a judge and expected (or human) grades."""

from __future__ import annotations

import math

BUCKETS = (20, 40, 60, 80)  # score bands for weighted kappa: 0-20, 20-40, ... 80-100


def bucket(percent: float) -> int:
    return sum(percent >= b for b in BUCKETS)


def _finite(x: float) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), 4)


def spearman(expected: list[float], got: list[float]) -> float | None:
    if len(expected) < 3 or len(set(expected)) < 2 or len(set(got)) < 2:
        return None
    from scipy.stats import spearmanr

    return _finite(spearmanr(expected, got).statistic)


def pearson(expected: list[float], got: list[float]) -> float | None:
    if len(expected) < 3 or len(set(expected)) < 2 or len(set(got)) < 2:
        return None
    from scipy.stats import pearsonr

    return _finite(pearsonr(expected, got).statistic)


def quadratic_kappa(expected: list[float], got: list[float]) -> float | None:
    """Quadratic weighted kappa over score buckets."""
    if len(expected) < 2:
        return None
    from sklearn.metrics import cohen_kappa_score

    a, b = [bucket(x) for x in expected], [bucket(x) for x in got]
    if len(set(a) | set(b)) < 2:
        return 1.0
    return _finite(cohen_kappa_score(a, b, weights="quadratic", labels=list(range(len(BUCKETS) + 1))))


VERDICTS = ["missed", "partial", "met"]


def verdict_confusion(expected: list[str], got: list[str]) -> dict[str, dict[str, int]]:
    """rows: expected (or human) verdict; columns: the judge's."""
    table = {e: {g: 0 for g in VERDICTS} for e in VERDICTS}
    for e, g in zip(expected, got):
        table[e][g] += 1
    return table


def verdict_kappa(expected: list[str], got: list[str]) -> float | None:
    if not expected:
        return None
    from sklearn.metrics import cohen_kappa_score

    if len(set(expected) | set(got)) < 2:
        return 1.0
    return _finite(cohen_kappa_score(expected, got, weights="linear", labels=VERDICTS))
