"""One grading request end to end: check the answer, serve an identical request from the store,
run the judge (and the candidate's code for coding questions), store the result."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from grader.grading.models import Grading, JudgeInfo, unscored
from grader.rubric.models import Rubric
from grader.store.db import Store, cache_key
from grader.text.normalize import has_lone_surrogates

MAX_ANSWER_CHARS = 20_000  # a long spoken answer is a few thousand characters


class AnswerError(ValueError):
    """The input is not an answer that can be graded (binary, far too long)."""


class Judge(Protocol):
    kind: str

    def info(self) -> JudgeInfo: ...

    def grade(self, rubric: Rubric, answer: str) -> Grading: ...


def check_answer(answer: str) -> str:
    if "\x00" in answer:
        raise AnswerError("the answer looks like binary data, not text")
    controls = sum(1 for ch in answer if ord(ch) < 32 and ch not in "\t\n\r")
    if controls > max(8, len(answer) // 100):
        raise AnswerError("the answer contains control characters; is it binary data?")
    if has_lone_surrogates(answer):  # e.g. "\ud800" escaped in a JSONL sheet
        raise AnswerError("the answer contains invalid characters (lone UTF-16 surrogates)")
    if len(answer) > MAX_ANSWER_CHARS:
        raise AnswerError(
            f"the answer is {len(answer):,} characters; the limit is {MAX_ANSWER_CHARS:,} (one interview answer)"
        )
    return answer.replace("\r\n", "\n").replace("\r", "\n")


def make_judge(kind: str, settings=None, prompt_path: str | None = None) -> Judge:
    if kind == "offline":
        from grader.judges.offline import OfflineJudge

        return OfflineJudge()
    if kind == "llm":
        from grader.config import load_settings
        from grader.judges.llm import LLMJudge

        settings = settings or load_settings()
        return LLMJudge(settings.llm, prompt_path)
    raise ValueError(f"unknown judge {kind!r}; choose offline or llm")


def default_judge_kind(settings) -> str:
    """The offline judge unless the user has chosen the LLM judge (config `judge = "llm"` or
    GRADER_JUDGE=llm): grading never spends money or needs a key by surprise."""
    return settings.judge or "offline"


def _code_untrusted(grading: Grading) -> bool:
    """A grading whose code was not run for want of isolation, or whose sandbox failed, is never
    served again: once the user installs bubblewrap or opts in, the same answer is run for real."""
    return any("code_not_run" in c.flags or "sandbox_failed" in c.flags for c in grading.criteria)


@dataclass
class Outcome:
    grading: Grading
    grading_id: int | None  # row in the store; None when nothing was stored


class Grader:
    def __init__(self, judge: Judge, store: Store | None = None, use_cache: bool = True, source: str | None = None):
        self.judge = judge
        self.store = store
        self.use_cache = use_cache
        self.source = source
        # While deferring (a batch): gradings wait here and are written by flush() in one
        # transaction; key -> outcome, so a repeated request is still served once.
        self._deferred: dict[str, tuple[Outcome, tuple]] | None = None

    def _key(self, rubric: Rubric, answer: str) -> str:
        info = self.judge.info()
        return cache_key(answer, rubric.content_hash(), info.prompt_hash, {"kind": info.kind, "model": info.model, **info.params})

    def is_cached(self, rubric: Rubric, answer: str) -> bool:
        """Whether grading this answer would be served from the store (no judge call)."""
        if self.store is None or not self.use_cache:
            return False
        try:
            return self.store.has_cached(self._key(rubric, check_answer(answer)))
        except AnswerError:
            return False

    def key_for(self, rubric: Rubric, answer: str) -> str | None:
        """The cache key of this request; None when it needs no judge (empty or invalid)."""
        try:
            answer = check_answer(answer)
        except AnswerError:
            return None
        return self._key(rubric, answer) if answer.strip() else None

    def _from_cache(self, rubric: Rubric, answer: str) -> tuple[str, Outcome | None]:
        key = self._key(rubric, answer)
        if self._deferred is not None and self.use_cache and key in self._deferred:
            done = self._deferred[key][0]
            if done.grading.status == "graded":
                return key, Outcome(done.grading.model_copy(update={"cached": True}), None)
        if self.store is not None and self.use_cache:
            hit = self.store.cached(key)
            if hit is not None and not _code_untrusted(hit[1]):
                return key, Outcome(hit[1], hit[0])
        return key, None

    def _finish(self, rubric: Rubric, answer: str, key: str, grading: Grading, source: str | None) -> Outcome:
        grading_id = None
        if self.store is not None and self._deferred is not None:
            outcome = Outcome(grading, None)
            slot = key if key not in self._deferred else f"{key}#{len(self._deferred)}"  # a retried unscored one
            self._deferred[slot] = (outcome, (grading, answer, rubric.category, key, source or self.source))
            return outcome
        if self.store is not None:
            grading_id = self.store.save(grading, answer, rubric.category, key, source or self.source)
        return Outcome(grading, grading_id)

    @contextmanager
    def deferred_saves(self) -> Iterator[None]:
        """Within the block gradings are saved by flush(), many rows in one transaction; what is
        left is flushed at the end."""
        self._deferred = {}
        try:
            yield
        finally:
            try:
                self.flush()
            finally:
                self._deferred = None

    def flush(self) -> None:
        """Save the deferred gradings in one transaction and give each outcome its row id. When
        the store refuses one row, the rows are saved one by one so only that one is lost; the
        error is raised after the others are in."""
        if not self._deferred or self.store is None:
            return
        pending, self._deferred = list(self._deferred.values()), {}
        try:
            ids = self.store.save_many([row for _, row in pending])
        except Exception:  # noqa: BLE001 - retried row by row below
            ids = []
            error: Exception | None = None
            for _, row in pending:
                try:
                    ids.append(self.store.save(*row))
                except Exception as exc:  # noqa: BLE001 - the first error is raised at the end
                    ids.append(None)
                    error = error or exc
            for (outcome, _), grading_id in zip(pending, ids):
                outcome.grading_id = grading_id
            if error is not None:
                raise error from None
            return
        for (outcome, _), grading_id in zip(pending, ids):
            outcome.grading_id = grading_id

    def _prepare(self, rubric: Rubric, answer: str) -> tuple[str, str, Outcome | None]:
        """(cleaned answer, cache key, outcome when no judge is needed: empty or cached)."""
        answer = check_answer(answer)
        if not answer.strip():
            return answer, "", Outcome(unscored(rubric, self.judge.info(), "empty answer: nothing to grade"), None)
        key, hit = self._from_cache(rubric, answer)
        return answer, key, hit

    def grade(self, rubric: Rubric, answer: str, source: str | None = None) -> Outcome:
        answer, key, done = self._prepare(rubric, answer)
        if done:
            return done
        grading = grade_with_code(self.judge, rubric, answer)
        return self._finish(rubric, answer, key, grading, source)

    async def agrade(self, rubric: Rubric, answer: str, source: str | None = None) -> Outcome:
        answer, key, done = self._prepare(rubric, answer)
        if done:
            return done
        agrade = getattr(self.judge, "agrade", None)
        if agrade is not None and rubric.code_check is None:
            grading = await agrade(rubric, answer)
        else:  # CPU-bound work (offline judge, sandboxed code) off the event loop
            grading = await asyncio.to_thread(grade_with_code, self.judge, rubric, answer)
        return self._finish(rubric, answer, key, grading, source)


def grade_with_code(judge: Judge, rubric: Rubric, answer: str) -> Grading:
    """For coding questions, run the candidate's code and let the test results decide the
    criteria they cover; the judge grades the rest (the explanation)."""
    if rubric.code_check is None:
        return judge.grade(rubric, answer)
    from grader.grading.code import grade_coding_answer

    return grade_coding_answer(judge, rubric, answer)
