"""The library's rows: contributed entries, story drafts, and audit scrubbing on withdrawal.

(The library's change counter is ``Store.library_version``: every audited library change
moves it, so a withdrawal reaches every running app.)
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from reviewkit.store.rows import live, now
from reviewkit.store.schema import (
    audit_log,
    library_entries,
    reviews,
    story_drafts,
    users,
)


def forget_audit_details(conn: Connection, *, entity: str, entity_id: object) -> int:
    """Blank the details of every audit line about one item; keep who, what action and when.

    Used when consent is withdrawn: the lines may quote the story (an edit keeps old and new
    text), and only the fact that each step happened may stay.
    """
    result = conn.execute(audit_log.update().where(
        audit_log.c.entity == entity, audit_log.c.entity_id == str(entity_id))
        .values(details={"removed": "consent withdrawn"}))
    return result.rowcount


def save_draft(conn: Connection, user_id: int, form: dict) -> None:
    """Keep ``user_id``'s half-written story (one per person; a new one replaces it)."""
    at = now()
    updated = conn.execute(story_drafts.update().where(story_drafts.c.user_id == user_id)
                           .values(form=form, saved_at=at))
    if updated.rowcount == 0:
        conn.execute(story_drafts.insert().values(user_id=user_id, form=form, saved_at=at))


def load_draft(conn: Connection, user_id: int) -> dict | None:
    """Return ``user_id``'s half-written story, or None."""
    return conn.execute(select(story_drafts.c.form).where(
        story_drafts.c.user_id == user_id)).scalar()


def clear_draft(conn: Connection, user_id: int) -> None:
    """Drop ``user_id``'s half-written story (once it is sent)."""
    conn.execute(story_drafts.delete().where(story_drafts.c.user_id == user_id))


# -- contributed entries --------------------------------------------------------------------

def taken_slugs(conn: Connection) -> set[str]:
    """Every slug a stored entry holds (withdrawn and deleted ones too)."""
    return set(conn.execute(select(library_entries.c.slug)).scalars())


def insert_entry(conn: Connection, **values) -> int:
    """Store a contributed entry; return its id."""
    return conn.execute(library_entries.insert().values(created_at=now(), **values)
                        ).inserted_primary_key[0]


def entry_row(conn: Connection, entry_id: int, *, live_only: bool = True):
    """One stored entry's row (None when missing, or in the trash and ``live_only``)."""
    query = select(library_entries).where(library_entries.c.id == entry_id)
    if live_only:
        query = query.where(live(library_entries))
    return conn.execute(query).first()


def update_entry(conn: Connection, entry_id: int, **values) -> None:
    conn.execute(library_entries.update().where(library_entries.c.id == entry_id)
                 .values(**values))


def entry_rows(conn: Connection, *, statuses: Iterable[str] | None = None,
               created_by: int | None = None, newest_first: bool = False,
               with_contributor: bool = False) -> list:
    """Live entries (with these statuses, by this person), by id; ``with_contributor`` adds
    the sender's ``username``."""
    if with_contributor:
        query = select(library_entries, users.c.username).join(
            users, users.c.id == library_entries.c.created_by)
    else:
        query = select(library_entries)
    query = query.where(live(library_entries))
    if statuses is not None:
        query = query.where(library_entries.c.status.in_(list(statuses)))
    if created_by is not None:
        query = query.where(library_entries.c.created_by == created_by)
    order = library_entries.c.id.desc() if newest_first else library_entries.c.id
    return conn.execute(query.order_by(order)).all()


def live_review_exists(conn: Connection, review_id: int) -> bool:
    return conn.execute(select(reviews.c.id).where(
        reviews.c.id == review_id, live(reviews))).first() is not None
