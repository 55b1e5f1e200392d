"""The one module that talks to the database.

A SQLite file by default; PostgreSQL (or any SQLAlchemy URL) when ``REVIEWKIT_DATABASE_URL``
or an explicit URL names one.  Every change that belongs together happens in one
transaction, and every change writes who made it to the append-only audit log.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Integer,
    String,
    Text,
    and_,
    case,
    cast,
    create_engine,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.pool import StaticPool

from reviewkit.errors import DuplicateImportError, NotFoundError, ReviewkitError
from reviewkit.records import BIBLIOGRAPHIC_FIELDS, Record
from reviewkit.review_settings import default_settings, exclusion_reasons
from reviewkit.store import people, record_rows, schema
from reviewkit.store.rows import live
from reviewkit.store.rows import now as _now
from reviewkit.store.schema import (
    SCHEMA_VERSION,
    audit_log,
    decisions,
    duplicate_pairs,
    fulltexts,
    import_batches,
    login_throttle,
    meta,
    records,
    reviews,
    screening_assignments,
    users,
)

__all__ = [
    "AuditEntry",
    "Batch",
    "Decision",
    "HandOut",
    "Review",
    "SCHEMA_VERSION",
    "Store",
    "StoredRecord",
    "User",
    "default_database_url",
    "duplicate_import_error",
]

DEFAULT_USER = "admin"
STAGES = ("title_abstract", "full_text")
DECISIONS = ("include", "exclude", "maybe", "not_retrieved")
DECISION_KINDS = ("vote", "resolution")
# Record columns that hold lists (stored as JSON); the rest are text, plus the integer year.
_LIST_FIELDS = ("authors", "keywords")
LIBRARY_VERSION_KEY = "library_version"
# Audit actions after which a cached library (search index) is out of date: every change to a
# library entry is audited, so the audit line is the one place that bumps the library version.
_LIBRARY_ACTIONS = ("library.", "review.delete", "review.restore", "review.import")
_RECORD_COLUMNS = tuple(f for f in BIBLIOGRAPHIC_FIELDS) + ("source_id", "extra")


def default_database_url() -> str:
    """Return the database URL: ``REVIEWKIT_DATABASE_URL``, else a SQLite file in the data folder.

    The data folder is ``REVIEWKIT_DATA_DIR`` when set, else ``data/`` under the current folder.
    """
    url = os.environ.get("REVIEWKIT_DATABASE_URL", "").strip()
    if url:
        return url
    folder = Path(os.environ.get("REVIEWKIT_DATA_DIR", "") or "data")
    return f"sqlite:///{folder / 'reviewkit.sqlite'}"




@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: str


@dataclass(frozen=True)
class Review:
    id: int
    name: str
    question: str
    inclusion_criteria: str
    exclusion_criteria: str
    settings: dict
    created_at: datetime


@dataclass(frozen=True)
class Batch:
    """One imported file: what PRISMA calls a source of 'records identified'."""

    id: int
    review_id: int
    filename: str
    format: str
    database_name: str
    search_date: str
    search_query: str
    sha256: str
    size_bytes: int
    record_count: int
    imported_at: datetime
    imported_by: str
    decisions_imported: int = 0  # calls the file carried, stored with it (set by importing)
    round_number: int = 0  # the update round it belongs to (0: the review's first searches)


@dataclass(frozen=True)
class StoredRecord:
    """A record as kept in a review: its database id, where it came from, and its fields."""

    id: int
    review_id: int
    batch_id: int
    position: int
    record: Record
    duplicate_of: int | None = None


@dataclass(frozen=True)
class Decision:
    id: int
    record_id: int
    stage: str
    reviewer: str
    decision: str
    reason: str
    note: str
    created_at: datetime
    kind: str = "vote"  # vote | resolution


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    review_id: int | None
    action: str
    entity: str
    entity_id: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class HandOut:
    """A record handed to one reviewer when a review splits screening between reviewers."""

    record_id: int
    stage: str
    reviewer: str
    assigned_at: datetime
    expires_at: datetime


def _engine_for(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)

    in_memory = parsed.database in (None, "", ":memory:")
    if in_memory:
        engine = create_engine(parsed, poolclass=StaticPool,
                               connect_args={"check_same_thread": False})
    else:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, open transactions, so that DDL is transactional too.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # A writer takes the lock up front: two writers then queue instead of deadlocking.
        writing = conn.get_execution_options().get("reviewkit_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


class Store:
    """A reviewkit database.  Open it with a URL, or none for the default."""

    def __init__(self, url: str | None = None):
        self.url = url or default_database_url()
        self.engine = _engine_for(self.url)
        self._upgrade()

    # -- connections --------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """Yield a connection inside one write transaction (all or nothing)."""
        with self.engine.connect() as conn:
            conn.execution_options(reviewkit_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """Yield a connection inside a read transaction (one consistent view)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    def _upgrade(self) -> None:
        with self.write() as conn:
            version = schema.stored_version(conn)
            if version == 0:
                schema.create_at(conn, SCHEMA_VERSION)
                return
        if version > SCHEMA_VERSION:
            raise ReviewkitError(
                f"This database uses schema version {version}, newer than this copy of "
                f"reviewkit understands ({SCHEMA_VERSION}). Upgrade reviewkit to open it."
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.write() as conn:
                # Re-check inside the lock: another process may have upgraded meanwhile.
                if schema.stored_version(conn) < target:
                    schema.upgrade_step(conn, target)

    def schema_version(self) -> int:
        with self.read() as conn:
            return schema.stored_version(conn)

    # -- audit --------------------------------------------------------------------------

    @staticmethod
    def audit(conn: Connection, *, actor_id: int, action: str, entity: str,
              entity_id: object = "", review_id: int | None = None,
              details: dict | None = None) -> None:
        """Append one line to the audit log, inside the caller's transaction."""
        conn.execute(audit_log.insert().values(
            at=_now(), actor_id=actor_id, review_id=review_id, action=action,
            entity=entity, entity_id=str(entity_id), details=details or {},
        ))
        if entity == "library_entry" or action.startswith(_LIBRARY_ACTIONS):
            bump_library_version(conn)

    def library_version(self) -> int:
        """A number that grows with every change to the library, seen by every running app."""
        with self.read() as conn:
            value = conn.execute(select(meta.c.value).where(
                meta.c.key == LIBRARY_VERSION_KEY)).scalar()
        return int(value) if value is not None else 0

    def dedup_state(self, review_id: int) -> str:
        """Whether duplicates were looked for since the records last changed by import:
        ``"current"``, ``"stale"`` (an import, or a restored one, came after the latest
        deduplication run) or ``"never"`` (records imported, no run yet); ``"empty"`` when
        nothing was imported."""
        def latest(*actions: str) -> int | None:
            return conn.execute(select(func.max(audit_log.c.id)).where(
                audit_log.c.review_id == review_id, audit_log.c.action.in_(actions))).scalar()

        with self.read() as conn:
            imported = latest("import.create", "import.restore")
            searched = latest("dedup.run")
        if imported is None:
            return "empty" if searched is None else "current"
        if searched is None:
            return "never"
        return "stale" if imported > searched else "current"

    def audit_entries(self, review_id: int | None = None, *, limit: int | None = None
                      ) -> list[AuditEntry]:
        """Return audit lines, newest first, for one review or all."""
        query = (select(audit_log, users.c.username)
                 .join(users, users.c.id == audit_log.c.actor_id)
                 .order_by(audit_log.c.id.desc()))
        if review_id is not None:
            query = query.where(audit_log.c.review_id == review_id)
        if limit:
            query = query.limit(limit)
        with self.read() as conn:
            return [AuditEntry(id=r.id, at=r.at, actor=r.username, review_id=r.review_id,
                               action=r.action, entity=r.entity, entity_id=r.entity_id,
                               details=r.details or {})
                    for r in conn.execute(query)]

    # -- users --------------------------------------------------------------------------

    def ensure_user(self, username: str = DEFAULT_USER, *, role: str | None = None,
                    display_name: str = "") -> User:
        """Return the user named ``username``, creating it when new.

        The default single-user install has one local admin; a new name gets the role given
        (researcher when none).
        """
        username = username.strip()
        if not username:
            raise ReviewkitError("A user name cannot be empty.")
        found = self.get_user(username)
        if found:
            return found
        role = role or ("admin" if username == DEFAULT_USER else "researcher")
        try:
            with self.write() as conn:
                if people.user_id(conn, username) is None:
                    new_id = people.insert_user(conn, username, role=role,
                                                display_name=display_name)
                    self.audit(conn, actor_id=new_id, action="user.create", entity="user",
                               entity_id=new_id, details={"username": username, "role": role})
        except IntegrityError:
            # another process created the same user a moment ago: theirs is the one
            if self.get_user(username) is None:
                raise
        return self.get_user(username)

    def get_user(self, username: str) -> User | None:
        with self.read() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        return User(row.id, row.username, row.display_name, row.role) if row else None

    def _user_id(self, username: str) -> int:
        return self.ensure_user(username).id

    # -- reviews ------------------------------------------------------------------------

    @staticmethod
    def _review(row) -> Review:
        return Review(id=row.id, name=row.name, question=row.question,
                      inclusion_criteria=row.inclusion_criteria,
                      exclusion_criteria=row.exclusion_criteria,
                      settings=dict(row.settings or {}), created_at=row.created_at)

    def create_review(self, name: str, *, actor: str = DEFAULT_USER, question: str = "",
                      inclusion_criteria: str = "", exclusion_criteria: str = "",
                      settings: dict | None = None) -> Review:
        """Create a review; the name must be new."""
        name = " ".join(name.split())
        if not name:
            raise ReviewkitError("A review needs a name.")
        actor_id = self._user_id(actor)
        with self.write() as conn:
            same = conn.execute(select(reviews.c.id, reviews.c.deleted_at)
                                .where(reviews.c.name == name)).first()
            if same is not None and same.deleted_at is not None:
                raise ReviewkitError(f"A review called '{name}' already exists but is deleted: "
                                     f"restore it (review id {same.id}) or choose another name.")
            if same is not None:
                raise ReviewkitError(f"A review called '{name}' already exists.")
            review_id = conn.execute(reviews.insert().values(
                name=name, question=question, inclusion_criteria=inclusion_criteria,
                exclusion_criteria=exclusion_criteria,
                settings={**default_settings(), **(settings or {})},
                created_at=_now(), created_by=actor_id,
            )).inserted_primary_key[0]
            conn.execute(schema.review_members.insert().values(
                review_id=review_id, user_id=actor_id, role="admin", added_at=_now()))
            self.audit(conn, actor_id=actor_id, action="review.create", entity="review",
                       entity_id=review_id, review_id=review_id, details={"name": name})
        return self.get_review(name)

    def find_review(self, name: str) -> Review | None:
        with self.read() as conn:
            row = conn.execute(select(reviews).where(
                reviews.c.name == " ".join(name.split()), live(reviews))).first()
        return self._review(row) if row else None

    def get_review(self, name: str) -> Review:
        found = self.find_review(name)
        if found is None:
            raise NotFoundError(f"There is no review called '{name}'.")
        return found

    def review_by_id(self, review_id: int) -> Review:
        with self.read() as conn:
            row = conn.execute(select(reviews).where(reviews.c.id == review_id)).first()
        if row is None:
            raise NotFoundError(f"There is no review with id {review_id}.")
        return self._review(row)

    def list_reviews(self) -> list[Review]:
        with self.read() as conn:
            rows = conn.execute(select(reviews).where(live(reviews))
                                .order_by(reviews.c.name))
            return [self._review(r) for r in rows]

    def update_review(self, review_id: int, *, actor: str = DEFAULT_USER,
                      settings_update: dict | None = None, **changes) -> Review:
        """Change a review's question, criteria or settings, logging old and new values.

        ``settings`` replaces the whole settings dict; ``settings_update`` changes only the
        keys it names, merged into the settings as they stand inside the transaction (the row
        is locked on PostgreSQL; SQLite writers take turns), so two people changing different
        settings at the same moment both keep their change.
        """
        allowed = {"question", "inclusion_criteria", "exclusion_criteria", "settings"}
        unknown = set(changes) - allowed
        if unknown:
            raise ReviewkitError(f"Cannot change {', '.join(sorted(unknown))} of a review.")
        if settings_update is not None and "settings" in changes:
            raise ReviewkitError("Give either settings or settings_update, not both.")
        actor_id = self._user_id(actor)
        with self.write() as conn:
            old = conn.execute(select(reviews).where(reviews.c.id == review_id)
                               .with_for_update()).first()
            if old is None:
                raise NotFoundError(f"There is no review with id {review_id}.")
            if settings_update is not None:
                changes["settings"] = {**(old.settings or {}), **settings_update}
            conn.execute(reviews.update().where(reviews.c.id == review_id).values(**changes))
            self.audit(conn, actor_id=actor_id, action="review.update", entity="review",
                       entity_id=review_id, review_id=review_id,
                       details={k: {"old": getattr(old, k), "new": v} for k, v in changes.items()})
        return self.review_by_id(review_id)

    # -- imports ------------------------------------------------------------------------

    @staticmethod
    def _batch(row) -> Batch:
        return Batch(id=row.id, review_id=row.review_id, filename=row.filename, format=row.format,
                     database_name=row.database_name, search_date=row.search_date,
                     search_query=row.search_query, sha256=row.sha256, size_bytes=row.size_bytes,
                     record_count=row.record_count, imported_at=row.imported_at,
                     imported_by=row.username, round_number=row.round_number or 0)

    def _batch_query(self):
        return (select(import_batches, users.c.username)
                .join(users, users.c.id == import_batches.c.imported_by)
                .where(live(import_batches)))

    def find_batch(self, review_id: int, sha256: str) -> Batch | None:
        """Return the earlier import of the same bytes into this review, if any."""
        with self.read() as conn:
            row = conn.execute(self._batch_query().where(
                import_batches.c.review_id == review_id, import_batches.c.sha256 == sha256)).first()
        return self._batch(row) if row else None

    def list_batches(self, review_id: int) -> list[Batch]:
        with self.read() as conn:
            rows = conn.execute(self._batch_query().where(import_batches.c.review_id == review_id)
                                .order_by(import_batches.c.id))
            return [self._batch(r) for r in rows]

    def add_import(self, review_id: int, parsed: list[Record], *, actor: str = DEFAULT_USER,
                   filename: str, format: str, sha256: str, size_bytes: int,
                   database_name: str = "", search_date: str = "", search_query: str = "",
                   decisions: dict[int, list] | None = None,
                   search: dict[str, str] | None = None) -> Batch:
        """Store one imported file and all its records in a single transaction.

        ``search`` (checked fields of :mod:`reviewkit.search_record`) is stored as the
        import's search record in the same transaction; its database, date and search string,
        when given, win over ``database_name``, ``search_date`` and ``search_query``.

        ``decisions`` maps a record's 1-based place in the file to the calls the file carried
        for it (objects with stage, decision, reason and note, as
        :func:`reviewkit.decisions.settled_calls` makes); they are stored as ``actor``'s votes
        in the same transaction, and full-text reasons the review lacks join its list.

        Raises DuplicateImportError (leaving the database untouched) when the same bytes were
        already imported into this review.
        """
        actor_id = self._user_id(actor)
        now = _now()
        try:
            with self.write() as conn:
                earlier = conn.execute(self._batch_query().where(
                    import_batches.c.review_id == review_id, import_batches.c.sha256 == sha256)).first()
                if earlier is not None:
                    raise duplicate_import_error(filename, self._batch(earlier))
                from reviewkit.store.rounds import current_round_number

                batch_id = conn.execute(import_batches.insert().values(
                    review_id=review_id, round_number=current_round_number(conn, review_id),
                    filename=filename, format=format,
                    database_name=database_name, search_date=search_date, search_query=search_query,
                    sha256=sha256, size_bytes=size_bytes, record_count=len(parsed),
                    imported_at=now, imported_by=actor_id,
                )).inserted_primary_key[0]
                rows = [_record_row(rec, review_id=review_id, batch_id=batch_id, position=i,
                                    now=now) for i, rec in enumerate(parsed, start=1)]
                for start in range(0, len(rows), 5000):
                    conn.execute(records.insert(), rows[start:start + 5000])
                with_text = [(i, rec) for i, rec in enumerate(parsed, start=1) if rec.full_text]
                if with_text:
                    ids = dict(conn.execute(select(records.c.position, records.c.id)
                                            .where(records.c.batch_id == batch_id)).all())
                    conn.execute(fulltexts.insert(), [
                        {"record_id": ids[i], "filename": filename, "sha256": sha256,
                         "content": None, "text": rec.full_text, "attached_by": actor_id,
                         "attached_at": now} for i, rec in with_text])
                self.audit(conn, actor_id=actor_id, action="import.create", entity="import_batch",
                           entity_id=batch_id, review_id=review_id,
                           details={"filename": filename, "format": format, "records": len(parsed),
                                    "database": database_name, "sha256": sha256})
                if search:
                    from reviewkit.store.search_record import SEARCH_FIELDS, save_search_record

                    given = {"method": "database", "database": database_name,
                             "date_searched": search_date, "search_string": search_query}
                    values = ({name: "" for name in SEARCH_FIELDS} | given
                              | {k: v for k, v in search.items() if v or k not in given})
                    save_search_record(conn, batch_id=batch_id, review_id=review_id,
                                       values=values, actor_id=actor_id, now=now)
                if decisions:
                    self._add_imported_decisions(conn, review_id, batch_id, actor_id, decisions,
                                                 filename=filename, now=now)
                row = conn.execute(self._batch_query().where(import_batches.c.id == batch_id)).one()
        except IntegrityError as exc:
            # Another import of the same bytes committed first (the live-import unique index).
            earlier = self.find_batch(review_id, sha256)
            if earlier is None:
                raise
            raise duplicate_import_error(filename, earlier) from exc
        return self._batch(row)

    def _add_imported_decisions(self, conn: Connection, review_id: int, batch_id: int,
                                actor_id: int, calls_by_position: dict[int, list], *,
                                filename: str,
                                now: datetime) -> None:
        review = self._review(conn.execute(select(reviews).where(reviews.c.id == review_id))
                              .one())
        listed = exclusion_reasons(review)
        known = {x.casefold() for x in listed}
        missing = list(dict.fromkeys(
            " ".join(c.reason.split()) for calls in calls_by_position.values() for c in calls
            if c.stage == "full_text" and c.decision == "exclude" and c.reason.strip()
            and " ".join(c.reason.split()).casefold() not in known))
        if missing:
            settings = {**review.settings, "exclusion_reasons": listed + missing}
            conn.execute(reviews.update().where(reviews.c.id == review_id)
                         .values(settings=settings))
            self.audit(conn, actor_id=actor_id, action="review.update", entity="review",
                       entity_id=review_id, review_id=review_id,
                       details={"settings": {"old": review.settings, "new": settings},
                                "imported_from": filename})
        ids = dict(conn.execute(select(records.c.position, records.c.id)
                                .where(records.c.batch_id == batch_id)).all())
        for position, calls in sorted(calls_by_position.items()):
            for call in calls:
                if call.stage not in STAGES or call.decision not in DECISIONS:
                    continue
                reason = call.reason
                if call.stage == "full_text" and call.decision == "exclude":
                    reason = _listed_reason(conn, review_id, reason)
                decision_id = conn.execute(decisions.insert().values(
                    review_id=review_id, record_id=ids[position], stage=call.stage,
                    reviewer_id=actor_id, decision=call.decision, kind="vote", reason=reason,
                    note=call.note, created_at=now)).inserted_primary_key[0]
                self.audit(conn, actor_id=actor_id, action="decision.add", entity="record",
                           entity_id=ids[position], review_id=review_id,
                           details={"stage": call.stage, "decision": call.decision,
                                    "reason": reason, "decision_id": decision_id,
                                    "imported_from": filename})

    def add_fulltext(self, record_id: int, *, filename: str, sha256: str, content: bytes | None,
                     text: str, actor: str = DEFAULT_USER) -> None:
        """Attach a full-text file to a record; an earlier attachment is kept but set aside."""
        actor_id = self._user_id(actor)
        now = _now()
        with self.write() as conn:
            review_id = _review_of(conn, record_id)
            conn.execute(fulltexts.update().where(fulltexts.c.record_id == record_id,
                                                  live(fulltexts))
                         .values(deleted_at=now))
            conn.execute(fulltexts.insert().values(
                record_id=record_id, filename=filename, sha256=sha256, content=content,
                text=text, attached_by=actor_id, attached_at=now))
            self.audit(conn, actor_id=actor_id, action="fulltext.attach", entity="record",
                       entity_id=record_id, review_id=review_id,
                       details={"filename": filename, "sha256": sha256, "characters": len(text)})

    def fulltext_file(self, record_id: int) -> tuple[str, bytes | None] | None:
        """Return (file name, original bytes) of a record's current full text, if any."""
        with self.read() as conn:
            row = conn.execute(select(fulltexts.c.filename, fulltexts.c.content).where(
                fulltexts.c.record_id == record_id, live(fulltexts))
                .order_by(fulltexts.c.id.desc())).first()
        return (row.filename, row.content) if row else None

    def records_with_fulltext(self, review_id: int) -> set[int]:
        with self.read() as conn:
            return set(conn.execute(select(fulltexts.c.record_id).join(
                records, records.c.id == fulltexts.c.record_id).where(
                records.c.review_id == review_id, live(records),
                live(fulltexts))).scalars())

    def attach_file_content(self, record_id: int, content: bytes) -> None:
        """Keep the original bytes of a full-text file next to its extracted text."""
        with self.write() as conn:
            conn.execute(fulltexts.update().where(fulltexts.c.record_id == record_id,
                                                  fulltexts.c.content.is_(None))
                         .values(content=content))

    # -- records ------------------------------------------------------------------------

    def _record_filter(self, review_id: int, search: str | None):
        clauses = [records.c.review_id == review_id, live(records)]
        if search and search.strip():
            for word in search.split():
                # A typed % or _ means that character, not LIKE's wildcard; control characters
                # (PostgreSQL refuses NUL) can never match stored text, which has none.
                word = "".join(ch for ch in word if ch.isprintable())
                if not word:
                    continue
                literal = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                pattern = f"%{literal}%"
                clauses.append(or_(*(column.ilike(pattern, escape="\\") for column in (
                    records.c.title, records.c.abstract, records.c.journal, records.c.doi,
                    cast(records.c.authors, String), cast(records.c.keywords, String)))))
        return and_(*clauses)

    def count_records(self, review_id: int, *, search: str | None = None) -> int:
        with self.read() as conn:
            return conn.execute(select(func.count()).select_from(records)
                                .where(self._record_filter(review_id, search))).scalar_one()

    def list_records(self, review_id: int, *, search: str | None = None,
                     order_by: str = "id", descending: bool = False,
                     limit: int | None = None, offset: int = 0) -> list[StoredRecord]:
        """Return a review's records, optionally filtered by words and sorted by a column."""
        if order_by not in records.c:
            raise ReviewkitError(f"Cannot sort records by '{order_by}'.")
        column = records.c[order_by]
        query = (select(records).where(self._record_filter(review_id, search))
                 .order_by(column.desc() if descending else column, records.c.id)
                 .offset(offset))
        if limit is not None:
            query = query.limit(limit)
        with self.read() as conn:
            return [_stored(r) for r in conn.execute(query)]

    def filtered_records(self, review_id: int, *, search: str | None = None, **where
                         ) -> tuple[int, list[StoredRecord]]:
        """Return (how many kept records match a decision filter, one page of them); the
        filter's options are those of :func:`reviewkit.store.decision_filter.filtered_records`."""
        from reviewkit.store.decision_filter import filtered_records

        if where.get("order_by", "id") not in records.c:
            raise ReviewkitError(f"Cannot sort records by '{where['order_by']}'.")
        with self.read() as conn:
            total, rows = filtered_records(conn, review_id,
                                           search_clause=self._record_filter(review_id, search),
                                           **where)
        return total, [_stored(r) for r in rows]

    def get_record(self, record_id: int) -> StoredRecord:
        with self.read() as conn:
            row = conn.execute(select(records).where(records.c.id == record_id)).first()
            if row is None:
                raise NotFoundError(f"There is no record with id {record_id}.")
            text = conn.execute(select(fulltexts.c.text).where(
                fulltexts.c.record_id == record_id, live(fulltexts))
                .order_by(fulltexts.c.id.desc())).scalar()
        stored = _stored(row)
        if text:
            stored.record.full_text = text
        return stored

    def kept_record_ids(self, review_id: int) -> list[int]:
        """Ids of the records that remain after deduplication: the ones to screen."""
        with self.read() as conn:
            return list(conn.execute(select(records.c.id).where(
                records.c.review_id == review_id, live(records),
                records.c.duplicate_of.is_(None)).order_by(records.c.id)).scalars())

    def record_summaries(self, record_ids: Iterable[int]) -> dict[int, Any]:
        """Title, year and journal of each record in ``record_ids``, by id, in one read
        (instead of a whole record per id)."""
        with self.read() as conn:
            return record_rows.summaries_by_id(conn, record_ids)

    def kept_titles_abstracts(self, review_id: int) -> list[tuple[int, str, str]]:
        """(id, title, abstract) of the records left after deduplication, by id: what the
        screening ranker reads, without building whole records (seconds at 10,000)."""
        with self.read() as conn:
            rows = conn.execute(select(records.c.id, records.c.title, records.c.abstract).where(
                records.c.review_id == review_id, live(records),
                records.c.duplicate_of.is_(None)).order_by(records.c.id))
            return [(rid, title or "", abstract or "") for rid, title, abstract in rows]

    def count_duplicates(self, review_id: int) -> int:
        """How many records were merged into another as duplicates."""
        with self.read() as conn:
            return conn.execute(select(func.count()).select_from(records).where(
                records.c.review_id == review_id, live(records),
                records.c.duplicate_of.is_not(None))).scalar_one()

    def counts_by_source(self, review_id: int) -> list[tuple[str, int]]:
        """Return (database name, records identified) per source, for PRISMA's first box.

        Deleted imports and deleted records do not count.
        """
        name = func.coalesce(func.nullif(import_batches.c.database_name, ""),
                             import_batches.c.filename)
        query = (select(name.label("source"), func.count(records.c.id))
                 .join(records, records.c.batch_id == import_batches.c.id)
                 .where(import_batches.c.review_id == review_id,
                        live(import_batches), live(records))
                 .group_by(name).order_by(name))
        with self.read() as conn:
            return [(source, int(total)) for source, total in conn.execute(query)]

    # -- duplicates ---------------------------------------------------------------------

    def duplicate_groups(self, review_id: int) -> dict[int, list[int]]:
        """Return {kept record id: [ids merged into it]} for every merged group."""
        groups: dict[int, list[int]] = {}
        with self.read() as conn:
            for rid, kept in conn.execute(select(records.c.id, records.c.duplicate_of).where(
                    records.c.review_id == review_id, live(records),
                    records.c.duplicate_of.is_not(None)).order_by(records.c.id)):
                groups.setdefault(kept, []).append(rid)
        return groups

    def records_with_decisions(self, review_id: int) -> set[int]:
        """Ids of records anyone has screened (these stay the kept record of a group)."""
        with self.read() as conn:
            return set(conn.execute(select(decisions.c.record_id).where(
                decisions.c.review_id == review_id).distinct()).scalars())

    def save_duplicates(self, review_id: int, *, merges: dict[int, int],
                        pairs: list[dict], actor: str = DEFAULT_USER, summary: dict | None = None
                        ) -> dict[int, int]:
        """Store one deduplication run in a single transaction.

        ``merges`` maps a record id to the id of the record it is a duplicate of; ``pairs``
        are the scored pairs to keep (keys left_id, right_id, score, reasons, status), replacing
        the undecided pairs of earlier runs.  Pairs a person already decided are kept, and so
        are the automatic merges of earlier runs: they say why their groups were merged.

        A record with a standing decision is never merged away, even one decided after the
        caller looked: it stays on its own (its pair stays for a person to check).  Returns
        the merges made.
        """
        actor_id = self._user_id(actor)
        with self.write() as conn:
            conn.execute(select(reviews.c.id).where(reviews.c.id == review_id)
                         .with_for_update())
            screened = set(conn.execute(select(decisions.c.record_id).where(
                decisions.c.review_id == review_id, decisions.c.superseded_at.is_(None))
            ).scalars())
            held_back = sorted(rid for rid in merges if rid in screened)
            merges = {rid: kept for rid, kept in merges.items() if rid not in screened}
            decided = {(r.left_id, r.right_id) for r in conn.execute(
                select(duplicate_pairs.c.left_id, duplicate_pairs.c.right_id).where(
                    duplicate_pairs.c.review_id == review_id,
                    or_(duplicate_pairs.c.decided_by.is_not(None),
                        duplicate_pairs.c.status == "duplicate")))}
            conn.execute(duplicate_pairs.delete().where(
                duplicate_pairs.c.review_id == review_id, duplicate_pairs.c.decided_by.is_(None),
                duplicate_pairs.c.status != "duplicate"))
            fresh = [dict(p, review_id=review_id) for p in pairs
                     if (p["left_id"], p["right_id"]) not in decided]
            if fresh:
                conn.execute(duplicate_pairs.insert(), fresh)
            for rid, kept in merges.items():
                # the record, and any records merged into it earlier, now point at the keeper
                conn.execute(records.update().where(
                    records.c.review_id == review_id,
                    or_(records.c.id == rid, records.c.duplicate_of == rid))
                    .values(duplicate_of=kept))
            self.audit(conn, actor_id=actor_id, action="dedup.run", entity="review",
                       entity_id=review_id, review_id=review_id,
                       details={"merged": len(merges), "pairs": len(fresh), **(summary or {}),
                                "merges": {str(k): v for k, v in merges.items()},
                                **({"held_back_screened": held_back} if held_back else {})})
        return merges

    def duplicate_pairs(self, review_id: int, *, status: str | None = None) -> list[dict]:
        """Return scored pairs (optionally of one status) as plain dicts; pairs with a
        deleted record are left out."""
        present = select(records.c.id).where(records.c.review_id == review_id, live(records))
        query = select(duplicate_pairs).where(duplicate_pairs.c.review_id == review_id,
                                              duplicate_pairs.c.left_id.in_(present),
                                              duplicate_pairs.c.right_id.in_(present))
        if status:
            query = query.where(duplicate_pairs.c.status == status)
        with self.read() as conn:
            return [dict(r._mapping) for r in conn.execute(query.order_by(
                duplicate_pairs.c.score.desc(), duplicate_pairs.c.id))]

    def decide_pair(self, pair_id: int, status: str, *, actor: str = DEFAULT_USER) -> dict:
        """A person's call on a possible duplicate: same (merge), different, or skipped."""
        if status not in ("same", "different", "skipped", "possible"):
            raise ReviewkitError(f"Unknown duplicate decision '{status}'.")
        actor_id = self._user_id(actor)
        now = _now()
        with self.write() as conn:
            pair = conn.execute(select(duplicate_pairs).where(duplicate_pairs.c.id == pair_id)).first()
            if pair is None:
                raise NotFoundError(f"There is no duplicate pair with id {pair_id}.")
            undo = status == "possible"
            conn.execute(duplicate_pairs.update().where(duplicate_pairs.c.id == pair_id).values(
                status=status, decided_by=None if undo else actor_id,
                decided_at=None if undo else now))
            kept_of = dict(conn.execute(select(records.c.id, records.c.duplicate_of).where(
                records.c.id.in_([pair.left_id, pair.right_id]))).all())
            left = kept_of[pair.left_id] or pair.left_id
            right = kept_of[pair.right_id] or pair.right_id
            if status == "same" and left != right:
                screened = set(conn.execute(select(decisions.c.record_id).where(
                    decisions.c.record_id.in_([left, right]))).scalars())
                keep, drop = (right, left) if (right in screened and left not in screened) \
                    else (min(left, right), max(left, right))
                conn.execute(records.update().where(
                    or_(records.c.id == drop, records.c.duplicate_of == drop))
                    .values(duplicate_of=keep))
            if pair.status == "same" and status != "same":
                # taking back an earlier 'same': split the one the pair had merged
                later = max(pair.left_id, pair.right_id)
                conn.execute(records.update().where(records.c.id == later)
                             .values(duplicate_of=None))
            self.audit(conn, actor_id=actor_id, action=f"dedup.{status}", entity="duplicate_pair",
                       entity_id=pair_id, review_id=pair.review_id,
                       details={"left": pair.left_id, "right": pair.right_id,
                                "was": pair.status})
            return dict(conn.execute(select(duplicate_pairs).where(
                duplicate_pairs.c.id == pair_id)).one()._mapping)

    def unmerge(self, record_id: int, *, actor: str = DEFAULT_USER) -> list[int]:
        """Split a merged group: every record in it stands alone again.  Returns their ids."""
        actor_id = self._user_id(actor)
        with self.write() as conn:
            row = conn.execute(select(records.c.review_id, records.c.duplicate_of)
                               .where(records.c.id == record_id)).first()
            if row is None:
                raise NotFoundError(f"There is no record with id {record_id}.")
            kept = row.duplicate_of or record_id
            members = list(conn.execute(select(records.c.id).where(
                records.c.duplicate_of == kept)).scalars())
            conn.execute(records.update().where(records.c.duplicate_of == kept)
                         .values(duplicate_of=None))
            members_and_kept = [kept, *members]
            conn.execute(duplicate_pairs.update().where(
                duplicate_pairs.c.left_id.in_(members_and_kept),
                duplicate_pairs.c.right_id.in_(members_and_kept)).values(
                status="different", decided_by=actor_id, decided_at=_now()))
            self.audit(conn, actor_id=actor_id, action="dedup.unmerge", entity="record",
                       entity_id=kept, review_id=row.review_id, details={"records": members_and_kept})
        return members_and_kept

    # -- decisions ----------------------------------------------------------------------

    def add_decision(self, record_id: int, *, stage: str, decision: str, reviewer: str,
                     reason: str = "", note: str = "", kind: str = "vote") -> Decision:
        """Record a reviewer's decision on a record; their earlier one at that stage is superseded.

        ``kind="resolution"`` settles a disagreement between reviewers.
        """
        if kind not in DECISION_KINDS:
            raise ReviewkitError(f"Unknown kind of decision '{kind}'.")
        if stage not in STAGES:
            raise ReviewkitError(f"Unknown screening stage '{stage}' (use one of {', '.join(STAGES)}).")
        if decision not in DECISIONS:
            raise ReviewkitError(f"Unknown decision '{decision}' (use one of {', '.join(DECISIONS)}).")
        reviewer_id = self._user_id(reviewer)

        def save() -> Decision:
            nonlocal reason
            now = _now()
            with self.write() as conn:
                review_id = _review_of(conn, record_id)
                # Shares the review row with other decisions; a deduplication run writing its
                # merges holds it alone, so it sees every decision committed before it merges.
                conn.execute(select(reviews.c.id).where(reviews.c.id == review_id)
                             .with_for_update(read=True))
                if stage == "full_text" and decision == "exclude":
                    reason = _listed_reason(conn, review_id, reason)
                conn.execute(decisions.update().where(
                    decisions.c.record_id == record_id, decisions.c.stage == stage,
                    decisions.c.reviewer_id == reviewer_id, decisions.c.kind == kind,
                    decisions.c.superseded_at.is_(None),
                ).values(superseded_at=now))
                decision_id = conn.execute(decisions.insert().values(
                    review_id=review_id, record_id=record_id, stage=stage,
                    reviewer_id=reviewer_id, decision=decision, kind=kind, reason=reason,
                    note=note, created_at=now,
                )).inserted_primary_key[0]
                if kind == "vote":
                    # answering a hand-out completes it
                    conn.execute(screening_assignments.delete().where(
                        screening_assignments.c.review_id == review_id,
                        screening_assignments.c.stage == stage,
                        screening_assignments.c.record_id == record_id,
                        screening_assignments.c.reviewer_id == reviewer_id))
                self.audit(conn, actor_id=reviewer_id, action=f"decision.{'resolve' if kind == 'resolution' else 'add'}",
                           entity="record", entity_id=record_id, review_id=review_id,
                           details={"stage": stage, "decision": decision, "reason": reason,
                                    "decision_id": decision_id})
            return Decision(decision_id, record_id, stage, reviewer, decision, reason, note,
                            now, kind)

        # Two tabs saving at once: the later one meets the first one's standing decision in
        # the unique index, and simply runs again, now superseding it.
        return _retrying(save)

    def undo_decision(self, record_id: int, *, stage: str, reviewer: str,
                      hold_minutes: float | None = None) -> Decision | None:
        """Withdraw a reviewer's current decision and bring back the one it replaced, if any.

        Returns the decision now standing (None when the record is unscreened again).  With
        ``hold_minutes`` (split screening), a record left without this reviewer's vote is
        handed back to them in the same transaction, unless another reviewer holds it now,
        so nobody else is handed the record they are about to decide again.
        """
        reviewer_id = self._user_id(reviewer)
        mine = (decisions.c.record_id == record_id, decisions.c.stage == stage,
                decisions.c.reviewer_id == reviewer_id, decisions.c.kind == "vote")

        def withdraw() -> Decision | None:
            now = _now()
            with self.write() as conn:
                current = conn.execute(select(decisions).where(
                    *mine, decisions.c.superseded_at.is_(None))).first()
                if current is None:
                    return None
                withdrawn = conn.execute(decisions.update().where(
                    decisions.c.id == current.id, decisions.c.superseded_at.is_(None))
                    .values(superseded_at=now, undone_at=now))
                if withdrawn.rowcount != 1:
                    # another tab changed this decision meanwhile: look again from the start
                    raise _WriteRace("the decision changed while it was being undone")
                previous = conn.execute(select(decisions).where(
                    *mine, decisions.c.id < current.id, decisions.c.undone_at.is_(None))
                    .order_by(decisions.c.id.desc()).limit(1)).first()
                restored = None
                if previous is not None:
                    conn.execute(decisions.update().where(decisions.c.id == previous.id)
                                 .values(superseded_at=None))
                    restored = Decision(previous.id, record_id, stage, reviewer,
                                        previous.decision, previous.reason, previous.note,
                                        previous.created_at)
                self.audit(conn, actor_id=reviewer_id, action="decision.undo", entity="record",
                           entity_id=record_id, review_id=current.review_id,
                           details={"stage": stage, "withdrawn": current.decision,
                                    "restored": restored.decision if restored else None})
                if hold_minutes is not None and restored is None:
                    self._hold_after_undo(conn, current.review_id, stage, record_id,
                                          reviewer_id, now + timedelta(minutes=hold_minutes))
            return restored

        return _retrying(withdraw)

    def _hold_after_undo(self, conn: Connection, review_id: int, stage: str, record_id: int,
                         reviewer_id: int, expires_at: datetime) -> bool:
        held_out = screening_assignments
        row = conn.execute(select(held_out).where(
            held_out.c.review_id == review_id, held_out.c.stage == stage,
            held_out.c.record_id == record_id)).first()
        if row is not None and row.reviewer_id != reviewer_id and _aware(row.expires_at) > _now():
            return False  # another reviewer has it just now
        if not _take_hand_out(conn, review_id, stage, record_id, reviewer_id, row, expires_at):
            raise _WriteRace("the record was handed out while the decision was being undone")
        self.audit(conn, actor_id=reviewer_id, action="screening.claim", entity="record",
                   entity_id=record_id, review_id=review_id,
                   details={"stage": stage, "expires_at": expires_at.isoformat(),
                            "taken_over_from": row.reviewer_id if row else None,
                            "after_undo": True})
        return True

    def current_decisions(self, review_id: int, *, stage: str) -> list[Decision]:
        """Return every reviewer's standing decision at a stage."""
        query = (select(decisions, users.c.username)
                 .join(users, users.c.id == decisions.c.reviewer_id)
                 .join(records, records.c.id == decisions.c.record_id)
                 .where(decisions.c.review_id == review_id, decisions.c.stage == stage,
                        decisions.c.superseded_at.is_(None), live(records))
                 .order_by(decisions.c.id))
        with self.read() as conn:
            return [Decision(r.id, r.record_id, r.stage, r.username, r.decision, r.reason,
                             r.note, r.created_at, r.kind) for r in conn.execute(query)]

    # -- split screening: hand-outs ------------------------------------------------------

    def claim_next(self, review_id: int, stage: str, reviewer: str, candidates: Sequence[int],
                   *, lease_minutes: float = 30, votes_needed: int = 1) -> int | None:
        """Hand ``reviewer`` one record from ``candidates`` (best first) that nobody else holds.

        The reviewer's own live hand-out comes back first.  Otherwise the first candidate is
        taken that nobody holds (or whose hand-out has lapsed), that the reviewer has not
        voted on, that nobody resolved and that has fewer than ``votes_needed`` standing
        votes; it is theirs for ``lease_minutes``.  None when no candidate is free.

        Many reviewers may ask at the same moment: the table's primary key lets only one
        hand-out of a record stand, and a lapsed one is taken over only while its expiry is
        still the one that was read (compare and set).
        """
        if stage not in STAGES:
            raise ReviewkitError(f"Unknown screening stage '{stage}' (use one of {', '.join(STAGES)}).")
        if lease_minutes < 0:
            raise ReviewkitError("A hand-out cannot last less than no time at all.")
        order = list(dict.fromkeys(int(rid) for rid in candidates))
        if not order:
            return None
        reviewer_id = self._user_id(reviewer)
        lease = timedelta(minutes=lease_minutes)
        held_out = screening_assignments
        key = (held_out.c.review_id == review_id, held_out.c.stage == stage)

        def claim() -> int | None:
            now = _now()
            with self.write() as conn:
                # Hand-outs are read before votes: an answer removes its hand-out in the same
                # transaction, so a record answered meanwhile shows up in one read or the other.
                held = {r.record_id: r for r in conn.execute(select(held_out).where(*key))}
                answered = _answered(conn, review_id, stage, reviewer_id, votes_needed)
                for rid in order:
                    row = held.get(rid)
                    if (row is not None and row.reviewer_id == reviewer_id
                            and _aware(row.expires_at) > now and rid not in answered):
                        return rid
                for rid in order:
                    row = held.get(rid)
                    if rid in answered or (row is not None and _aware(row.expires_at) > now):
                        continue
                    if not _take_hand_out(conn, review_id, stage, rid, reviewer_id, row,
                                          now + lease):
                        continue
                    if _answered(conn, review_id, stage, reviewer_id, votes_needed, record_id=rid):
                        # answered by someone between our first look and the hand-out
                        conn.execute(held_out.delete().where(*key, held_out.c.record_id == rid))
                        continue
                    self.audit(conn, actor_id=reviewer_id, action="screening.claim",
                               entity="record", entity_id=rid, review_id=review_id,
                               details={"stage": stage, "expires_at": (now + lease).isoformat(),
                                        "taken_over_from": row.reviewer_id if row else None})
                    return rid
            return None

        return _retrying(claim)

    def release(self, review_id: int, stage: str, reviewer: str, *,
                record_id: int | None = None) -> int:
        """Give back a reviewer's hand-outs at a stage (one record, or all); returns how many."""
        reviewer_id = self._user_id(reviewer)
        held_out = screening_assignments
        mine = [held_out.c.review_id == review_id, held_out.c.stage == stage,
                held_out.c.reviewer_id == reviewer_id]
        if record_id is not None:
            mine.append(held_out.c.record_id == record_id)
        with self.write() as conn:
            given_back = list(conn.execute(select(held_out.c.record_id).where(*mine)).scalars())
            if given_back:
                conn.execute(held_out.delete().where(*mine))
                self.audit(conn, actor_id=reviewer_id, action="screening.release",
                           entity="review", entity_id=review_id, review_id=review_id,
                           details={"stage": stage, "records": sorted(given_back)})
        return len(given_back)

    def hand_outs(self, review_id: int, stage: str, *, live_only: bool = True) -> list[HandOut]:
        """The records handed out at a stage and to whom (only unexpired ones unless asked)."""
        held_out = screening_assignments
        query = (select(held_out, users.c.username)
                 .join(users, users.c.id == held_out.c.reviewer_id)
                 .where(held_out.c.review_id == review_id, held_out.c.stage == stage)
                 .order_by(held_out.c.assigned_at, held_out.c.record_id))
        now = _now()
        with self.read() as conn:
            rows = list(conn.execute(query))
        return [HandOut(r.record_id, r.stage, r.username, _aware(r.assigned_at),
                        _aware(r.expires_at))
                for r in rows if not live_only or _aware(r.expires_at) > now]


# How often a write that lost a race with a concurrent one is run again before giving up.
_WRITE_ATTEMPTS = 8
# PostgreSQL's codes for a unique violation, a serialization failure and a deadlock.
_RACE_SQLSTATES = frozenset({"23505", "40001", "40P01"})
_T = TypeVar("_T")


class _WriteRace(Exception):
    """A concurrent writer changed what a transaction relied on; running it again is safe."""


def _lost_a_race(exc: Exception) -> bool:
    if isinstance(exc, _WriteRace):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    if state:
        return state in _RACE_SQLSTATES
    message = str(exc.orig).lower()
    return "unique constraint failed" in message or "database is locked" in message


def _retrying(work: Callable[[], _T]) -> _T:
    """Run a whole write transaction, again (a bounded number of times) when it lost a race."""
    for attempt in range(1, _WRITE_ATTEMPTS + 1):
        try:
            return work()
        except Exception as exc:
            if attempt == _WRITE_ATTEMPTS or not _lost_a_race(exc):
                raise
        # a short random pause, so that the two writers do not collide again in step
        time.sleep(random.uniform(0, 0.002 * 2 ** attempt))
    raise AssertionError("unreachable")


def _aware(moment: datetime) -> datetime:
    """SQLite gives times back without their zone; reviewkit stores them all in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def note_login_failure(conn: Connection, key: str, now: datetime) -> int:
    """Count one more failed login for ``key``; return its failures so far (atomic +1)."""
    _insert_if_absent(conn, login_throttle, {"key": key, "failures": 0})
    conn.execute(login_throttle.update().where(login_throttle.c.key == key).values(
        failures=login_throttle.c.failures + 1, last_failure_at=now))
    return conn.execute(select(login_throttle.c.failures)
                        .where(login_throttle.c.key == key)).scalar_one()


def lock_login(conn: Connection, key: str, until: datetime) -> None:
    conn.execute(login_throttle.update().where(login_throttle.c.key == key)
                 .values(locked_until=until))


def login_locked_until(conn: Connection, keys: Sequence[str]) -> datetime | None:
    """The latest time any of ``keys`` is locked until (None when none is locked)."""
    found = conn.execute(select(func.max(login_throttle.c.locked_until))
                         .where(login_throttle.c.key.in_(list(keys)))).scalar()
    return _aware(found) if found is not None else None


def clear_login_failures(conn: Connection, keys: Sequence[str]) -> None:
    conn.execute(login_throttle.delete().where(login_throttle.c.key.in_(list(keys))))


def bump_library_version(conn: Connection) -> None:
    """Move the stored library version on by one, inside the caller's transaction."""
    step = (meta.update().where(meta.c.key == LIBRARY_VERSION_KEY)
            .values(value=cast(cast(meta.c.value, Integer) + 1, Text)))
    if conn.execute(step).rowcount:
        return
    if not _insert_if_absent(conn, meta, {"key": LIBRARY_VERSION_KEY, "value": "1"}):
        conn.execute(step)  # another writer made the row a moment ago


def _insert_if_absent(conn: Connection, table, values: dict) -> bool:
    """Insert one row unless its primary key is taken; True when this call inserted it."""
    dialect = {"postgresql": pg_dialect, "sqlite": sqlite_dialect}.get(conn.dialect.name)
    if dialect is None:
        with conn.begin_nested() as savepoint:
            try:
                conn.execute(table.insert().values(**values))
            except DBAPIError:
                savepoint.rollback()
                return False
        return True
    # psycopg reports no row count for INSERT … ON CONFLICT: ask for the new row back instead
    statement = (dialect.insert(table).values(**values).on_conflict_do_nothing()
                 .returning(*table.primary_key.columns))
    return conn.execute(statement).first() is not None


def _take_hand_out(conn: Connection, review_id: int, stage: str, record_id: int,
                   reviewer_id: int, row, expires_at: datetime) -> bool:
    """Hand a record to a reviewer until ``expires_at``; True when it is now theirs.

    ``row`` is the record's hand-out as read earlier in this transaction (None when there was
    none): a new one is inserted unless another writer got there first, and an existing one is
    taken over only while its expiry is still the one that was read (compare and set).
    """
    held_out = screening_assignments
    values = {"reviewer_id": reviewer_id, "assigned_at": _now(), "expires_at": expires_at}
    if row is None:
        return _insert_if_absent(conn, held_out, {
            **values, "review_id": review_id, "stage": stage, "record_id": record_id})
    return conn.execute(held_out.update().where(
        held_out.c.review_id == review_id, held_out.c.stage == stage,
        held_out.c.record_id == record_id, held_out.c.expires_at == row.expires_at
    ).values(**values)).rowcount == 1


def _answered(conn: Connection, review_id: int, stage: str, reviewer_id: int, votes_needed: int,
              *, record_id: int | None = None) -> set[int]:
    """Records that need no more hand-outs at a stage for this reviewer.

    Those the reviewer voted on, those somebody resolved, and those that already have
    ``votes_needed`` standing votes.
    """
    d = decisions
    where = [d.c.review_id == review_id, d.c.stage == stage, d.c.superseded_at.is_(None)]
    if record_id is not None:
        where.append(d.c.record_id == record_id)
    is_vote = d.c.kind == "vote"
    votes = func.sum(case((is_vote, 1), else_=0))
    mine = func.sum(case((and_(is_vote, d.c.reviewer_id == reviewer_id), 1), else_=0))
    resolved = func.sum(case((d.c.kind == "resolution", 1), else_=0))
    query = (select(d.c.record_id).where(*where).group_by(d.c.record_id)
             .having(or_(votes >= votes_needed, mine > 0, resolved > 0)))
    return set(conn.execute(query).scalars())


def _review_of(conn: Connection, record_id: int) -> int:
    """The review a record belongs to; NotFoundError when there is no such record."""
    review_id = conn.execute(select(records.c.review_id).where(records.c.id == record_id)).scalar()
    if review_id is None:
        raise NotFoundError(f"There is no record with id {record_id}.")
    return review_id


def duplicate_import_error(filename: str, earlier: Batch) -> DuplicateImportError:
    """Explain that a file's bytes were imported into the review before."""
    return DuplicateImportError(
        f"{filename}: this file was already imported into this review on "
        f"{earlier.imported_at:%Y-%m-%d %H:%M} as '{earlier.filename}' "
        f"({earlier.record_count} records). Nothing was imported again.")


def _listed_reason(conn: Connection, review_id: int, reason: str) -> str:
    """The review's own spelling of ``reason``; refuse a reason missing from its list."""
    row = conn.execute(select(reviews).where(reviews.c.id == review_id)).first()
    listed = exclusion_reasons(Store._review(row))
    found = {x.casefold(): x for x in listed}.get(" ".join(reason.split()).casefold())
    if found is None:
        raise ReviewkitError(
            ("A full-text exclusion needs a reason" if not reason.strip()
             else f"'{reason}' is not one of this review's reasons for excluding")
            + f": choose one of {', '.join(listed)} (PRISMA reports full-text exclusions by "
            "reason; the review's lead can change the list in the review's settings).")
    return found


def _record_row(rec: Record, *, review_id: int, batch_id: int, position: int,
                now: datetime) -> dict:
    row = {name: getattr(rec, name) for name in _RECORD_COLUMNS}
    for name in _LIST_FIELDS:
        row[name] = list(row[name])
    row.update(review_id=review_id, batch_id=batch_id, position=position, created_at=now)
    return row


def _stored(row) -> StoredRecord:
    values = {name: getattr(row, name) for name in _RECORD_COLUMNS}
    for name in _LIST_FIELDS:
        values[name] = list(values[name] or [])
    values["extra"] = dict(values["extra"] or {})
    return StoredRecord(id=row.id, review_id=row.review_id, batch_id=row.batch_id,
                        position=row.position, record=Record(**values),
                        duplicate_of=row.duplicate_of)
