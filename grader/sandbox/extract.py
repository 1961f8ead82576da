"""Finding the Python code in an answer, and the explanation around it.

Where code is, in order of preference:
1. fenced blocks (``` or ~~~) tagged python/py/python3: all of them, joined (helpers and the main
   function are often in separate blocks);
2. untagged fenced blocks that look like Python;
3. no fences: the whole answer when it parses and defines something, else a clear trailing part:
   from the first top-level `def`/`class`/`import`/decorator line to the longest stretch that
   parses (explanation after the code, e.g. "时间复杂度 O(n)", is left out).
Blocks tagged with another language (```cpp) are never taken: they stay in the explanation.
"""

from __future__ import annotations

import ast
import re
import textwrap
import threading
from dataclasses import dataclass

_PY_TAGS = frozenset({"python", "py", "python3", "py3", "ipython", "python2", "sage"})
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\s`]*)")
_START = re.compile(r"^(def |class |import |from \S+ import |@\w)")
_MAX_SCAN_LINES = 400  # bounds the search for the parseable stretch (quadratic in lines)


@dataclass(frozen=True)
class _Block:
    start: int  # line index of the opening fence
    end: int  # line index one past the closing fence
    tag: str
    body: str


def _blocks(lines: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, tag = m.group(1), m.group(2).lower().lstrip("{.")
        j = i + 1
        while j < len(lines):
            close = lines[j].strip()
            if close.startswith(fence[0] * len(fence)) and not close.strip(fence[0]):
                break
            j += 1
        body = textwrap.dedent("\n".join(lines[i + 1 : j]))
        blocks.append(_Block(i, min(j + 1, len(lines)), tag, body))  # an unclosed fence runs to the end
        i = j + 1
    return blocks


# CPython 3.11 before 3.11.8 keeps ast.parse's depth counter per interpreter, not per thread: two
# threads parsing at once (a batch grades answers in parallel) can fail with a SystemError.
_PARSE_LOCK = threading.Lock()


def parse_python(src: str) -> ast.Module:
    """ast.parse, one thread at a time. Raises what ast.parse raises."""
    with _PARSE_LOCK:
        return ast.parse(src)


def _parses(src: str) -> ast.Module | None:
    try:
        return parse_python(src)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _defines(tree: ast.Module) -> bool:
    return any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body)


def _looks_like_python(src: str) -> bool:
    tree = _parses(src)
    if tree is not None:
        # prose that happens to parse is a lone name or constant
        return any(not (isinstance(n, ast.Expr) and isinstance(n.value, (ast.Name, ast.Constant))) for n in tree.body)
    # broken code is still code: it should be reported as a syntax error, not as missing
    return bool(re.search(r"^\s*(def|class)\s+\w+", src, flags=re.MULTILINE))


def _bare_region(lines: list[str]) -> tuple[int, int] | None:
    """(start, end) line indices of the code in an answer without fences, or None."""
    whole = "\n".join(lines)
    tree = _parses(whole)
    if tree is not None and _defines(tree):
        return 0, len(lines)
    start = next((i for i, ln in enumerate(lines) if _START.match(ln)), None)
    if start is None:
        return None
    stop = min(len(lines), start + _MAX_SCAN_LINES)
    for end in range(stop, start, -1):
        if not lines[end - 1].strip():
            continue
        tree = _parses("\n".join(lines[start:end]))
        if tree is not None and _defines(tree):
            return start, end
    # nothing parses: hand over the whole tail if it defines something, to report the syntax error
    tail = "\n".join(lines[start:])
    return (start, len(lines)) if re.search(r"^(def|class)\s+\w+", tail, flags=re.MULTILINE) else None


def _locate(answer: str) -> tuple[str | None, list[tuple[int, int]]]:
    lines = answer.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks = _blocks(lines)
    if blocks:
        chosen = [b for b in blocks if b.tag in _PY_TAGS]
        if not chosen:
            chosen = [b for b in blocks if not b.tag and _looks_like_python(b.body)]
        if not chosen:
            return None, []
        code = "\n\n".join(b.body.strip("\n") for b in chosen)
        return code + "\n", [(b.start, b.end) for b in chosen]
    region = _bare_region(lines)
    if region is None:
        return None, []
    start, end = region
    return textwrap.dedent("\n".join(lines[start:end])).strip("\n") + "\n", [region]


def extract_code(answer: str) -> str | None:
    """The Python code in `answer`, or None when there is none."""
    code, _ = _locate(answer or "")
    return code if code and code.strip() else None


def split_answer(answer: str) -> tuple[str, str | None]:
    """(explanation, code): the answer without the code that was extracted, for the judge to
    grade the explanation, and the code (None when there is none)."""
    answer = answer or ""
    code, spans = _locate(answer)
    if not code or not code.strip():
        return answer.strip(), None
    lines = answer.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    drop: set[int] = set()
    for start, end in spans:
        drop.update(range(start, end))
    kept = [ln for i, ln in enumerate(lines) if i not in drop]
    explanation = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return explanation, code
