"""Database steps for citation chasing: the text of the full texts attached to a review."""

from __future__ import annotations

from sqlalchemy import Connection, select

from reviewkit.store.rows import live
from reviewkit.store.schema import fulltexts, records


def fulltext_texts(conn: Connection, review_id: int) -> list[tuple[int, str, str, bytes | None]]:
    """Return (record id, file name, extracted text, original bytes or None) of each live
    record's current full text."""
    rows = conn.execute(
        select(fulltexts.c.record_id, fulltexts.c.filename, fulltexts.c.text,
               fulltexts.c.content)
        .join(records, records.c.id == fulltexts.c.record_id)
        .where(records.c.review_id == review_id, live(records),
               records.c.duplicate_of.is_(None), live(fulltexts))
        .order_by(fulltexts.c.record_id, fulltexts.c.id))
    latest: dict[int, tuple[int, str, str, bytes | None]] = {}
    for row in rows:
        latest[row.record_id] = (row.record_id, row.filename, row.text or "", row.content)
    return list(latest.values())
