"""Database steps for the search record (PRISMA-S): one row per import, read and written.

Every function takes an open ``Connection`` and runs inside the caller's transaction.  The
database name, date and query also live on the import itself (``import_batches``, where the
PRISMA counts per source read them); writing a search record keeps those three in step.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from reviewkit.store.rows import live
from reviewkit.store.schema import import_batches, search_records, users

# The fields a person fills in, in the order they are shown and exported.
SEARCH_FIELDS = ("method", "database", "platform", "date_searched", "search_string", "limits",
                 "run_by", "notes")
# Search record field -> the import's own column holding the same fact.
_ON_IMPORT = {"database": "database_name", "date_searched": "search_date",
              "search_string": "search_query"}


def import_row(conn: Connection, batch_id: int):
    """Return the live import ``batch_id`` (with the importer's user name), or None."""
    return conn.execute(
        select(import_batches, users.c.username.label("importer"))
        .join(users, users.c.id == import_batches.c.imported_by)
        .where(import_batches.c.id == batch_id, live(import_batches))).first()


def import_rows(conn: Connection, review_id: int) -> list:
    """Return every live import of a review, oldest first (with the importer's user name)."""
    return list(conn.execute(
        select(import_batches, users.c.username.label("importer"))
        .join(users, users.c.id == import_batches.c.imported_by)
        .where(import_batches.c.review_id == review_id, live(import_batches))
        .order_by(import_batches.c.id)))


def load_search_record(conn: Connection, batch_id: int) -> dict | None:
    """Return the stored search record of one import as a dict, or None when none was written."""
    row = conn.execute(
        select(search_records, users.c.username.label("updated_by_name"))
        .join(users, users.c.id == search_records.c.updated_by)
        .where(search_records.c.batch_id == batch_id)).first()
    return dict(row._mapping) if row is not None else None


def load_search_records(conn: Connection, review_id: int) -> dict[int, dict]:
    """Return every stored search record of a review's live imports, by import id."""
    rows = conn.execute(
        select(search_records, users.c.username.label("updated_by_name"))
        .join(users, users.c.id == search_records.c.updated_by)
        .join(import_batches, import_batches.c.id == search_records.c.batch_id)
        .where(search_records.c.review_id == review_id, live(import_batches)))
    return {row.batch_id: dict(row._mapping) for row in rows}


def save_search_record(conn: Connection, *, batch_id: int, review_id: int, values: dict,
                       actor_id: int, now: datetime) -> None:
    """Write the full search record of one import (every field in ``SEARCH_FIELDS``).

    The import's own database name, search date and query are set to the same values.
    """
    row = {name: values[name] for name in SEARCH_FIELDS}
    updated = conn.execute(search_records.update().where(search_records.c.batch_id == batch_id)
                           .values(**row, updated_at=now, updated_by=actor_id))
    if updated.rowcount == 0:
        conn.execute(search_records.insert().values(batch_id=batch_id, review_id=review_id,
                                                    **row, updated_at=now, updated_by=actor_id))
    conn.execute(import_batches.update().where(import_batches.c.id == batch_id)
                 .values({column: values[name] for name, column in _ON_IMPORT.items()}))
