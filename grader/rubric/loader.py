"""Loading rubrics from YAML files into validated models, reporting every problem as
`file: field: message`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from grader.rubric.models import Rubric

RUBRICS_ENV = "GRADER_RUBRICS"
MAX_RUBRIC_BYTES = 256 * 1024  # the bank's largest file is under 30 KB
MAX_RUBRIC_NODES = 20_000  # values after alias expansion; the bank's largest has about 1,500


@dataclass(frozen=True)
class Problem:
    path: Path
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{display_path(self.path)}: {self.field}" if self.field else display_path(self.path)
        return f"{where}: {self.message}"


@dataclass
class LoadResult:
    rubrics: list[tuple[Path, Rubric]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def shipped_bank_dir() -> Path:
    """The bank that ships with the package: inside an installed wheel, or the source tree."""
    here = Path(__file__).resolve().parent.parent
    installed = here / "_data" / "rubrics"
    return installed if installed.is_dir() else here.parent / "rubrics"


def _loc_to_field(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def load_file(path: Path) -> tuple[Rubric | None, list[Problem]]:
    import yaml
    from pydantic import ValidationError

    try:  # the C loader is several times faster; fall back where libyaml is missing
        from yaml import CSafeLoader as _Loader
    except ImportError:  # pragma: no cover
        from yaml import SafeLoader as _Loader  # type: ignore[assignment]

    try:
        if path.stat().st_size > MAX_RUBRIC_BYTES:
            return None, [Problem(path, "", f"file is larger than {MAX_RUBRIC_BYTES // 1024} KB; a rubric is a few KB")]
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [Problem(path, "", "not UTF-8 text")]
    except OSError as exc:
        return None, [Problem(path, "", f"cannot read: {exc.strerror}")]
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "yaml"
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [Problem(path, where, f"invalid YAML: {problem}")]
    if not isinstance(data, dict):
        return None, [Problem(path, "", "expected a mapping of rubric fields at the top level")]
    if _too_many_nodes(data, MAX_RUBRIC_NODES):
        # YAML aliases share one object however often it is referenced: counted expanded, a
        # small file can hold millions of terms ("billion laughs").
        return None, [Problem(path, "", f"more than {MAX_RUBRIC_NODES:,} values once YAML aliases are expanded")]
    try:
        return Rubric.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            elif err["type"] == "missing":
                msg = "required field is missing"
            problems.append(Problem(path, _loc_to_field(err["loc"]), msg))
        return None, problems


def _too_many_nodes(data: object, limit: int) -> bool:
    """Whether `data` holds more than `limit` values, counted as if every alias were expanded;
    stops counting at the limit, so it is cheap however large the expansion."""
    count = 0
    stack = [data]
    while stack:
        item = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def rubric_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(q for q in p.rglob("*.yaml") if q.is_file()))
            files.extend(sorted(q for q in p.rglob("*.yml") if q.is_file()))
        else:
            files.append(p)
    return files


def load_paths(paths: list[Path], use_cache: bool = True) -> LoadResult:
    """Every rubric under `paths`. Validated rubrics are kept in a cache keyed by each file's
    content, so the CLI starts fast; `grader rubric lint` reads afresh."""
    from grader.rubric import cache

    entries = cache.read() if use_cache else {}
    dirty = False
    result = LoadResult()
    for path in rubric_files(paths):
        key, stamp = cache.file_key(path)
        hit = entries.get(key)
        if hit is not None and hit[0] == stamp:
            result.rubrics.append((path, hit[1]))
            continue
        rubric, problems = load_file(path)
        result.problems.extend(problems)
        if rubric is not None:
            result.rubrics.append((path, rubric))
            if use_cache and stamp is not None:
                entries[key] = (stamp, rubric)
                dirty = True
    if dirty:
        cache.write(entries)
    return result


def bank_dirs(extra: list[Path] | None = None, include_shipped: bool = True) -> list[Path]:
    """The directories that make up the bank: the shipped one, then GRADER_RUBRICS
    (os.pathsep-separated), then --rubrics options. Later directories override earlier ids."""
    dirs = [shipped_bank_dir()] if include_shipped else []
    env = os.environ.get(RUBRICS_ENV, "")
    dirs.extend(Path(p) for p in env.split(os.pathsep) if p.strip())
    dirs.extend(extra or [])
    return dirs
