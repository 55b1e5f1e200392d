"""Database steps for update rounds: which round is open, and which round each record came in.

Every function takes an open ``Connection`` and runs inside the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from reviewkit.store.rows import live
from reviewkit.store.schema import import_batches, records, review_rounds, search_records, users


def current_round_number(conn: Connection, review_id: int) -> int:
    """Return the number of the review's newest round (0 before any update round)."""
    return conn.execute(select(func.max(review_rounds.c.number))
                        .where(review_rounds.c.review_id == review_id)).scalar() or 0


def insert_round(conn: Connection, *, review_id: int, number: int, label: str, note: str,
                 actor_id: int, now: datetime) -> int:
    """Store a new round (the unique review and number refuse a second one at once)."""
    return conn.execute(review_rounds.insert().values(
        review_id=review_id, number=number, label=label, note=note, started_at=now,
        started_by=actor_id)).inserted_primary_key[0]


def load_rounds(conn: Connection, review_id: int) -> list:
    """Return the review's update rounds, oldest first, with who started each."""
    return list(conn.execute(
        select(review_rounds, users.c.username.label("starter"))
        .join(users, users.c.id == review_rounds.c.started_by)
        .where(review_rounds.c.review_id == review_id).order_by(review_rounds.c.number)))


def record_round_numbers(conn: Connection, review_id: int) -> dict[int, int]:
    """Return, for each live record of the review, the round its import belongs to."""
    rows = conn.execute(
        select(records.c.id, func.coalesce(import_batches.c.round_number, 0))
        .join(import_batches, import_batches.c.id == records.c.batch_id)
        .where(records.c.review_id == review_id, live(records)))
    return dict(rows.all())


def imports_per_round(conn: Connection, review_id: int) -> dict[int, int]:
    """Return how many live imports each round holds (rounds without imports are absent)."""
    number = func.coalesce(import_batches.c.round_number, 0)
    rows = conn.execute(
        select(number, func.count()).where(import_batches.c.review_id == review_id,
                                           live(import_batches))
        .group_by(number))
    return dict(rows.all())


def record_origins(conn: Connection, review_id: int) -> list:
    """Return, for each live record of the review: its id, the round and the source it came
    from (database name, else file name), how it was found (the search record's method;
    'database' when none was written) and the record it was merged into (None if kept)."""
    source = func.coalesce(func.nullif(import_batches.c.database_name, ""),
                           import_batches.c.filename)
    return list(conn.execute(
        select(records.c.id, func.coalesce(import_batches.c.round_number, 0).label("round"),
               source.label("source"),
               func.coalesce(search_records.c.method, "database").label("method"),
               records.c.duplicate_of)
        .join(import_batches, import_batches.c.id == records.c.batch_id)
        .outerjoin(search_records, search_records.c.batch_id == import_batches.c.id)
        .where(records.c.review_id == review_id, live(records),
               live(import_batches))
        .order_by(records.c.id)))
