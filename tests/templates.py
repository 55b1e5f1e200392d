"""The demo review built once per test session, then copied into each test's database.

Building the demo review (five imports, deduplication, two reviewers' decisions, coding) takes
a few seconds; copying the finished rows takes a few milliseconds. ``demo_review(store)`` gives
an empty store exactly the rows ``ensure_demo_review(store)`` would have written, because the
template itself was written by ``ensure_demo_review``: on SQLite by the backup API (a page for
page copy), on PostgreSQL by copying each table's rows from a template database on the same
server and moving the id sequences on.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from sqlalchemy import Integer, create_engine, func, select, text
from sqlalchemy.engine import make_url

from reviewkit.demo import ensure_demo_review
from reviewkit.store import Review, Store
from reviewkit.store import schema as db

_PG_TEMPLATE = "reviewkit_demo_template"
_sqlite_template: Path | None = None
_pg_templates: set[str] = set()  # server URLs whose template database is built


def sqlite_template() -> Path:
    """Return the SQLite file holding the demo review, building it on first use."""
    global _sqlite_template
    if _sqlite_template is None:
        folder = Path(tempfile.mkdtemp(prefix="reviewkit-demo-template-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "demo.sqlite"
        store = Store(f"sqlite:///{path}")
        ensure_demo_review(store)
        store.close()
        _sqlite_template = path
    return _sqlite_template


_sqlite_schema: Path | None = None


def sqlite_schema_template() -> Path:
    """Return a SQLite file holding reviewkit's empty schema (as ``Store`` makes it), made on
    first use: copying it is quicker than making the schema table by table for each test."""
    global _sqlite_schema
    if _sqlite_schema is None:
        folder = Path(tempfile.mkdtemp(prefix="reviewkit-schema-template-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "schema.sqlite"
        Store(f"sqlite:///{path}").close()
        _sqlite_schema = path
    return _sqlite_schema


def copy_demo_database(path: Path) -> str:
    """Write a SQLite file holding the demo review at ``path``; return its URL.

    For pages and the app, which open the database themselves: copy first, then point
    ``REVIEWKIT_DATABASE_URL`` (or ``REVIEWKIT_DATA_DIR``) at it.
    """
    return copy_sqlite(sqlite_template(), path)


def copy_sqlite(source: Path, target: Path) -> str:
    """Copy the SQLite database ``source`` (closed, or open in WAL mode) to ``target``; return its URL."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)
    return f"sqlite:///{target}"


def demo_review(store: Store) -> Review:
    """Give ``store`` the demo review, copied from the session's template; return it.

    The store must hold no rows yet (as the ``store`` fixture's does); otherwise the demo is
    built for real with ``ensure_demo_review``, so the result is the same either way.
    """
    if not _is_empty(store):
        return ensure_demo_review(store)
    url = make_url(store.url)
    if url.get_backend_name() == "sqlite":
        _copy_sqlite(store)
    elif url.get_backend_name() == "postgresql":
        _copy_postgres(store, url)
    else:
        return ensure_demo_review(store)
    review = store.find_review(_demo_name())
    assert review is not None, "the demo template holds no demo review"
    return review


def _demo_name() -> str:
    from reviewkit.demo import load_demo_definition

    return load_demo_definition()["name"]


def _is_empty(store: Store) -> bool:
    with store.read() as conn:
        for table in db.metadata.sorted_tables:
            if table.name != "meta" and conn.execute(
                    select(func.count()).select_from(table)).scalar():
                return False
    return True


def _copy_sqlite(store: Store) -> None:
    raw = store.engine.raw_connection()
    try:
        with closing(sqlite3.connect(sqlite_template())) as source:
            source.backup(raw.driver_connection)
    finally:
        raw.close()


def _copy_postgres(store: Store, url) -> None:
    template_url = url.set(database=_PG_TEMPLATE)
    server = template_url.set(database="postgres").render_as_string(hide_password=False)
    if server not in _pg_templates:
        _build_postgres_template(server, template_url)
        _pg_templates.add(server)
    source = create_engine(template_url)
    try:
        with source.connect() as src, store.write() as dst:
            # The rows are the template's, already consistent: let self-references (a record
            # marked a duplicate of a later one) in without ordering them.
            dst.execute(text("SET LOCAL session_replication_role = replica"))
            for table in db.metadata.sorted_tables:
                if table.name == "meta":
                    continue
                rows = [dict(r) for r in src.execute(select(table)).mappings()]
                if rows:
                    dst.execute(table.insert(), rows)
                # Move each id sequence past the copied ids (setval of NULL, for a key that
                # has no sequence, does nothing).
                for column in table.primary_key.columns:
                    if not isinstance(column.type, Integer):
                        continue
                    dst.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'),"
                        f" coalesce(max({column.name}), 1), max({column.name}) IS NOT NULL)"
                        f" FROM {table.name}"))
    finally:
        source.dispose()


def _build_postgres_template(server: str, template_url) -> None:
    maintenance = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_PG_TEMPLATE}"'))
            conn.execute(text(f'CREATE DATABASE "{_PG_TEMPLATE}"'))
    finally:
        maintenance.dispose()
    store = Store(template_url.render_as_string(hide_password=False))
    try:
        ensure_demo_review(store)
    finally:
        store.close()
