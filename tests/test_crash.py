"""Crash tests: a process killed (SIGKILL) in the middle of an import or a dedup merge leaves a
consistent database, and the operation can simply be run again.

The child process runs the real pipeline (``import_file`` / ``deduplicate_review``) against a
real database.  To kill it at a known moment it adds a SQLAlchemy event listener in its own
process (nothing in reviewkit changes): when the chosen statement has run, or the transaction
is about to commit, the listener writes a marker file and sleeps; the test sees the marker and
sends SIGKILL while the transaction is still open.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reviewkit.importing import import_file
from reviewkit.records import Record
from reviewkit.review_dedup import deduplicate_review
from reviewkit.store import Store
from reviewkit.store.schema import audit_log, duplicate_pairs, import_batches, records

ROOT = Path(__file__).resolve().parent.parent
IMPORT_RECORDS = 30_000
DEDUP_PAIRS = 400

# The child: open the store, arm the listener, run one operation.  argv: url, marker, what,
# where ('insert' = after the Nth matching statement, 'commit' = just before COMMIT).
CHILD = r"""
import sys, time
from pathlib import Path
from sqlalchemy import event

from reviewkit.store import Store

url, marker, what, where, path = sys.argv[1:6]
store = Store(url)
seen = {"n": 0}
statement_start = "INSERT INTO records" if what == "import" else "UPDATE records"


def stop_here():
    Path(marker).write_text("open transaction")
    time.sleep(600)


@event.listens_for(store.engine, "after_cursor_execute")
def after(conn, cursor, statement, parameters, context, executemany):
    if statement.lstrip().startswith(statement_start):
        seen["n"] += 1
        if where == "insert" and seen["n"] == 2:
            stop_here()


@event.listens_for(store.engine, "commit")
def before_commit(conn):
    if where == "commit" and seen["n"]:
        stop_here()


if what == "import":
    from reviewkit.importing import import_file

    review = store.get_review("Crash")
    import_file(store, review, Path(path).read_bytes(), Path(path).name, actor="crash")
else:
    from reviewkit.review_dedup import deduplicate_review

    deduplicate_review(store, store.get_review("Crash"), actor="crash")
print("finished without being killed")
"""


def _run_and_kill(url: str, tmp_path: Path, what: str, where: str, path: str = "") -> None:
    marker = tmp_path / f"marker-{what}-{where}"
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(marker), what, where, path],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        if child.poll() is not None:
            out, err = child.communicate()
            pytest.fail(f"the child ended before the kill point: {out.decode()} {err.decode()}")
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail("the child never reached the kill point")
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


def _counts(store: Store, review_id: int) -> dict[str, int]:
    with store.read() as conn:
        def count(table, *where):
            return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

        return {
            "records": count(records, records.c.review_id == review_id),
            "batches": count(import_batches, import_batches.c.review_id == review_id),
            "orphans": count(records, records.c.batch_id.not_in(select(import_batches.c.id))),
            "merged": count(records, records.c.review_id == review_id,
                            records.c.duplicate_of.is_not(None)),
            "pairs": count(duplicate_pairs, duplicate_pairs.c.review_id == review_id),
            "audit": count(audit_log),
        }


def _check_sqlite(url: str) -> None:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def _large_ris(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8", newline="\r\n") as out:
        for n in range(count):
            out.write(f"TY  - JOUR\nAU  - Author{n % 997}, A.\nTI  - Crash test record number {n} "
                      f"on neighbourhood resilience\nT2  - Journal {n % 50}\nPY  - {1990 + n % 35}"
                      f"\nDO  - 10.5555/crash.{n}\nAB  - Abstract of record {n}.\nER  - \n\n")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def crash_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crash.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.mark.slow
@pytest.mark.parametrize("where", ["insert", "commit"])
def test_import_killed_midway_leaves_nothing_and_can_run_again(crash_url, tmp_path, where):
    store = Store(crash_url)
    review = store.create_review("Crash")
    store.ensure_user("crash")
    before = _counts(store, review.id)
    store.close()
    ris = _large_ris(tmp_path / "big_export.ris", IMPORT_RECORDS)

    _run_and_kill(crash_url, tmp_path, "import", where, str(ris))

    if crash_url.startswith("sqlite"):
        _check_sqlite(crash_url)
    store = Store(crash_url)
    try:
        assert _counts(store, review.id) == before  # no batch, no records, no audit line
        batch = import_file(store, review, ris.read_bytes(), ris.name, actor="crash")
        assert batch.record_count == IMPORT_RECORDS
        after = _counts(store, review.id)
        assert (after["records"], after["batches"], after["orphans"]) == (IMPORT_RECORDS, 1, 0)
        assert len(store.list_batches(review.id)) == 1
    finally:
        store.close()
    if crash_url.startswith("sqlite"):
        _check_sqlite(crash_url)


def _review_with_duplicates(url: str) -> int:
    store = Store(url)
    review = store.create_review("Crash")
    originals = [Record(title=f"Dedup crash study {n}: {WORDS[n % len(WORDS)]} and resilience",
                        authors=[f"Author{n}, B."], year=2000 + n % 20, journal="Crash Journal",
                        doi=f"10.5555/dedup.{n}") for n in range(DEDUP_PAIRS)]
    copies = [Record(title=r.title.upper(), authors=r.authors, year=r.year, journal=r.journal,
                     doi=r.doi.upper()) for r in originals]
    for name, batch in (("scopus.ris", originals), ("wos.ris", copies)):
        store.add_import(review.id, batch, filename=name, format="ris",
                         sha256=name.ljust(64, "0"), size_bytes=1, actor="crash")
    store.close()
    return review.id


WORDS = ["loneliness", "debt advice", "green space", "peer support", "participatory budgeting",
         "community champions", "social prescribing", "food banks", "time banks", "volunteering"]


def _dedup_state(store: Store, review_id: int) -> tuple:
    pairs = sorted((p["left_id"], p["right_id"], p["status"])
                   for p in store.duplicate_pairs(review_id))
    return store.duplicate_groups(review_id), pairs


@pytest.mark.slow
def test_dedup_killed_during_the_merge_write_is_all_or_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'dedup.sqlite'}"
    review_id = _review_with_duplicates(url)
    # An untouched copy, deduplicated without interruption, is what a rerun must arrive at.
    reference = tmp_path / "reference.sqlite"
    shutil.copy(tmp_path / "dedup.sqlite", reference)
    store = Store(url)
    before = _counts(store, review_id)
    store.close()

    _run_and_kill(url, tmp_path, "dedup", "insert")

    _check_sqlite(url)
    store = Store(url)
    try:
        assert _counts(store, review_id) == before  # no merges, no pairs, no audit line
        summary = deduplicate_review(store, store.review_by_id(review_id), actor="crash")
        assert summary.merged == DEDUP_PAIRS
        again = _dedup_state(store, review_id)
    finally:
        store.close()
    _check_sqlite(url)

    expected_store = Store(f"sqlite:///{reference}")
    try:
        deduplicate_review(expected_store, expected_store.review_by_id(review_id), actor="crash")
        assert again == _dedup_state(expected_store, review_id)
    finally:
        expected_store.close()
