"""The LLM judge: any chat model langchain can reach, with an OpenAI-compatible endpoint as the
main path. JSON mode, pydantic validation and one repair attempt; every quote is checked
against the answer; an unusable reply becomes `unscored`, never a score."""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections import Counter
from dataclasses import dataclass, field

from grader.config import LLMSettings
from grader.grading.evidence import AnswerIndex, quote_problem
from grader.grading.feedback import answer_language, build_feedback
from grader.grading.models import (
    VERDICT_FRACTION,
    CriterionGrade,
    Feedback,
    Grading,
    JudgeInfo,
    MisconceptionHit,
    Usage,
    graded,
    unscored,
)
from grader.judges.prompt import load_template, render
from grader.judges.reply import JudgeReply, ReplyError, parse_reply
from grader.rubric.models import Rubric

REVIEW_AGREEMENT = 2 / 3  # below this share of samples agreeing, a criterion needs a human look
MAX_KEPT_REPLY_CHARS = 20_000  # of each raw reply kept with a grading
MAX_REPAIR_ECHO_CHARS = 4_000  # of a bad reply sent back in the repair request


def _capped(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit:,} more characters not kept]"
_ORDER = {"missed": 0, "partial": 1, "met": 2}


class JudgeUnavailable(RuntimeError):
    """The judge cannot run at all (no model configured, provider package missing)."""


def make_chat_model(settings: LLMSettings, temperature: float):
    if not settings.model:
        raise JudgeUnavailable(
            "no LLM model configured: set GRADER_LLM_MODEL (and GRADER_LLM_BASE_URL / GRADER_LLM_API_KEY) "
            "or [llm] model in the config file, or use --judge offline"
        )
    key = settings.api_key.get_secret_value() if settings.api_key else None
    if settings.provider == "openai":
        import openai
        from langchain_openai import ChatOpenAI

        # Own HTTP clients: langchain-openai otherwise shares one cached async client per
        # (base_url, timeout) across event loops, and a kept-alive connection from a finished
        # loop fails with "Event loop is closed" on the next grading in the same process.
        clients = {"http_client": openai.DefaultHttpxClient(), "http_async_client": openai.DefaultAsyncHttpxClient()}
        model = ChatOpenAI(
            model=settings.model,
            base_url=settings.base_url,
            api_key=key or "not-needed",  # local servers (vLLM, Ollama, llama.cpp) take any key
            temperature=temperature,
            timeout=settings.timeout_s,
            max_retries=settings.max_retries,  # the OpenAI client backs off and honours Retry-After
            **clients,
        )
        return model.bind(response_format={"type": "json_object"}) if settings.json_mode else model
    from langchain.chat_models import init_chat_model

    kwargs = {"temperature": temperature, "timeout": settings.timeout_s, "max_retries": settings.max_retries}
    if key:
        kwargs["api_key"] = key
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    try:
        return init_chat_model(settings.model, model_provider=settings.provider, **kwargs)
    except ImportError as exc:
        raise JudgeUnavailable(f"provider {settings.provider!r} needs a package that is not installed: {exc}") from None


@dataclass
class _Sample:
    reply: JudgeReply | None = None
    raw: list[str] = field(default_factory=list)
    error: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0


def _error_text(exc: Exception) -> str:
    name = type(exc).__name__
    if "Timeout" in name:
        return "the judge did not answer in time (timeout)"
    status = getattr(exc, "status_code", None)
    if status == 429:
        return "the judge's endpoint kept refusing with 429 (rate limit) after retries"
    if status:
        return f"the judge's endpoint answered HTTP {status}"
    if "Connection" in name:
        return "cannot connect to the judge's endpoint"
    return f"{name}: {str(exc).splitlines()[0][:200] if str(exc) else ''}".rstrip(": ")


class LLMJudge:
    kind = "llm"

    def __init__(self, settings: LLMSettings, prompt_path: str | None = None):
        self.settings = settings
        self.template = load_template(prompt_path)
        temperature = settings.temperature if settings.samples == 1 else settings.sample_temperature
        self._temperature = temperature
        # Built now so a bad configuration fails before any grading; it serves the first event loop.
        self._unbound = make_chat_model(settings, temperature)
        self._models: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # event loop -> model
        self._local = threading.local()

    def info(self) -> JudgeInfo:
        s = self.settings
        params = s.public()
        params["temperature"] = self._temperature
        return JudgeInfo(
            kind="llm",
            model=f"{s.provider}:{s.model}",
            endpoint=s.base_url,
            prompt_hash=self.template.hash,
            params=params,
            samples=s.samples,
        )

    def grade(self, rubric: Rubric, answer: str) -> Grading:
        # One event loop per thread, kept between gradings, so connections are reused.
        runner = getattr(self._local, "runner", None)
        if runner is None:
            runner = self._local.runner = asyncio.Runner()
        return runner.run(self.agrade(rubric, answer))

    def _loop_model(self):
        """The chat model whose async HTTP client belongs to the running event loop."""
        loop = asyncio.get_running_loop()
        model = self._models.get(loop)
        if model is None:
            # Its HTTP client binds to a loop on first use, so the one built in __init__ can
            # still serve this loop; later loops get their own.
            model, self._unbound = self._unbound or make_chat_model(self.settings, self._temperature), None
            self._models[loop] = model
        return model

    async def agrade(self, rubric: Rubric, answer: str) -> Grading:
        started = time.perf_counter()
        lang = answer_language(answer)
        system, user = render(self.template, rubric, answer, lang)
        samples = await asyncio.gather(
            *(self._sample(rubric, system, user) for _ in range(self.settings.samples))
        )
        usage = self._usage(samples, time.perf_counter() - started)
        raw = [r for s in samples for r in s.raw]  # kept with every grading, graded or not
        index = AnswerIndex(answer)
        checked: list[tuple[_Sample, list[CriterionGrade], list[str]]] = []
        for s in samples:
            if s.reply is None:
                continue
            notes: list[str] = []
            criteria = _checked_criteria(rubric, s.reply, index, notes)
            failure = _evidence_failure(criteria)
            if failure:
                s.reply, s.error = None, failure
                continue
            checked.append((s, criteria, notes))
        if not checked:
            errors = [s.error for s in samples if s.error]
            return unscored(rubric, self.info(), errors[0] if errors else "judge failed", raw, usage)
        grading = self._aggregate(rubric, index, lang, checked)
        grading.usage = usage
        grading.raw_replies = raw
        failed = [s.error for s in samples if s.reply is None]
        if failed:
            grading.notes.append(f"{len(failed)} of {len(samples)} samples failed: {failed[0]}")
        return grading

    async def _sample(self, rubric: Rubric, system: str, user: str) -> _Sample:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        out = _Sample()
        messages = [SystemMessage(system), HumanMessage(user)]
        for attempt in range(2):  # the first answer, then one repair attempt
            try:
                msg = await self._loop_model().ainvoke(messages)
            except Exception as exc:  # noqa: BLE001 - any provider error becomes `unscored`
                out.error = _error_text(exc)
                return out
            out.calls += 1
            meta = getattr(msg, "usage_metadata", None) or {}
            out.input_tokens += int(meta.get("input_tokens", 0) or 0)
            out.output_tokens += int(meta.get("output_tokens", 0) or 0)
            text = msg.content if isinstance(msg.content, str) else str(msg.content or "")
            out.raw.append(_capped(text, MAX_KEPT_REPLY_CHARS))
            try:
                out.reply = parse_reply(text, rubric)
                out.error = None
                return out
            except ReplyError as exc:
                out.error = f"judge output unparseable: {exc}"
                messages = messages + [
                    AIMessage(_capped(text, MAX_REPAIR_ECHO_CHARS)),
                    HumanMessage(
                        f"Your reply could not be used: {exc}. Reply again with only the JSON object of the "
                        "required shape, giving every criterion id exactly once."
                    ),
                ]
        return out

    def _usage(self, samples: list[_Sample], elapsed: float) -> Usage:
        s = self.settings
        tin = sum(x.input_tokens for x in samples)
        tout = sum(x.output_tokens for x in samples)
        cost = None
        if s.price_input_per_mtok is not None and s.price_output_per_mtok is not None:
            cost = round((tin * s.price_input_per_mtok + tout * s.price_output_per_mtok) / 1e6, 6)
        return Usage(
            calls=sum(x.calls for x in samples),
            input_tokens=tin,
            output_tokens=tout,
            cost_usd=cost,
            latency_s=round(elapsed, 3),
        )

    def _aggregate(self, rubric: Rubric, index: AnswerIndex, lang: str, checked: list) -> Grading:
        replies: list[JudgeReply] = [s.reply for s, _, _ in checked]
        per_sample = [criteria for _, criteria, _ in checked]
        notes: list[str] = [n for _, _, sample_notes in checked for n in sample_notes]
        criteria: list[CriterionGrade] = []
        n = len(replies)
        for i, crit in enumerate(rubric.criteria):
            votes = [sample[i] for sample in per_sample]
            counts = Counter(v.verdict for v in votes)
            top = max(counts.values())
            # Ties go to the lower verdict: credit needs a majority.
            verdict = min((v for v, c in counts.items() if c == top), key=_ORDER.__getitem__)
            chosen = next(v for v in votes if v.verdict == verdict)
            agreement = top / n
            chosen.confidence = round(agreement, 2) if n > 1 else None
            withdrawn = {"evidence_not_found", "evidence_rejected"} & set(chosen.flags)
            chosen.needs_review = n > 1 and agreement < REVIEW_AGREEMENT or bool(withdrawn)
            if n > 1 and agreement < 1:
                chosen.flags.append("borderline" if agreement < REVIEW_AGREEMENT else "split")
            criteria.append(chosen)
        misconceptions = _majority_misconceptions(rubric, replies, index, lang, notes)
        first = replies[0].feedback
        base = build_feedback(rubric, criteria, misconceptions, lang)
        feedback = Feedback(
            summary=base.summary,
            missing=first.missing or base.missing,
            fix=first.fix or base.fix,
            follow_up=first.follow_up or base.follow_up,
        )
        return graded(rubric, self.info(), criteria, misconceptions, feedback, notes=sorted(set(notes), key=notes.index))


def _checked_criteria(rubric: Rubric, reply: JudgeReply, index: AnswerIndex, notes: list[str]) -> list[CriterionGrade]:
    """The evidence check: credit resting only on quotes that are not in the answer, say too
    little, bear on another point, or are the answer's own instructions to the grader is withdrawn."""
    by_id = {c.id: c for c in reply.criteria}
    out = []
    for crit in rubric.criteria:
        rc = by_id[crit.id]
        evidence = [index.verify(q) for q in rc.evidence[:20] if q.strip()]
        rejected: list[str] = []
        for i, e in enumerate(evidence):
            if not e.verified:
                continue
            problem = quote_problem(e.quote, crit)
            if problem:  # in the answer, but no evidence: shown unverified, never highlighted
                evidence[i] = e.model_copy(update={"verified": False, "start": None, "end": None})
                rejected.append(problem)
        verified = [e for e in evidence if e.verified]
        verdict, flags, rationale = rc.verdict, [], rc.reasoning
        if verdict != "missed" and not verified:
            if rejected:
                flags.append("evidence_rejected")
                why = rejected[0]
            else:
                flags.append("evidence_not_found")
                why = "no quote given" if not evidence else "the quoted evidence is not in the answer"
            rationale = f"Credit withdrawn ({why}); judge said {verdict}: {rc.reasoning}"
            notes.append(f"{crit.id}: judge's {verdict} withdrawn, {why}")
            verdict = "missed"
        elif len(verified) < len(evidence):
            flags.append("some_evidence_not_found")
        out.append(
            CriterionGrade(
                id=crit.id,
                verdict=verdict,
                points=round(crit.points * VERDICT_FRACTION[verdict], 2),
                max_points=crit.points,
                evidence=evidence,
                evidence_verified=bool(verified) and len(verified) == len(evidence),
                rationale=rationale,
                confidence=None,
                flags=flags,
            )
        )
    return out


def _evidence_failure(criteria: list[CriterionGrade]) -> str | None:
    """A judge whose credit the evidence check withdrew from most criteria has failed (it
    paraphrased, or obeyed the answer): the sample is unusable, never a confident low score."""
    withdrawn = [c.id for c in criteria if {"evidence_not_found", "evidence_rejected"} & set(c.flags)]
    if len(withdrawn) * 2 > len(criteria):
        return (
            f"the judge's evidence failed the check: credit withdrawn from {len(withdrawn)} of "
            f"{len(criteria)} criteria ({', '.join(withdrawn)})"
        )
    return None


def _majority_misconceptions(
    rubric: Rubric, replies: list[JudgeReply], index: AnswerIndex, lang: str, notes: list[str]
) -> list[MisconceptionHit]:
    listed = {m.id: m for m in rubric.misconceptions}
    votes: Counter[str] = Counter()
    evidence: dict[str, list] = {}
    for reply in replies:
        seen = set()
        for rm in reply.misconceptions:
            if rm.id not in listed:
                notes.append(f"misconception {rm.id!r} is not in the rubric: ignored")
                continue
            checked = [e for e in (index.verify(q) for q in rm.evidence) if e.verified]
            if not checked:
                notes.append(f"misconception {rm.id!r} reported without a quote from the answer: ignored")
                continue
            if rm.id not in seen:
                votes[rm.id] += 1
                evidence.setdefault(rm.id, checked)
                seen.add(rm.id)
    hits = []
    for mid, count in votes.items():
        if count * 2 > len(replies):
            m = listed[mid]
            hits.append(
                MisconceptionHit(
                    id=mid,
                    claim=getattr(m.claim, lang),
                    correction=getattr(m.correction, lang),
                    penalty=m.penalty,
                    evidence=evidence[mid],
                )
            )
    return hits
