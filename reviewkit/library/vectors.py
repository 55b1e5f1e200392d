"""Entry embeddings, computed once and kept in a small file so later runs only embed new text.

Vectors are keyed by the embedding model and a hash of the exact text, so an edited entry is
embedded again and an unchanged one never is.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from reviewkit.embedding_cache import model_name
from reviewkit.embeddings import embed


def model_key(model) -> str:
    """Return the name one embedding model's vectors are kept under (as the record cache does)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", model_name(model))


def default_cache_path() -> Path:
    """Return the cache file beside the default database (``REVIEWKIT_DATA_DIR`` or ``data/``)."""
    folder = Path(os.environ.get("REVIEWKIT_DATA_DIR", "") or "data")
    return folder / "library_vectors.npz"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache:
    """Embedding rows on disk in one ``.npz`` file, one pair of arrays per model."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else default_cache_path()
        self._rows: dict[str, dict[str, np.ndarray]] = {}
        self._loaded = False
        self._dirty = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        try:
            with np.load(self.path, allow_pickle=False) as data:
                for name in data.files:
                    if name.endswith("__hashes"):
                        key = name[: -len("__hashes")]
                        hashes, vectors = data[name], data[key + "__vectors"]
                        self._rows[key] = dict(zip(hashes.tolist(), vectors, strict=True))
        except (OSError, ValueError, KeyError):
            # A missing or damaged cache only costs time: the vectors are computed again.
            self._rows = {}

    def embed(self, texts: list[str], *, model=None) -> np.ndarray:
        """Return embeddings for ``texts``, computing only those not already cached."""
        self._load()
        key = model_key(model)
        known = self._rows.setdefault(key, {})
        digests = [_digest(text) for text in texts]
        missing = sorted({d: t for d, t in zip(digests, texts, strict=True) if d not in known}.items())
        if missing:
            fresh = embed([text for _, text in missing], model=model)
            for (digest, _), vector in zip(missing, fresh, strict=True):
                known[digest] = vector
            self._dirty = True
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([known[d] for d in digests]).astype(np.float32)

    def forget(self, texts: list[str]) -> int:
        """Drop the vectors of ``texts`` under every model (a withdrawn story); return how many."""
        self._load()
        digests = {_digest(text) for text in texts}
        dropped = 0
        for rows in self._rows.values():
            for digest in digests & set(rows):
                del rows[digest]
                dropped += 1
        self._dirty = self._dirty or bool(dropped)
        return dropped

    def save(self) -> bool:
        """Write the cache if it changed; return False when the file could not be written."""
        if not self._dirty:
            return True
        arrays = {}
        for key, rows in self._rows.items():
            if rows:
                arrays[key + "__hashes"] = np.array(list(rows), dtype="U64")
                arrays[key + "__vectors"] = np.vstack(list(rows.values())).astype(np.float32)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".npz")
            with os.fdopen(handle, "wb") as out:
                np.savez(out, **arrays)
            os.replace(temporary, self.path)
        except OSError:
            return False
        self._dirty = False
        return True
