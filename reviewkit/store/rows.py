"""Two small rules every store module shares: the time a row is stamped with, and which rows
are live (not in the trash)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Table


def now() -> datetime:
    """The moment to stamp a row with: aware, in UTC."""
    return datetime.now(UTC)


def live(table: Table):
    """The condition for a row of ``table`` that is not in the trash (soft delete)."""
    return table.c.deleted_at.is_(None)
