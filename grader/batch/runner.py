"""Running a batch: read transcripts, match questions, grade every matched answer concurrently.
Each finished grading is in the store the moment it finishes, so an interrupted run loses
nothing and the same command resumes it (finished items come back from the store)."""

from __future__ import annotations

import asyncio
import contextlib
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

    read = []
    for path in paths:
        try:
            read.append((path, read_transcript(path, fmt, labels), None))
        except TranscriptError as exc:
            read.append((path, None, str(exc)))
    # Every question of every transcript is matched in one call (one embedding pass).
    pairs = [pair for _, t, _ in read if t is not None for pair in t.pairs]
    matches = iter(matcher.match_many([(p.question, p.question_id) for p in pairs]))
    results = []
    for path, t, error in read:
        if t is None:
            results.append(TranscriptResult(path=str(path), format=fmt, encoding="", role_source="", error=error))
            continue
        items = []
        for pair in t.pairs:
            m = next(matches)
            # Two bank questions that fit about equally: grading either would be a guess.
            matched = m.question_id is not None and m.confidence >= min_match and not m.ambiguous
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
    if m.ambiguous and len(m.candidates) > 1:
        (a, sa), (b, sb) = m.candidates[:2]
        return (
            f"matches bank questions {a!r} ({sa:.2f}) and {b!r} ({sb:.2f}) about equally well; "
            "give the question id in the transcript to grade it"
        )
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


OFFLINE_CHUNK = 256  # answers whose sentences are embedded together before they are graded
FLUSH_EVERY = 64  # gradings written per store transaction
CLAIM_TTL_S = 60.0  # a claim not renewed for this long belongs to a crashed process
CLAIM_POLL_S = 0.25  # how often a process waiting on another's claim looks again


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
    cancelled (they stay pending).

    The offline judge is CPU-bound: its items are graded one after another in this thread (on
    two cores, threads only add overhead), with every answer's sentences embedded in large
    batches first. Other judges wait on the network: `concurrency` items at once, and a claim in
    the store makes sure no two processes grade the same request at the same time."""
    stop = stop or asyncio.Event()
    todo = [i for i in items if i.status == "pending"]
    if grader.judge.kind == "offline":
        await _run_offline(todo, grader, bank, on_done, stop)
    else:
        await _run_concurrent(todo, grader, bank, concurrency, rate, on_done, stop)


def _record(item: BatchItem, outcome=None, exc: BaseException | None = None) -> None:
    if exc is not None:
        item.status, item.error = "failed", f"{type(exc).__name__}: {exc}"
        return
    item.grading, item.grading_id = outcome.grading, outcome.grading_id
    item.status = outcome.grading.status
    item.error = outcome.grading.reason


async def _run_offline(todo, grader, bank, on_done, stop: asyncio.Event) -> None:
    from grader.grading.service import AnswerError, check_answer
    from grader.text import embed

    def cleaned(answer: str) -> str:
        try:
            return check_answer(answer)
        except AnswerError:
            return ""

    with grader.deferred_saves():
        for start in range(0, len(todo), OFFLINE_CHUNK):
            chunk = todo[start : start + OFFLINE_CHUNK]
            if stop.is_set():
                break
            with embed.prefilled(cleaned(i.answer) for i in chunk):
                done: list[tuple[BatchItem, object]] = []
                for n, item in enumerate(chunk):
                    await asyncio.sleep(0)  # lets a Ctrl-C (the loop's signal handler) in
                    if stop.is_set():
                        break
                    try:
                        outcome = grader.grade(bank.get(item.question_id), item.answer, source=f"batch:{item.key}")
                    except Exception as exc:  # noqa: BLE001 - recorded on the item; the batch goes on
                        _record(item, exc=exc)
                    else:
                        _record(item, outcome)
                        done.append((item, outcome))
                    if on_done:
                        on_done(item)
                    if len(done) >= FLUSH_EVERY or n == len(chunk) - 1 or stop.is_set():
                        _flush(grader, done)
                        done = []
                _flush(grader, done)


def _flush(grader, done) -> None:
    try:
        grader.flush()
    except Exception as exc:  # noqa: BLE001 - the rows that could not be saved are failed items
        for item, outcome in done:
            if outcome.grading_id is None and not outcome.grading.cached and outcome.grading.status == "graded":
                item.status, item.error = "failed", f"not stored: {exc}"
        return
    for item, outcome in done:
        item.grading_id = outcome.grading_id if outcome.grading_id is not None else item.grading_id


async def _run_concurrent(todo, grader, bank, concurrency, rate, on_done, stop: asyncio.Event) -> None:
    semaphore = asyncio.Semaphore(max(1, concurrency))
    limiter = RateLimiter(rate)
    claims = Claims(grader.store) if grader.store is not None and grader.use_cache else None
    waiting: list[BatchItem] = []  # another process is grading the same request

    async def one(item: BatchItem) -> None:
        async with semaphore:
            if stop.is_set():
                return
            rubric = bank.get(item.question_id)
            key = None
            try:
                if not grader.is_cached(rubric, item.answer):
                    key = grader.key_for(rubric, item.answer)
                    if claims is not None and key is not None and not claims.take(key):
                        key = None
                        waiting.append(item)  # take other items first; come back for this one
                        return
                    await limiter.wait()
                outcome = await grader.agrade(rubric, item.answer, source=f"batch:{item.key}")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - recorded on the item; the batch goes on
                _record(item, exc=exc)
            else:
                _record(item, outcome)
            finally:
                if claims is not None and key is not None:
                    with contextlib.suppress(Exception):  # an unreleased claim expires by itself
                        claims.release(key)
            if on_done:
                on_done(item)

    async def wait_for_others() -> None:
        """Items another process holds: served from the store once it has saved them, or
        graded here when its claim is released without a result or expires."""
        while waiting and not stop.is_set():
            await asyncio.sleep(CLAIM_POLL_S)
            ready = []
            for item in list(waiting):
                rubric = bank.get(item.question_id)
                try:
                    ready_now = grader.is_cached(rubric, item.answer) or claims.free(grader.key_for(rubric, item.answer))
                except Exception:  # noqa: BLE001 - the store failed: one() records it on the item
                    ready_now = True
                if ready_now:
                    waiting.remove(item)
                    ready.append(item)
            await _gather([one(i) for i in ready], stop)

    heartbeat = asyncio.create_task(claims.keep_alive()) if claims is not None else None
    try:
        await _gather([one(i) for i in todo], stop)
        if claims is not None:
            await wait_for_others()
    finally:
        if heartbeat is not None:
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
        if claims is not None:
            claims.release_all()


async def _gather(coros, stop: asyncio.Event) -> None:
    """Run the coroutines; when `stop` is set, cancel those still running."""
    tasks = [asyncio.create_task(c) for c in coros]
    if not tasks:
        return
    waiter = asyncio.create_task(stop.wait())
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending | {waiter}, return_when=asyncio.FIRST_COMPLETED)
        pending.discard(waiter)
        if stop.is_set():
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            break
    waiter.cancel()


class Claims:
    """This process's claims on cache keys in the store: taken before a judge call, released
    after the result is saved, renewed while held. A process that dies leaves claims that
    expire after CLAIM_TTL_S."""

    def __init__(self, store):
        import os
        import secrets
        import socket

        self.store = store
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.held: set[str] = set()

    def take(self, key: str) -> bool:
        if self.store.claim(key, self.holder, CLAIM_TTL_S):
            self.held.add(key)
            return True
        return False

    def free(self, key: str) -> bool:
        """Whether no live claim holds `key` (it is then taken when graded)."""
        row = self.store.conn.execute("SELECT expires FROM claims WHERE cache_key = ?", (key,)).fetchone()
        return row is None or row[0] < time.time()

    def release(self, key: str) -> None:
        self.held.discard(key)
        self.store.release(key, self.holder)

    def release_all(self) -> None:
        for key in list(self.held):
            self.release(key)

    async def keep_alive(self) -> None:
        while True:
            await asyncio.sleep(CLAIM_TTL_S / 3)
            if self.held:
                self.store.renew_claims(self.holder, CLAIM_TTL_S)


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
