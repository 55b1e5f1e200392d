"""Cached embedding vectors, one per record and model, keyed by the text they came from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from sqlalchemy import Connection, select

from reviewkit.store.schema import embeddings as embedding_rows

# Ids per IN (...) list: well under every database's limit on bound parameters.
CHUNK = 500


def read_vectors(conn: Connection, record_ids: Sequence[int], model: str
                 ) -> dict[int, tuple[str, np.ndarray]]:
    """Each cached record's text digest and vector for ``model``."""
    found = {}
    for start in range(0, len(record_ids), CHUNK):
        part = list(record_ids[start:start + CHUNK])
        rows = conn.execute(select(embedding_rows.c.record_id, embedding_rows.c.text_sha256,
                                   embedding_rows.c.vector)
                            .where(embedding_rows.c.model == model,
                                   embedding_rows.c.record_id.in_(part)))
        for rid, digest, blob in rows:
            found[rid] = (digest, np.frombuffer(blob, dtype=np.float32))
    return found


def write_vectors(conn: Connection, rows: Iterable[tuple[int, str, np.ndarray]], model: str, *,
                  replace: Iterable[int] = ()) -> None:
    """Store vectors for ``model``, first dropping the old ones of the records in ``replace``."""
    stale = sorted(replace)
    for start in range(0, len(stale), CHUNK):
        conn.execute(embedding_rows.delete().where(
            embedding_rows.c.model == model,
            embedding_rows.c.record_id.in_(stale[start:start + CHUNK])))
    # a record listed twice is stored once
    unique = {rid: (digest, vector) for rid, digest, vector in rows}
    if unique:
        conn.execute(embedding_rows.insert(), [
            {"record_id": rid, "model": model, "text_sha256": digest,
             "vector": np.asarray(vector, dtype=np.float32).tobytes()}
            for rid, (digest, vector) in unique.items()])


def drop_vectors(conn: Connection, *, model: str | None = None) -> int:
    """Drop cached vectors (of one model, or all); return how many were dropped."""
    query = embedding_rows.delete()
    if model is not None:
        query = query.where(embedding_rows.c.model == model)
    return conn.execute(query).rowcount
