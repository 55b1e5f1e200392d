"""Rows of data extraction: a review's form and the values people extract from its studies.

Functions here take a ``Connection`` inside a transaction the caller holds, and write one
audit line for every change.  Rules (who may, which workflow, what a field accepts) live in
:mod:`reviewkit.extraction`; this module only reads and writes rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from reviewkit.store import Store
from reviewkit.store.rows import now as _now
from reviewkit.store.schema import extraction_forms, extraction_values, records, users

__all__ = [
    "StoredForm",
    "StoredValue",
    "current_values",
    "read_form",
    "set_status",
    "titles_and_years",
    "write_form",
    "write_value",
]


@dataclass(frozen=True)
class StoredForm:
    id: int
    review_id: int
    fields: list[dict]
    workflow: str
    version: int
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True)
class StoredValue:
    id: int
    record_id: int
    field: str
    outcome: str
    kind: str  # extraction | consensus
    value: object
    status: str  # draft | done | verified
    entered_by: str
    entered_at: datetime
    verified_by: str | None


def read_form(conn: Connection, review_id: int) -> StoredForm | None:
    """The review's saved extraction form, or None when it still uses the starting template."""
    f = extraction_forms
    row = conn.execute(select(f, users.c.username).join(users, users.c.id == f.c.updated_by)
                       .where(f.c.review_id == review_id)).first()
    if row is None:
        return None
    return StoredForm(row.id, row.review_id, list(row.fields or []), row.workflow, row.version,
                      row.username, row.updated_at)


def write_form(conn: Connection, review_id: int, fields: list[dict], workflow: str,
               actor_id: int, *, changes: list[str]) -> int:
    """Save the review's form (its next version); audit what changed.  Returns the version."""
    f = extraction_forms
    now = _now()
    current = conn.execute(select(f.c.id, f.c.version).where(f.c.review_id == review_id)).first()
    if current is None:
        version = 1
        form_id = conn.execute(f.insert().values(
            review_id=review_id, fields=fields, workflow=workflow, version=version,
            updated_by=actor_id, updated_at=now)).inserted_primary_key[0]
    else:
        version = current.version + 1
        form_id = current.id
        conn.execute(f.update().where(f.c.id == form_id).values(
            fields=fields, workflow=workflow, version=version, updated_by=actor_id,
            updated_at=now))
    Store.audit(conn, actor_id=actor_id, action="extraction.form", entity="extraction_form",
                entity_id=form_id, review_id=review_id,
                details={"version": version, "workflow": workflow, "changes": changes})
    return version


def _value_query(review_id: int):
    v = extraction_values
    entered = users.alias("entered")
    verified = users.alias("verified")
    return (select(v, entered.c.username.label("entered_name"),
                   verified.c.username.label("verified_name"))
            .join(entered, entered.c.id == v.c.entered_by)
            .outerjoin(verified, verified.c.id == v.c.verified_by)
            .where(v.c.review_id == review_id, v.c.superseded_at.is_(None)))


def current_values(conn: Connection, review_id: int, record_ids: list[int] | None = None
                   ) -> list[StoredValue]:
    """Every standing value of the review (or of some of its studies), oldest first."""
    query = _value_query(review_id)
    if record_ids is not None:
        query = query.where(extraction_values.c.record_id.in_(record_ids))
    return [StoredValue(r.id, r.record_id, r.field, r.outcome, r.kind, r.value, r.status,
                        r.entered_name, r.entered_at, r.verified_name)
            for r in conn.execute(query.order_by(extraction_values.c.id))]


def write_value(conn: Connection, review_id: int, record_id: int, *, field: str, outcome: str,
                kind: str, value: object, status: str, actor_id: int, before: str,
                after: str) -> int:
    """Store one value, setting aside the one it replaces; audit before and after (as text).

    An extractor's value replaces only that extractor's own; a consensus value replaces the
    standing consensus, whoever agreed it.
    """
    v = extraction_values
    now = _now()
    same = [v.c.review_id == review_id, v.c.record_id == record_id, v.c.field == field,
            v.c.outcome == outcome, v.c.kind == kind, v.c.superseded_at.is_(None)]
    if kind == "extraction":
        same.append(v.c.entered_by == actor_id)
    conn.execute(v.update().where(*same).values(superseded_at=now))
    value_id = conn.execute(v.insert().values(
        review_id=review_id, record_id=record_id, field=field, outcome=outcome, kind=kind,
        value=value, status=status, entered_by=actor_id, entered_at=now,
        verified_by=actor_id if status == "verified" else None,
        verified_at=now if status == "verified" else None)).inserted_primary_key[0]
    Store.audit(conn, actor_id=actor_id, action=f"extraction.{kind}", entity="record",
                entity_id=record_id, review_id=review_id,
                details={"field": field, "outcome": outcome, "before": before, "after": after,
                         "status": status})
    return value_id


def set_status(conn: Connection, review_id: int, record_id: int, *, entered_by: int,
               status: str, actor_id: int) -> int:
    """Mark one extractor's standing values of a study done, verified (by ``actor_id``) or
    back to draft; audit it.  Returns how many values changed."""
    v = extraction_values
    now = _now()
    verified = status == "verified"
    changed = conn.execute(v.update().where(
        v.c.review_id == review_id, v.c.record_id == record_id, v.c.kind == "extraction",
        v.c.entered_by == entered_by, v.c.superseded_at.is_(None), v.c.status != status)
        .values(status=status, verified_by=actor_id if verified else None,
                verified_at=now if verified else None)).rowcount
    extractor = conn.execute(select(users.c.username).where(users.c.id == entered_by)).scalar()
    Store.audit(conn, actor_id=actor_id, action=f"extraction.{status}", entity="record",
                entity_id=record_id, review_id=review_id,
                details={"extractor": extractor or "", "values": changed})
    return changed


def titles_and_years(conn: Connection, record_ids: list[int]) -> dict[int, tuple[str, int | None]]:
    """Title and year of each record named, for tables of studies."""
    if not record_ids:
        return {}
    return {r.id: (r.title or "", r.year) for r in conn.execute(
        select(records.c.id, records.c.title, records.c.year).where(records.c.id.in_(record_ids)))}
