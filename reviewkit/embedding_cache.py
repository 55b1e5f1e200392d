"""Record embeddings kept in the database, so a review's abstracts are embedded only once.

A cached vector is keyed by record id and model name, and remembers the SHA-256 of the text it
was made from: when a record's text changes, its vector is made again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np

from reviewkit import embeddings as _embeddings
from reviewkit.errors import ReviewkitError
from reviewkit.store import Store
from reviewkit.store import vectors as vector_rows

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"


def model_name(model=None) -> str:
    """The name a model's vectors are cached under (the bundled MiniLM when None)."""
    if model is None or model is _embeddings._MODEL:
        return DEFAULT_MODEL_NAME
    for attribute in ("model_name", "name"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def text_sha256(text: str) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


def embeddings_for_records(store: Store, record_ids: Sequence[int], texts: Sequence[str], *,
                           model=None, name: str | None = None, batch_size: int = 64,
                           progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Return one L2-normalised vector per record, embedding only what the cache lacks.

    ``texts[i]`` is the text of ``record_ids[i]``; new or changed vectors are written back in
    one transaction.  ``progress(done, total)`` counts the texts that needed embedding.
    """
    if len(record_ids) != len(texts):
        raise ReviewkitError("embeddings_for_records needs one text per record id.")
    name = name or model_name(model)
    hashes = [text_sha256(t) for t in texts]
    cached = _read(store, list(record_ids), name)
    vectors: list[np.ndarray | None] = []
    missing = []
    for i, (rid, digest) in enumerate(zip(record_ids, hashes, strict=True)):
        hit = cached.get(rid)
        if hit is not None and hit[0] == digest:
            vectors.append(hit[1])
        else:
            vectors.append(None)
            missing.append(i)
    if missing:
        fresh = _embeddings.embed([texts[i] for i in missing], model=model,
                                  batch_size=batch_size, progress=progress)
        for i, vector in zip(missing, fresh, strict=True):
            vectors[i] = vector
        _write(store, [(record_ids[i], hashes[i], fresh[j]) for j, i in enumerate(missing)],
               name, replace={record_ids[i] for i in missing if record_ids[i] in cached})
    if not vectors:
        return np.zeros((0, 0), dtype=np.float32)
    return np.vstack(vectors).astype(np.float32)


def _read(store: Store, record_ids: list[int], name: str) -> dict[int, tuple[str, np.ndarray]]:
    with store.read() as conn:
        return vector_rows.read_vectors(conn, record_ids, name)


def _write(store: Store, rows: list[tuple[int, str, np.ndarray]], name: str, *,
           replace: set[int]) -> None:
    with store.write() as conn:
        vector_rows.write_vectors(conn, rows, name, replace=replace)


def forget_embeddings(store: Store, *, name: str | None = None) -> int:
    """Drop cached vectors (of one model, or all); return how many were dropped."""
    with store.write() as conn:
        return vector_rows.drop_vectors(conn, model=name)
