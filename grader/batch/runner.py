"""Running a batch: read transcripts, match questions, grade every matched answer concurrently.
Each finished grading is in the store the moment it finishes, so an interrupted run loses
nothing and the same command resumes it (finished items come back from the store)."""

from __future__ import annotations

import asyncio
import glob
import time
from collections.abc import Callable
from pathlib import Path

from grader.batch.matching import QuestionMatcher
from grader.batch.models import BatchItem, BatchSummary, TranscriptResult

TRANSCRIPT_SUFFIXES = {".txt", ".md", ".markdown", ".srt", ".vtt", ".json", ".jsonl", ".ndjson"}


class BatchInputError(ValueError):
    pass


def collect_paths(args: list[str]) -> list[Path]:
    """Files as given; directories searched recursively for transcript files; globs expanded."""
    out: list[Path] = []
    for arg in args:
        if any(ch in arg for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(arg, recursive=True))
            if not matches:
                raise BatchInputError(f"{arg}: no file matches")
            out.extend(p for p in matches if p.is_file())
            continue
        p = Path(arg)
        if p.is_dir():
            found = sorted(
                q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in TRANSCRIPT_SUFFIXES and q.name != "README.md"
            )
            if not found:
                raise BatchInputError(f"{arg}: no transcript files in this directory")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise BatchInputError(f"{arg}: no such file or directory")
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def load_transcripts(
    paths: list[Path], matcher: QuestionMatcher, min_match: float, fmt: str = "auto", labels: dict | None = None
) -> list[TranscriptResult]:
    from grader.transcripts import TranscriptError, read_transcript

    results = []
    for path in paths:
        try:
            t = read_transcript(path, fmt, labels)
        except TranscriptError as exc:
            results.append(TranscriptResult(path=str(path), format=fmt, encoding="", role_source="", error=str(exc)))
            continue
        items = []
        for pair in t.pairs:
            m = matcher.match(pair.question, pair.question_id)
            matched = m.question_id is not None and m.confidence >= min_match
            items.append(
                BatchItem(
                    transcript=str(path),
                    index=pair.index,
                    question=pair.question or (pair.question_id or ""),
                    answer=pair.full_answer(),
                    follow_ups=[f.question for f in pair.follow_ups],
                    start=pair.start,
                    source=str(pair.source),
                    question_id=m.question_id if matched else None,
                    match_confidence=m.confidence,
                    match_method=m.method,
                    candidates=m.candidates,
                    status="pending" if matched else "unmatched",
                    error=None if matched else _unmatched_reason(pair, m, min_match),
                )
            )
        results.append(
            TranscriptResult(
                path=str(path),
                format=t.format,
                encoding=t.encoding,
                role_source=t.role_source,
                items=items,
                skipped=t.skipped,
                warnings=t.warnings,
            )
        )
    return results


def _unmatched_reason(pair, m, min_match: float) -> str:
    if pair.question_id:
        hint = f"; did you mean {', '.join(c for c, _ in m.candidates)}?" if m.candidates else ""
        return f"question id {pair.question_id!r} is not in the bank{hint}"
    if m.question_id is None:
        return "no bank question to compare with"
    return f"closest bank question {m.question_id!r} matches with confidence {m.confidence:.2f} < {min_match:.2f}"


class RateLimiter:
    """At most `rate` judge requests started per second (the endpoint's 429s are retried by
    the client on top of this)."""

    def __init__(self, rate: float | None):
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


async def run_items(
    items: list[BatchItem],
    grader,
    bank,
    concurrency: int = 4,
    rate: float | None = None,
    on_done: Callable[[BatchItem], None] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Grade the pending items; each item's outcome is written onto it. One item failing is
    recorded and the others go on. When `stop` is set, no new item starts and running ones are
    cancelled (they stay pending)."""
    semaphore = asyncio.Semaphore(max(1, concurrency))
    limiter = RateLimiter(rate)
    stop = stop or asyncio.Event()

    async def one(item: BatchItem) -> None:
        async with semaphore:
            if stop.is_set():
                return
            rubric = bank.get(item.question_id)
            if not grader.is_cached(rubric, item.answer):
                await limiter.wait()
            try:
                outcome = await grader.agrade(rubric, item.answer, source=f"batch:{item.key}")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - recorded on the item; the batch goes on
                item.status, item.error = "failed", f"{type(exc).__name__}: {exc}"
            else:
                item.grading, item.grading_id = outcome.grading, outcome.grading_id
                item.status = outcome.grading.status
                item.error = outcome.grading.reason
            if on_done:
                on_done(item)

    tasks = [asyncio.create_task(one(i)) for i in items if i.status == "pending"]
    waiter = asyncio.create_task(stop.wait())
    pending = set(tasks)
    while pending:
        done, pending = await asyncio.wait(pending | {waiter}, return_when=asyncio.FIRST_COMPLETED)
        pending.discard(waiter)
        if stop.is_set():
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            break
    waiter.cancel()


def summarise(results: list[TranscriptResult], interrupted: bool = False) -> BatchSummary:
    items = [i for r in results for i in r.items]

    def count(status: str) -> int:
        return sum(1 for i in items if i.status == status)

    graded = [i for i in items if i.grading is not None]
    return BatchSummary(
        transcripts=len(results),
        items=len(items),
        graded=count("graded"),
        unscored=count("unscored"),
        failed=count("failed") + sum(1 for r in results if r.error),
        unmatched=count("unmatched"),
        pending=count("pending"),
        from_store=sum(1 for i in graded if i.grading.cached),
        judge_calls=sum(i.grading.usage.calls for i in graded if not i.grading.cached),
        interrupted=interrupted,
    )


def estimate_llm_usage(items: list[BatchItem], bank, samples: int) -> tuple[int, int, int]:
    """(calls, input tokens, output tokens) a run with the LLM judge would need: a rough count
    (a CJK character ~ 1 token, else 4 characters a token), before repairs and retries."""
    from grader.judges.prompt import load_template, render

    template = load_template()
    calls = tin = tout = 0
    for item in items:
        if item.question_id is None:
            continue
        rubric = bank.get(item.question_id)
        system, user = render(template, rubric, item.answer, "zh")
        calls += samples
        tin += samples * _tokens(system + user)
        tout += samples * (120 + 90 * len(rubric.criteria))
    return calls, tin, tout


def _tokens(text: str) -> int:
    cjk = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")
    return cjk + (len(text) - cjk) // 4
