"""Many reviewers screening one review at once, on PostgreSQL and on SQLite.

Each simulated reviewer is its own (forked) process with its own connection, as separate app servers
or command-line runs would be.  All of them screen the same review with split screening on:
ask for the next record (a hand-out), decide it, and again, until each has made its share of
decisions.  Afterwards the database is checked: every decision made is stored exactly once
(lost = made - stored), no record was handed to two reviewers, and the audit log has one
``decision.add`` line per stored decision.

PostgreSQL is a throwaway server this script starts on loopback (initdb and pg_ctl from the
Debian package, as the ``postgres`` user when run as root, a port chosen by the OS, its socket
in a temporary folder, ``fsync=off``); SQLite is a WAL file in a temporary folder.

    python benchmarks/concurrency.py                     # 2, 5, 10 reviewers; appends RESULTS.md
    python benchmarks/concurrency.py --each 20 --repeats 1 --no-save   # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import multiprocessing
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from reviewkit.records import Record  # noqa: E402
from reviewkit.screening.queue import next_for, to_screen  # noqa: E402
from reviewkit.store import Store  # noqa: E402
from reviewkit.store.schema import decisions  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
REVIEW = "Concurrency benchmark"
TA = "title_abstract"


# ---- a throwaway PostgreSQL server -----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    # initdb will not run as root; Debian's package brings a 'postgres' account for it
    if os.geteuid() == 0:
        return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]
    return args


class PostgresServer:
    """initdb + pg_ctl start in a temporary folder; ``stop()`` removes everything again."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        initdb = Path(found[-1]) if found else Path(shutil.which("initdb") or "")
        if not initdb.name:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql).")
        self.bindir = initdb.parent
        self.workdir = Path(tempfile.mkdtemp(prefix="reviewkit-bench-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
        self.port = _free_port()
        self.datadir = self.workdir / "data"
        subprocess.run(_as_postgres([
            str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "postgres", "-A",
            "trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True, capture_output=True)
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.workdir} "
                   "-c fsync=off -c max_connections=100")
        subprocess.run(_as_postgres([
            str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-l",
            str(self.workdir / "log"), "-o", options, "-w", "start"]),
            check=True, capture_output=True)
        self.version = subprocess.run([str(self.bindir / "postgres"), "--version"],
                                      capture_output=True, text=True).stdout.strip()

    def new_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.datadir),
                                     "-m", "fast", "-w", "stop"]), capture_output=True)
        shutil.rmtree(self.workdir, ignore_errors=True)


# ---- one simulated reviewer ------------------------------------------------------------------


def reviewer_session(url: str, reviewer: str, share: int, start) -> tuple[list[int], float, float]:
    """Screen up to ``share`` records through hand-outs; return (records given, start, end)."""
    store = Store(url)
    try:
        review = store.get_review(REVIEW)
        ranked = store.kept_record_ids(review.id)
        start.wait()
        began = time.perf_counter()
        given: list[int] = []
        while len(given) < share:
            pending = to_screen(store, review, TA, reviewer)
            if not pending:
                break
            current = next_for(store, review, TA, reviewer, pending, ranked=ranked)
            if current is None:  # everything left is with someone else just now
                time.sleep(0.005)
                continue
            store.add_decision(current, stage=TA, reviewer=reviewer,
                               decision="include" if current % 4 == 0 else "exclude")
            given.append(current)
        return given, began, time.perf_counter()
    finally:
        store.close()


def run_once(url: str, reviewers: int, each: int) -> dict:
    """Set up a review of reviewers * each records, screen it with that many processes."""
    names = [f"reviewer{i:02d}" for i in range(1, reviewers + 1)]
    store = Store(url)
    for name in names:
        store.ensure_user(name)
    review = store.create_review(REVIEW, settings={"split_screening": True,
                                                   "reviewers_required": 1})
    store.add_import(review.id, [Record(title=f"Study of community resilience {i}",
                                        abstract="Residents, networks and wellbeing.")
                                 for i in range(reviewers * each)],
                     filename="bench.ris", format="ris", sha256="b" * 64, size_bytes=1)
    # no open connections may be shared with the forked reviewers: close ours first
    store.close()
    context = multiprocessing.get_context("fork")
    with context.Manager() as manager:
        start = manager.Barrier(reviewers)
        with context.Pool(reviewers) as pool:
            results = pool.starmap(reviewer_session,
                                   [(url, name, each, start) for name in names])
    seconds = max(end for _, _, end in results) - min(began for _, began, _ in results)
    made = sum(len(given) for given, _, _ in results)
    handed = Counter(rid for given, _, _ in results for rid in given)
    store = Store(url)
    with store.read() as conn:
        stored = conn.execute(select(func.count()).select_from(decisions).where(
            decisions.c.review_id == review.id)).scalar_one()
        standing_doubles = conn.execute(
            select(func.count()).select_from(
                select(decisions.c.record_id).where(decisions.c.review_id == review.id,
                                                    decisions.c.superseded_at.is_(None))
                .group_by(decisions.c.record_id).having(func.count() > 1).subquery())
        ).scalar_one()
        ids = set(conn.execute(select(decisions.c.id).where(
            decisions.c.review_id == review.id)).scalars())
    audit = store.audit_entries(review.id)
    added = [e.details.get("decision_id") for e in audit if e.action == "decision.add"]
    claims = Counter(e.entity_id for e in audit if e.action == "screening.claim")
    store.close()
    return {
        "reviewers": reviewers, "decisions": stored, "seconds": seconds,
        "lost": made - stored,
        "duplicated": sum(n - 1 for n in handed.values()) + sum(n - 1 for n in claims.values())
        + standing_doubles,
        "audit_ok": len(added) == stored and set(added) == ids,
    }


def summarise(runs: list[dict]) -> dict:
    seconds = statistics.median(r["seconds"] for r in runs)
    decisions = runs[0]["decisions"]
    return {"reviewers": runs[0]["reviewers"], "decisions": decisions, "seconds": seconds,
            "rate": decisions / seconds, "lost": max(abs(r["lost"]) for r in runs),
            "duplicated": max(r["duplicated"] for r in runs),
            "audit_ok": all(r["audit_ok"] for r in runs)}


def table(backend: str, rows: list[dict]) -> list[str]:
    lines = [f"**{backend}**", "",
             "| reviewers | decisions | seconds (median) | decisions/s | lost "
             "| duplicated hand-outs | audit lines match |",
             "|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['reviewers']} | {r['decisions']:,} | {r['seconds']:.2f} "
                     f"| {r['rate']:.0f} | {r['lost']} | {r['duplicated']} "
                     f"| {'yes' if r['audit_ok'] else 'no'} |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reviewers", default="2,5,10", help="comma-separated team sizes")
    parser.add_argument("--each", type=int, default=50, help="decisions per reviewer")
    parser.add_argument("--repeats", type=int, default=3, help="runs per size (median kept)")
    parser.add_argument("--no-save", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    sizes = [int(x) for x in args.reviewers.split(",")]

    server = PostgresServer()
    folder = Path(tempfile.mkdtemp(prefix="reviewkit-bench-sqlite-"))
    sections: list[str] = []
    try:
        for backend in ("PostgreSQL", "SQLite"):
            rows = []
            for size in sizes:
                runs = []
                for repeat in range(args.repeats):
                    name = f"bench_{size}_{repeat}"
                    url = (server.new_database(name) if backend == "PostgreSQL"
                           else f"sqlite:///{folder / (name + '.sqlite')}")
                    runs.append(run_once(url, size, args.each))
                rows.append(summarise(runs))
                r = rows[-1]
                print(f"{backend:10} reviewers={r['reviewers']:>2} decisions={r['decisions']:>5} "
                      f"s={r['seconds']:.2f} rate={r['rate']:.0f}/s lost={r['lost']} "
                      f"duplicated={r['duplicated']} audit={'yes' if r['audit_ok'] else 'no'}",
                      flush=True)
            sections += table(backend if backend == "SQLite" else server.version, rows)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)

    header = [
        f"## Many reviewers at once — {dt.date.today().isoformat()} ({args.each} decisions per "
        f"reviewer, median of {args.repeats}, {platform.machine()}, {os.cpu_count()} cores)",
        "",
        "Each reviewer is a separate process with its own connection, screening the same review "
        "with split screening on: next record (a hand-out), decide, repeat, including the "
        "work the Screening page does per record (what is left to screen, the hand-out, the "
        "save with its audit line). Seconds run from the first reviewer starting to the last "
        "one finishing. Lost = decisions made minus decisions stored; duplicated hand-outs "
        "counts records handed to a second reviewer (from the workers, the audit log, and "
        "standing doubles); audit lines match = one decision.add line per stored decision, "
        "with the same ids. PostgreSQL is a throwaway local server with fsync off; SQLite is "
        "a WAL file. The machine is shared, so rates are indicative.",
        "",
    ]
    text = "\n".join(header + sections)
    print()
    print(text)
    if not args.no_save:
        with open(RESULTS, "a", encoding="utf-8") as handle:
            handle.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
