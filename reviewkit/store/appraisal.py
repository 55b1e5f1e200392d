"""Rows of quality appraisal: people's appraisals of studies and a review's own tools.

Functions take a ``Connection`` inside a transaction the caller holds and write one audit
line per change.  What a tool asks and what counts as met live in :mod:`reviewkit.appraisal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from reviewkit.store import Store
from reviewkit.store.rows import now as _now
from reviewkit.store.schema import appraisal_tools, appraisals, users

__all__ = [
    "StoredAppraisal",
    "current_appraisals",
    "review_tools",
    "verify_appraisal",
    "write_appraisal",
    "write_tool",
]


@dataclass(frozen=True)
class StoredAppraisal:
    id: int
    record_id: int
    tool: str
    design: str
    outcome: str
    kind: str  # appraisal | consensus
    answers: dict
    notes: dict
    overall: str
    status: str  # draft | done | verified
    appraiser: str
    appraised_at: datetime
    verified_by: str | None


def review_tools(conn: Connection, review_id: int) -> list[dict]:
    """The standing definitions of the review's own appraisal tools, oldest first."""
    t = appraisal_tools
    return [dict(row.definition) for row in conn.execute(
        select(t.c.definition).where(t.c.review_id == review_id, t.c.superseded_at.is_(None))
        .order_by(t.c.id))]


def write_tool(conn: Connection, review_id: int, definition: dict, actor_id: int) -> int:
    """Save a review's tool (a new one, or a new version of one with the same key); audit it."""
    t = appraisal_tools
    key = definition["key"]
    now = _now()
    replaced = conn.execute(t.update().where(
        t.c.review_id == review_id, t.c.key == key, t.c.superseded_at.is_(None))
        .values(superseded_at=now)).rowcount
    tool_id = conn.execute(t.insert().values(
        review_id=review_id, key=key, definition=definition, created_by=actor_id,
        created_at=now)).inserted_primary_key[0]
    Store.audit(conn, actor_id=actor_id, action="appraisal.tool", entity="appraisal_tool",
                entity_id=tool_id, review_id=review_id,
                details={"key": key, "name": definition.get("name", ""),
                         "criteria": [c["key"] for c in definition.get("criteria", [])],
                         "replaced": bool(replaced)})
    return tool_id


def current_appraisals(conn: Connection, review_id: int, record_ids: list[int] | None = None
                       ) -> list[StoredAppraisal]:
    """Every standing appraisal of the review (or of some studies), oldest first."""
    a = appraisals
    who = users.alias("who")
    checker = users.alias("checker")
    query = (select(a, who.c.username.label("appraiser_name"),
                    checker.c.username.label("verifier_name"))
             .join(who, who.c.id == a.c.appraiser_id)
             .outerjoin(checker, checker.c.id == a.c.verified_by)
             .where(a.c.review_id == review_id, a.c.superseded_at.is_(None)))
    if record_ids is not None:
        query = query.where(a.c.record_id.in_(record_ids))
    return [StoredAppraisal(r.id, r.record_id, r.tool, r.design, r.outcome, r.kind,
                            dict(r.answers or {}), dict(r.notes or {}), r.overall, r.status,
                            r.appraiser_name, r.appraised_at, r.verifier_name)
            for r in conn.execute(query.order_by(a.c.id))]


def write_appraisal(conn: Connection, review_id: int, record_id: int, *, tool: str,
                    design: str, outcome: str, kind: str, answers: dict, notes: dict,
                    overall: str, status: str, actor_id: int, summary: str) -> int:
    """Store one appraisal, setting aside the one it replaces (the same person's, or the
    standing consensus); audit the answers.  Returns the new row's id."""
    a = appraisals
    now = _now()
    same = [a.c.review_id == review_id, a.c.record_id == record_id, a.c.tool == tool,
            a.c.outcome == outcome, a.c.kind == kind, a.c.superseded_at.is_(None)]
    if kind == "appraisal":
        same.append(a.c.appraiser_id == actor_id)
    conn.execute(a.update().where(*same).values(superseded_at=now))
    verified = status == "verified"
    appraisal_id = conn.execute(a.insert().values(
        review_id=review_id, record_id=record_id, tool=tool, design=design, outcome=outcome,
        kind=kind, answers=answers, notes=notes, overall=overall, status=status,
        appraiser_id=actor_id, appraised_at=now, verified_by=actor_id if verified else None,
        verified_at=now if verified else None)).inserted_primary_key[0]
    Store.audit(conn, actor_id=actor_id, action=f"appraisal.{kind}", entity="record",
                entity_id=record_id, review_id=review_id,
                details={"tool": tool, "design": design, "outcome": outcome,
                         "answers": dict(answers), "overall": overall, "status": status,
                         "summary": summary})
    return appraisal_id


def verify_appraisal(conn: Connection, review_id: int, appraisal_id: int, actor_id: int) -> None:
    """Mark one standing appraisal verified by ``actor_id``; audit it."""
    a = appraisals
    row = conn.execute(select(a.c.record_id, a.c.tool, a.c.outcome, a.c.appraiser_id).where(
        a.c.id == appraisal_id, a.c.review_id == review_id)).first()
    conn.execute(a.update().where(a.c.id == appraisal_id).values(
        status="verified", verified_by=actor_id, verified_at=_now()))
    appraiser = conn.execute(select(users.c.username).where(users.c.id == row.appraiser_id)
                             ).scalar()
    Store.audit(conn, actor_id=actor_id, action="appraisal.verify", entity="record",
                entity_id=row.record_id, review_id=review_id,
                details={"tool": row.tool, "outcome": row.outcome, "appraiser": appraiser or ""})
