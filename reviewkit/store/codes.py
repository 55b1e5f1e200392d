"""Codes on studies (suggested, confirmed, rejected; superseded rows kept as history) and the
versions of each review's codebook."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, func, select

from reviewkit.store import Store
from reviewkit.store.rows import live, now
from reviewkit.store.schema import codebooks, record_codes, records, users


def _current(review_id: int, record_id: int | None = None) -> list:
    clauses = [record_codes.c.review_id == review_id, record_codes.c.superseded_at.is_(None)]
    if record_id is not None:
        clauses.append(record_codes.c.record_id == record_id)
    return clauses


# -- codes on studies ----------------------------------------------------------------------

def current_codes(conn: Connection, review_id: int, record_id: int) -> list:
    """Id, scheme, code and status of one record's current codes."""
    return conn.execute(select(record_codes.c.id, record_codes.c.scheme, record_codes.c.code,
                               record_codes.c.status)
                        .where(*_current(review_id, record_id))).all()


def latest_code(conn: Connection, review_id: int, record_id: int, scheme: str, code: str):
    """The newest current row of one code on one record, or None."""
    return conn.execute(select(record_codes).where(
        *_current(review_id, record_id), record_codes.c.scheme == scheme,
        record_codes.c.code == code).order_by(record_codes.c.id.desc())).first()


def supersede_code(conn: Connection, review_id: int, record_id: int, scheme: str, code: str,
                   at: datetime) -> None:
    """Mark every current row of one code on one record as replaced at ``at``."""
    conn.execute(record_codes.update().where(
        *_current(review_id, record_id), record_codes.c.scheme == scheme,
        record_codes.c.code == code).values(superseded_at=at))


def supersede_rows(conn: Connection, code_ids: Iterable[int], at: datetime) -> None:
    ids = list(code_ids)
    if ids:
        conn.execute(record_codes.update().where(record_codes.c.id.in_(ids))
                     .values(superseded_at=at))


def insert_codes(conn: Connection, rows: list[dict]) -> None:
    if rows:
        conn.execute(record_codes.insert(), rows)


def insert_code(conn: Connection, values: dict) -> int:
    return conn.execute(record_codes.insert().values(**values)).inserted_primary_key[0]


def repoint(conn: Connection, review_id: int, scheme: str, old: str, new: str,
            actor_id: int) -> int:
    """Move every current use of code ``old`` to ``new``; return how many uses moved."""
    at = now()
    moving = conn.execute(select(record_codes).where(
        *_current(review_id), record_codes.c.scheme == scheme,
        record_codes.c.code == old)).all()
    has_new = {r.record_id for r in conn.execute(select(record_codes.c.record_id).where(
        *_current(review_id), record_codes.c.scheme == scheme, record_codes.c.code == new))}
    supersede_rows(conn, [r.id for r in moving], at)
    insert_codes(conn, [
        {**{k: getattr(r, k) for k in ("review_id", "record_id", "scheme", "confidence",
                                        "source", "status", "direction", "finding")},
         "code": new, "coder_id": actor_id, "created_at": at}
        for r in moving if r.record_id not in has_new])
    Store.audit(conn, actor_id=actor_id, action="coding.repoint", entity="code",
                entity_id=f"{scheme}:{old}", review_id=review_id,
                details={"from": old, "to": new, "records": [r.record_id for r in moving]})
    return len(moving)


def review_code_rows(conn: Connection, review_id: int, *, status: str | None = None,
                     record_id: int | None = None) -> list:
    """A review's current codes with their coder's ``username``, by record then age; codes of
    records in the trash are left out."""
    query = (select(record_codes, users.c.username)
             .join(users, users.c.id == record_codes.c.coder_id)
             .join(records, records.c.id == record_codes.c.record_id)
             .where(*_current(review_id, record_id), live(records))
             .order_by(record_codes.c.record_id, record_codes.c.id))
    if status is not None:
        query = query.where(record_codes.c.status == status)
    return conn.execute(query).all()


# -- codebook versions ---------------------------------------------------------------------

def latest_codebook_version(conn: Connection, review_id: int) -> int | None:
    return conn.execute(select(func.max(codebooks.c.version))
                        .where(codebooks.c.review_id == review_id)).scalar()


def codebook_content(conn: Connection, review_id: int, version: int | None = None
                     ) -> dict | None:
    """The stored content of one version of a review's codebook (its latest when None)."""
    query = select(codebooks.c.content).where(codebooks.c.review_id == review_id)
    if version is not None:
        query = query.where(codebooks.c.version == version)
    return conn.execute(query.order_by(codebooks.c.version.desc()).limit(1)).scalar()


def insert_codebook(conn: Connection, review_id: int, version: int, content: dict,
                    actor_id: int) -> None:
    conn.execute(codebooks.insert().values(
        review_id=review_id, version=version, content=content, created_by=actor_id,
        created_at=now()))


def codebook_version_rows(conn: Connection, review_id: int) -> list[tuple]:
    """(version, created_at, username) of each saved version, oldest first."""
    return conn.execute(select(codebooks.c.version, codebooks.c.created_at, users.c.username)
                        .join(users, users.c.id == codebooks.c.created_by)
                        .where(codebooks.c.review_id == review_id)
                        .order_by(codebooks.c.version)).all()
