"""Reading records in the shapes the analyses need: texts to rank or cluster, and short
summaries (title, year, journal) to list them by."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from reviewkit.store.rows import live
from reviewkit.store.schema import records

# Ids per IN (...) list: well under every database's limit on bound parameters.
CHUNK = 500


def kept_texts(conn: Connection, review_id: int) -> list:
    """Id, title and abstract of every live record left after deduplication, by id."""
    return conn.execute(
        select(records.c.id, records.c.title, records.c.abstract)
        .where(records.c.review_id == review_id, live(records),
               records.c.duplicate_of.is_(None)).order_by(records.c.id)).all()


def texts_by_id(conn: Connection, record_ids: Iterable[int]) -> list:
    """Id, title and abstract of the records in ``record_ids`` (in no set order)."""
    return _by_id(conn, record_ids, records.c.title, records.c.abstract)


def summaries_by_id(conn: Connection, record_ids: Iterable[int]) -> dict[int, object]:
    """Id, title, year and journal of the records in ``record_ids``, by id."""
    return {row.id: row for row in _by_id(conn, record_ids, records.c.title, records.c.year,
                                          records.c.journal)}


def _by_id(conn: Connection, record_ids: Iterable[int], *columns) -> list:
    ids = list(dict.fromkeys(record_ids))
    found = []
    for start in range(0, len(ids), CHUNK):
        found += conn.execute(select(records.c.id, *columns)
                              .where(records.c.id.in_(ids[start:start + CHUNK]))).all()
    return found
