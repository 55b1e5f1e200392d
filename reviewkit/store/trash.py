"""Rows in and out of the trash: the soft-delete mark, duplicates re-homed when their kept
record goes, and what a review holds in the trash.

The rules (what may be deleted or restored, and the messages) live in :mod:`reviewkit.trash`;
these functions only read and change rows, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, Table, func, or_, select

from reviewkit.store.rows import live
from reviewkit.store.schema import (
    audit_log,
    fulltexts,
    import_batches,
    library_entries,
    records,
    reviews,
)


def mark_deleted(conn: Connection, table: Table, row_id: int, at: datetime | None) -> None:
    """Set (a time) or clear (None) the trash mark of one row of ``table``."""
    conn.execute(table.update().where(table.c.id == row_id).values(deleted_at=at))


# -- one row of each kind, in the trash or not ------------------------------------------------

def batch_row(conn: Connection, batch_id: int):
    return conn.execute(select(import_batches).where(import_batches.c.id == batch_id)).first()


def record_row(conn: Connection, record_id: int):
    return conn.execute(select(records).where(records.c.id == record_id)).first()


def review_row(conn: Connection, review_id: int):
    return conn.execute(select(reviews).where(reviews.c.id == review_id)).first()


def story_row(conn: Connection, entry_id: int):
    return conn.execute(select(library_entries).where(library_entries.c.id == entry_id)).first()


def fulltext_row(conn: Connection, fulltext_id: int):
    """A full text's id, record, file name and mark, with its record's review and mark."""
    return conn.execute(select(fulltexts.c.id, fulltexts.c.record_id, fulltexts.c.filename,
                               fulltexts.c.deleted_at, records.c.review_id,
                               records.c.deleted_at.label("record_deleted_at"))
                        .join(records, records.c.id == fulltexts.c.record_id)
                        .where(fulltexts.c.id == fulltext_id)).first()


# -- imports and their records ----------------------------------------------------------------

def delete_batch(conn: Connection, batch_id: int, at: datetime) -> tuple[int, object]:
    """Mark an import and its live records deleted at ``at``.

    Returns how many records went and a subquery of their ids.  Records deleted one by one
    earlier keep their own time, so they stay deleted when the import comes back.
    """
    mark_deleted(conn, import_batches, batch_id, at)
    gone = conn.execute(records.update().where(records.c.batch_id == batch_id, live(records))
                        .values(deleted_at=at)).rowcount
    stamp = conn.execute(select(import_batches.c.deleted_at)
                         .where(import_batches.c.id == batch_id)).scalar_one()
    return gone, select(records.c.id).where(records.c.batch_id == batch_id,
                                            records.c.deleted_at == stamp)


def restore_batch(conn: Connection, batch_id: int, stamp: datetime) -> int:
    """Clear the mark of an import and of the records deleted with it; return their count."""
    back = conn.execute(records.update().where(
        records.c.batch_id == batch_id, records.c.deleted_at == stamp)
        .values(deleted_at=None)).rowcount
    mark_deleted(conn, import_batches, batch_id, None)
    return back


def live_batch_of(conn: Connection, review_id: int, sha256: str):
    """Id and file name of a live import of these bytes into the review, or None."""
    return conn.execute(select(import_batches.c.id, import_batches.c.filename).where(
        import_batches.c.review_id == review_id, import_batches.c.sha256 == sha256,
        live(import_batches))).first()


def deleted_batch_of(conn: Connection, review_id: int, sha256: str) -> int | None:
    """The id of the latest deleted import of these bytes into the review, or None."""
    return conn.execute(select(import_batches.c.id).where(
        import_batches.c.review_id == review_id, import_batches.c.sha256 == sha256,
        import_batches.c.deleted_at.is_not(None))
        .order_by(import_batches.c.id.desc())).scalar()


# -- duplicates whose kept record goes ----------------------------------------------------------

def promote_orphans(conn: Connection, review_id: int, gone) -> list[list]:
    """Re-home live duplicates of the records in ``gone`` (ids, or a subquery of ids).

    Each group's lowest remaining id becomes the kept record.  Returns [member, old kept, new
    kept or None] for every record changed, for the audit line and a later restore.
    """
    orphans = conn.execute(select(records.c.id, records.c.duplicate_of).where(
        records.c.review_id == review_id, live(records),
        records.c.duplicate_of.in_(gone)).order_by(records.c.id)).all()
    groups: dict[int, list[int]] = {}
    for rid, kept in orphans:
        groups.setdefault(kept, []).append(rid)
    changes = []
    for old_kept, members in groups.items():
        leader, rest = members[0], members[1:]
        conn.execute(records.update().where(records.c.id == leader).values(duplicate_of=None))
        changes.append([leader, old_kept, None])
        if rest:
            conn.execute(records.update().where(records.c.id.in_(rest))
                         .values(duplicate_of=leader))
            changes.extend([rid, old_kept, leader] for rid in rest)
    return changes


def unpromote(conn: Connection, review_id: int, changes: Iterable[list] | None) -> None:
    """Undo :func:`promote_orphans` for records nobody has re-linked since.

    Only the review's own records are touched, whatever the audit line says.
    """
    for member, old_kept, new_kept in changes or []:
        conn.execute(records.update().where(
            records.c.id == member, records.c.review_id == review_id, live(records),
            records.c.duplicate_of.is_(None) if new_kept is None
            else records.c.duplicate_of == new_kept).values(duplicate_of=old_kept))


def last_deletion(conn: Connection, action: str, entity: str, entity_id: int) -> dict:
    """The details of the latest audit line of this deletion (empty when there is none)."""
    details = conn.execute(select(audit_log.c.details).where(
        audit_log.c.action == action, audit_log.c.entity == entity,
        audit_log.c.entity_id == str(entity_id)).order_by(audit_log.c.id.desc()).limit(1)
    ).scalar()
    return dict(details or {})


# -- full texts ---------------------------------------------------------------------------------

def attached_fulltext_ids(conn: Connection, record_id: int) -> list[int]:
    """The full texts attached to a record now (not in the trash), newest first."""
    return list(conn.execute(select(fulltexts.c.id).where(
        fulltexts.c.record_id == record_id, live(fulltexts))
        .order_by(fulltexts.c.id.desc())).scalars())


def set_aside_fulltexts(conn: Connection, fulltext_ids: list[int], at: datetime) -> None:
    if fulltext_ids:
        conn.execute(fulltexts.update().where(fulltexts.c.id.in_(fulltext_ids))
                     .values(deleted_at=at))


# -- what is in the trash -----------------------------------------------------------------------

def deleted_review_rows(conn: Connection) -> list:
    """Id, name and mark of every deleted review, most recently deleted first."""
    return conn.execute(select(reviews.c.id, reviews.c.name, reviews.c.deleted_at)
                        .where(reviews.c.deleted_at.is_not(None))
                        .order_by(reviews.c.deleted_at.desc())).all()


def deleted_batches(conn: Connection, review_id: int) -> list:
    return conn.execute(select(import_batches).where(
        import_batches.c.review_id == review_id, import_batches.c.deleted_at.is_not(None))).all()


def records_deleted_alone(conn: Connection, review_id: int) -> list:
    """Id, title and mark of records deleted on their own (not together with their import)."""
    return conn.execute(
        select(records.c.id, records.c.title, records.c.deleted_at)
        .join(import_batches, import_batches.c.id == records.c.batch_id)
        .where(records.c.review_id == review_id, records.c.deleted_at.is_not(None),
               or_(live(import_batches),
                   import_batches.c.deleted_at != records.c.deleted_at))).all()


def deleted_stories(conn: Connection, review_id: int) -> list:
    """Deleted stories the review's team owns, and those no team owns."""
    return conn.execute(select(library_entries).where(
        or_(library_entries.c.review_id == review_id, library_entries.c.review_id.is_(None)),
        library_entries.c.deleted_at.is_not(None))).all()


def deleted_fulltexts(conn: Connection, review_id: int) -> tuple[list, set[int]]:
    """Deleted full texts of the review's live records, and the records that have another
    full text attached now."""
    attached = set(conn.execute(select(fulltexts.c.record_id).join(
        records, records.c.id == fulltexts.c.record_id).where(
        records.c.review_id == review_id, live(fulltexts))).scalars())
    found = conn.execute(select(fulltexts.c.id, fulltexts.c.record_id, fulltexts.c.filename,
                                fulltexts.c.deleted_at)
                         .join(records, records.c.id == fulltexts.c.record_id)
                         .where(records.c.review_id == review_id, live(records),
                                fulltexts.c.deleted_at.is_not(None))).all()
    return found, attached


def count_deleted_records(conn: Connection, review_id: int) -> int:
    return conn.execute(select(func.count()).select_from(records).where(
        records.c.review_id == review_id, records.c.deleted_at.is_not(None))).scalar_one()
