"""Database steps for contributed stories beyond what ``reviewkit.library.contributions`` does:
reading one story's row and writing a contributor's resent version."""

from __future__ import annotations

from sqlalchemy import Connection, select

from reviewkit.store.rows import live
from reviewkit.store.schema import library_entries


def story_row(conn: Connection, entry_id: int):
    """Return the row of a contributed story that is not deleted, or None."""
    return conn.execute(select(library_entries).where(
        library_entries.c.id == entry_id, live(library_entries))).first()


def update_story(conn: Connection, entry_id: int, **values) -> None:
    """Write ``values`` (column name -> new value) to one contributed story."""
    conn.execute(library_entries.update().where(library_entries.c.id == entry_id)
                 .values(**values))
