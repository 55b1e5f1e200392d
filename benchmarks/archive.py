"""Time to back up a large review as one archive and to import it into a fresh database.

The review is the labelled sets in ../shared/data imported as CSV files (real titles and
abstracts), with a title-and-abstract decision by two reviewers on every record.  Export and
import run on SQLite files; each is repeated and the median reported.

    python benchmarks/archive.py [--repeats 3]

Prints a table and appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "synergy"
sys.path.insert(0, str(ROOT))

from reviewkit.archive import export_review, import_review  # noqa: E402
from reviewkit.importing import import_file  # noqa: E402
from reviewkit.store import Store  # noqa: E402
from reviewkit.store.schema import decisions, records  # noqa: E402

REVIEWERS = ("bench-reviewer-1", "bench-reviewer-2")


def build(folder: Path) -> tuple[Store, int, int]:
    """A review holding every shared CSV, screened by two reviewers; return store, id, records."""
    store = Store(f"sqlite:///{folder / 'source.sqlite'}")
    review = store.create_review("Archive benchmark", actor="admin")
    for path in sorted(SHARED.glob("*.csv")):
        import_file(store, review, path.read_bytes(), path.name, actor="admin")
    reviewer_ids = [store.ensure_user(name).id for name in REVIEWERS]
    now = datetime.now(UTC)
    with store.write() as conn:
        ids = list(conn.execute(records.select().with_only_columns(records.c.id)
                                .where(records.c.review_id == review.id)).scalars())
        conn.execute(decisions.insert(), [
            {"review_id": review.id, "record_id": rid, "stage": "title_abstract",
             "reviewer_id": who, "decision": "include" if rid % 7 == 0 else "exclude",
             "kind": "vote", "reason": "", "note": "", "created_at": now}
            for rid in ids for who in reviewer_ids])
    return store, review.id, len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store, review_id, n_records = build(folder)
        export_s, import_s, size = [], [], 0
        for run in range(args.repeats):
            start = time.perf_counter()
            data = export_review(store, review_id, actor="admin")
            export_s.append(time.perf_counter() - start)
            size = len(data)
            target = Store(f"sqlite:///{folder / f'target-{run}.sqlite'}")
            start = time.perf_counter()
            import_review(target, data, actor="admin")
            import_s.append(time.perf_counter() - start)
            target.close()
        store.close()
    rows = n_records + 2 * n_records
    table = [
        f"## Review archive — {date.today().isoformat()} ({n_records:,} records, "
        f"{2 * n_records:,} decisions, median of {args.repeats}, {platform.machine()}, SQLite)",
        "",
        "Export = read every row of the review and write the zip; import = check the archive "
        "(manifest, checksums, rows) and write it into a fresh SQLite database in one "
        "transaction.",
        "",
        "| step | seconds (median) | rows/s | archive MB |",
        "|---|---:|---:|---:|",
        f"| export | {statistics.median(export_s):.2f} | "
        f"{rows / statistics.median(export_s):,.0f} | {size / 1024 ** 2:.1f} |",
        f"| import | {statistics.median(import_s):.2f} | "
        f"{rows / statistics.median(import_s):,.0f} | |",
        "",
    ]
    text = "\n".join(table)
    print(text)
    with open(ROOT / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as handle:
        handle.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
