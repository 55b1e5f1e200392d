"""Database steps the library needs beyond plain rows: audit scrubbing and story drafts.

(The library's change counter is ``Store.library_version``: every audited library change
moves it, so a withdrawal reaches every running app.)
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select

from reviewkit.store.schema import audit_log, story_drafts


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
    now = datetime.now(UTC)
    updated = conn.execute(story_drafts.update().where(story_drafts.c.user_id == user_id)
                           .values(form=form, saved_at=now))
    if updated.rowcount == 0:
        conn.execute(story_drafts.insert().values(user_id=user_id, form=form, saved_at=now))


def load_draft(conn: Connection, user_id: int) -> dict | None:
    """Return ``user_id``'s half-written story, or None."""
    return conn.execute(select(story_drafts.c.form).where(
        story_drafts.c.user_id == user_id)).scalar()


def clear_draft(conn: Connection, user_id: int) -> None:
    """Drop ``user_id``'s half-written story (once it is sent)."""
    conn.execute(story_drafts.delete().where(story_drafts.c.user_id == user_id))
