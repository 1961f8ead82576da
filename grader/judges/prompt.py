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
_DELIMITER = re.compile(r"<\s*/?\s*candidate[\s_-]*answer\s*>", re.IGNORECASE)
# Control tokens of common chat templates (ChatML/Qwen, Llama 2/3, Mistral, Gemma, Phi, GPT):
# in the answer they are text, never a turn boundary.
_CHAT_TOKEN = re.compile(
    r"<\|[^|<>\n]{1,40}\|>"  # <|im_start|>, <|im_end|>, <|endoftext|>, <|eot_id|>, <|start_header_id|>
    r"|\[/?(INST|SYS|AVAILABLE_TOOLS|TOOL_CALLS|TOOL_RESULTS)\]"  # [INST] ... [/INST]
    r"|<</?SYS>>"
    r"|<\s*/?\s*(start_of_turn|end_of_turn|bos|eos|s|system|user|assistant|im_start|im_end)\s*>",
    re.IGNORECASE,
)


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
    """The answer cannot close its own delimiter or open a chat turn and smuggle text outside
    it. Look-alikes are found in what a reader (or a tokenizer) sees: each character's NFKC
    form (full-width < becomes <) with invisible characters (zero-width space, word joiner, soft
    hyphen, bidi controls) dropped. Only the matched spans are replaced; the rest of the answer
    reaches the judge exactly as written."""
    from grader.grading.evidence import strip_invisible

    chars: list[str] = []
    origin: list[int] = []  # for each character of the folded text, the answer offset it came from
    for i, ch in enumerate(answer):
        for f in strip_invisible(ch):
            chars.append(f)
            origin.append(i)
    folded = "".join(chars)
    spans: list[tuple[int, int, str]] = []
    for pattern, replace in ((_DELIMITER, lambda m: "[candidate_answer]"),
                             (_CHAT_TOKEN, lambda m: "‹" + m.group().strip("<>[]|/ ") + "›")):
        for m in pattern.finditer(folded):
            spans.append((origin[m.start()], origin[m.end() - 1] + 1, replace(m)))
    out, pos = [], 0
    for start, end, text in sorted(spans):
        if start < pos:
            continue  # overlaps one already replaced
        out.append(answer[pos:start] + text)
        pos = end
    out.append(answer[pos:])
    return "".join(out)


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
