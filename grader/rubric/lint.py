"""Semantic checks that a schema cannot express: uniqueness across and inside rubrics."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from grader.rubric.loader import LoadResult, Problem
from grader.rubric.categories import CATEGORIES
from grader.rubric.models import Rubric
from grader.text.normalize import compact


SHIPPED_MIN_CRITERIA = 3  # team rubrics distilled from a short reference may hold fewer


def _is_shipped(path: Path) -> bool:
    from grader.rubric.loader import shipped_bank_dir

    return shipped_bank_dir().resolve() in path.resolve().parents


def lint_rubric(path: Path, rubric: Rubric) -> list[Problem]:
    problems: list[Problem] = []
    if path.stem != rubric.id:
        problems.append(Problem(path, "id", f"id {rubric.id!r} does not match the file name {path.name!r}"))
    if path.parent.name in CATEGORIES and path.parent.name != rubric.category:
        problems.append(
            Problem(path, "category", f"{rubric.category!r} but the file is in the {path.parent.name!r} directory")
        )
    for kind, items in (("criteria", rubric.criteria), ("misconceptions", rubric.misconceptions)):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                problems.append(Problem(path, f"{kind}[{i}].id", f"duplicate id {item.id!r} inside this rubric"))
            seen.add(item.id)
    for i, crit in enumerate(rubric.criteria):
        for g, group in enumerate(crit.key_terms):
            if not any(term.strip() for term in group):
                problems.append(Problem(path, f"criteria[{i}].key_terms[{g}]", "key-term group has no terms"))
    shipped = _is_shipped(path)
    if shipped and rubric.category not in CATEGORIES:
        problems.append(Problem(path, "category", f"a shipped rubric's category must be one of: {', '.join(CATEGORIES)}"))
    if shipped and len(rubric.criteria) < SHIPPED_MIN_CRITERIA:
        problems.append(Problem(path, "criteria", f"a shipped rubric needs at least {SHIPPED_MIN_CRITERIA} criteria"))
    problems.extend(_reference_self_check(path, rubric))
    problems.extend(_relation_check(path, rubric))
    if rubric.type == "coding" and rubric.code_check is None:
        problems.append(Problem(path, "code_check", "a coding question needs a code_check"))
    if rubric.code_check is not None:
        ids = {c.id for c in rubric.criteria}
        for t, test in enumerate(rubric.code_check.tests):
            if test.criterion not in ids:
                problems.append(
                    Problem(path, f"code_check.tests[{t}].criterion", f"no criterion with id {test.criterion!r}")
                )
        for t, check in enumerate(rubric.code_check.structure):
            if check.criterion not in ids:
                problems.append(
                    Problem(path, f"code_check.structure[{t}].criterion", f"no criterion with id {check.criterion!r}")
                )
    return problems


def lint(result: LoadResult) -> list[Problem]:
    """Schema problems already in `result`, plus the semantic ones."""
    problems = list(result.problems)
    by_id: dict[str, list[Path]] = defaultdict(list)
    alias_owner: dict[str, tuple[str, Path]] = {}
    for path, rubric in result.rubrics:
        problems.extend(lint_rubric(path, rubric))
        by_id[rubric.id].append(path)
    for qid, paths in by_id.items():
        for dup in paths[1:]:
            problems.append(Problem(dup, "id", f"duplicate question id {qid!r} (also in {paths[0].name})"))
    for path, rubric in result.rubrics:
        own: set[str] = set()
        for i, alias in enumerate([rubric.question.zh, rubric.question.en, *rubric.aliases]):
            key = compact(alias)
            if not key or key in own:
                continue
            own.add(key)
            owner = alias_owner.get(key)
            if owner and owner[0] != rubric.id:
                field = f"aliases[{i - 2}]" if i >= 2 else "question"
                problems.append(Problem(path, field, f"phrasing {alias!r} is also used by question {owner[0]!r}"))
            else:
                alias_owner[key] = (rubric.id, path)
    return problems


def _reference_self_check(path: Path, rubric: Rubric) -> list[Problem]:
    """The reference answer must meet every criterion by its own key terms and must not
    contain any listed misconception: otherwise the rubric cannot grade its own answer."""
    from grader.text.normalize import normalize
    from grader.text.terms import find_claim, find_group, words_of

    problems: list[Problem] = []
    ref = rubric.reference_answer
    text = normalize("\n".join(ref.texts()))
    words = words_of(text)
    for i, crit in enumerate(rubric.criteria):
        missing = [g for g in crit.key_terms if not find_group(g, text, words)]
        if len(crit.key_terms) - len(missing) < crit.groups_needed:
            shown = "; ".join("/".join(g[:3]) for g in missing)
            problems.append(
                Problem(path, f"criteria[{i}].key_terms", f"the reference answer does not meet {crit.id!r}: no term of [{shown}]")
            )
    for i, mis in enumerate(rubric.misconceptions):
        for lang, body in (("zh", ref.zh), ("en", ref.en or "")):
            m = find_claim(mis.patterns, normalize(body))
            if m:
                problems.append(
                    Problem(path, f"misconceptions[{i}].patterns", f"matches the reference answer ({lang}): {m.group()!r}")
                )
    return problems


def _reference_claims(rubric: Rubric) -> list[str]:
    """The reference answer's claims as the offline judge reads them: each sentence, and runs of
    up to three adjacent sentences (a comparison told one side per sentence)."""
    from grader.text.normalize import normalize
    from grader.text.sentences import split_units

    claims: list[str] = []
    ref = rubric.reference_answer
    for body in (ref.zh, ref.en or ""):
        norms = [normalize(u.text) for u in split_units(body)]
        for size in (1, 2, 3):
            claims.extend("\x00".join(norms[j : j + size]) for j in range(len(norms) - size + 1))
    return claims


def _relation_check(path: Path, rubric: Rubric) -> list[Problem]:
    """Each relation must be satisfied by some claim of the reference answer, and that claim
    turned round automatically (binds' entities swapped, order and ratio roles exchanged, the
    subject's polarity flipped) must evaluate as reversed: otherwise the relation cannot tell a
    right answer from a wrong one."""
    from grader.judges.relations import describe, evaluate, reverse

    if not any(c.relations for c in rubric.criteria):
        return []
    claims = _reference_claims(rubric)
    problems: list[Problem] = []
    for i, crit in enumerate(rubric.criteria):
        for k, rel in enumerate(crit.relations):
            field = f"criteria[{i}].relations[{k}]"
            statuses = [evaluate(rel, c) for c in claims]
            turned_ref = next((c for c, st in zip(claims, statuses) if st == "reversed" and "\x00" not in c), None)
            if turned_ref is not None:
                problems.append(
                    Problem(path, field, f"{describe(rel)} ({crit.id!r}): the reference claim {turned_ref[:120]!r} evaluates as reversed")
                )
            claim = next((c for c, st in zip(claims, statuses) if st == "satisfied"), None)
            if claim is None:
                problems.append(Problem(path, field, f"no claim of the reference answer satisfies {describe(rel)} ({crit.id!r})"))
                continue
            turned = reverse(rel, claim)
            status = evaluate(rel, turned)
            if status != "reversed":
                shown = turned.replace("\x00", " ")[:120]
                problems.append(
                    Problem(path, field, f"{describe(rel)} ({crit.id!r}): the reversed reference claim {shown!r} evaluates as {status}, not reversed")
                )
    return problems

