"""Reading the audit log: filter it, count it, and list who and what appears in it.

Lines are written by :meth:`reviewkit.store.Store.audit`, inside the transaction of the
change they describe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, String, cast, false, func, or_, select

from reviewkit.store import AuditEntry
from reviewkit.store.schema import audit_log, users

_LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class AuditQuery:
    """Which audit lines to find; every field left as None matches everything.

    ``action`` is a prefix (``"decision"`` finds decision.add, decision.undo, ...); ``since``
    and ``until`` bound the time (a date means the whole of that day, in UTC); ``text`` is
    looked for, ignoring case, in the line's details.
    """

    review_id: int | None = None
    actor: str | None = None
    action: str | None = None
    entity: str | None = None
    entity_id: str | int | None = None
    since: date | datetime | None = None
    until: date | datetime | None = None
    text: str | None = None


def _like(text: str, *, prefix: bool = False) -> str:
    escaped = (text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
               .replace("%", _LIKE_ESCAPE + "%").replace("_", _LIKE_ESCAPE + "_"))
    return f"{escaped}%" if prefix else f"%{escaped}%"


def _as_utc(value: date | datetime, *, end: bool = False) -> datetime:
    """A bound as an aware UTC datetime; a plain date is the start of that day (or the next)."""
    if not isinstance(value, datetime):
        day = value + timedelta(days=1) if end else value
        return datetime.combine(day, time.min, tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _conditions(query: AuditQuery) -> list:
    found = []
    # No stored text holds a NUL (PostgreSQL refuses one even inside a query): a filter value
    # with one matches nothing, and is never sent.
    names = (query.actor, query.action, query.entity,
             None if query.entity_id is None else str(query.entity_id))
    if any(value and "\x00" in value for value in names):
        return [false()]
    if query.review_id is not None:
        found.append(audit_log.c.review_id == query.review_id)
    if query.actor:
        found.append(users.c.username == query.actor.strip())
    if query.action:
        found.append(audit_log.c.action.like(_like(query.action.strip(), prefix=True),
                                              escape=_LIKE_ESCAPE))
    if query.entity:
        found.append(audit_log.c.entity == query.entity.strip())
    if query.entity_id is not None and str(query.entity_id).strip():
        found.append(audit_log.c.entity_id == str(query.entity_id).strip())
    if query.since is not None:
        found.append(audit_log.c.at >= _as_utc(query.since))
    if query.until is not None:
        bound = _as_utc(query.until, end=True)
        found.append(audit_log.c.at < bound if not isinstance(query.until, datetime)
                     else audit_log.c.at <= bound)
    if query.text and query.text.strip():
        wanted = query.text.strip()
        details = cast(audit_log.c.details, String)
        # JSON text may hold non-ASCII letters as \u escapes: look for both spellings.
        spellings = {s for s in (wanted, json.dumps(wanted)[1:-1]) if "\x00" not in s}
        found.append(or_(*[details.ilike(_like(s), escape=_LIKE_ESCAPE) for s in spellings]))
    return found


def _entry(row) -> AuditEntry:
    at = row.at
    if at.tzinfo is None:  # SQLite keeps UTC wall-clock times without the zone
        at = at.replace(tzinfo=UTC)
    return AuditEntry(id=row.id, at=at, actor=row.username, review_id=row.review_id,
                      action=row.action, entity=row.entity, entity_id=row.entity_id,
                      details=dict(row.details or {}))


def find_lines(conn: Connection, query: AuditQuery, *, limit: int | None = None,
               offset: int = 0) -> list[AuditEntry]:
    """The audit lines matching ``query``, newest first, ``limit`` at a time."""
    statement = (select(audit_log, users.c.username)
                 .join(users, users.c.id == audit_log.c.actor_id)
                 .where(*_conditions(query))
                 .order_by(audit_log.c.id.desc())
                 .offset(max(0, offset)))
    if limit is not None:
        statement = statement.limit(limit)
    return [_entry(row) for row in conn.execute(statement)]


def count_lines(conn: Connection, query: AuditQuery) -> int:
    """How many audit lines match ``query``."""
    statement = (select(func.count()).select_from(
        audit_log.join(users, users.c.id == audit_log.c.actor_id))
        .where(*_conditions(query)))
    return conn.execute(statement).scalar_one()


def actor_names(conn: Connection, review_id: int | None = None) -> list[str]:
    """Everyone with a line in the log (of one review), sorted."""
    statement = (select(users.c.username).join(audit_log, audit_log.c.actor_id == users.c.id)
                 .distinct().order_by(users.c.username))
    if review_id is not None:
        statement = statement.where(audit_log.c.review_id == review_id)
    return list(conn.execute(statement).scalars())


def action_names(conn: Connection, review_id: int | None = None) -> list[str]:
    """The kinds of action in the log (of one review), sorted."""
    statement = select(audit_log.c.action).distinct().order_by(audit_log.c.action)
    if review_id is not None:
        statement = statement.where(audit_log.c.review_id == review_id)
    return list(conn.execute(statement).scalars())
