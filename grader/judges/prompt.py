"""The LLM judge's prompt template: loaded from prompts/, identified by its content hash, and
rendered with the answer's delimiters neutralised."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from string import Template

from grader.rubric.models import Rubric

PROMPT_ENV = "GRADER_PROMPT"
_DELIMITER = re.compile(r"<\s*/?\s*candidate_answer\s*>", re.IGNORECASE)


def shipped_prompt_path() -> Path:
    here = Path(__file__).resolve().parent.parent
    installed = here / "_data" / "prompts" / "judge.md"
    return installed if installed.exists() else here.parent / "prompts" / "judge.md"


@dataclass(frozen=True)
class PromptTemplate:
    system: Template
    user: Template
    hash: str
    path: str


@lru_cache(maxsize=8)
def load_template(path: str | None = None) -> PromptTemplate:
    p = Path(path or os.environ.get(PROMPT_ENV) or shipped_prompt_path())
    text = p.read_text(encoding="utf-8")
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    m = re.search(r"^## system\s*$(.*)^## user\s*$(.*)", text, flags=re.S | re.M)
    if not m:
        raise ValueError(f"{p}: the prompt needs a '## system' and a '## user' section")
    digest = hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]
    return PromptTemplate(Template(m.group(1).strip()), Template(m.group(2).strip()), digest, str(p))


def neutralise(answer: str) -> str:
    """The answer cannot close its own delimiter and smuggle text outside it."""
    return _DELIMITER.sub("[candidate_answer]", answer)


def render(template: PromptTemplate, rubric: Rubric, answer: str, lang: str) -> tuple[str, str]:
    ref = rubric.reference_answer
    reference = ref.en if (lang == "en" and ref.en) else ref.zh
    criteria = "\n".join(
        f"- {c.id} ({c.points:g} pt): {c.statement.en} / {c.statement.zh}" for c in rubric.criteria
    )
    misconceptions = "\n".join(f"- {m.id}: {m.claim.en} / {m.claim.zh}" for m in rubric.misconceptions) or "(none)"
    values = {
        "question_id": rubric.id,
        "question": f"{rubric.question.zh} / {rubric.question.en}",
        "reference_answer": reference,
        "criteria": criteria,
        "misconceptions": misconceptions,
        "answer": neutralise(answer),
        "feedback_language": "Chinese" if lang == "zh" else "English",
    }
    return template.system.safe_substitute(values), template.user.safe_substitute(values)
