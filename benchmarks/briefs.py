"""Time to build an evidence brief for a review of 500 included studies (target: under 5 s).

The studies are real titles and abstracts from ../shared/data/synergy (the included records),
screened in and coded with codebook approaches and outcomes in a fresh SQLite database; then
the whole-review brief and one approach's brief are built and rendered as Markdown, Word and
PDF, several times, and the median is reported.  Appends to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import csv
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewkit.briefs import build_brief, render_brief  # noqa: E402
from reviewkit.codebook import load_codebook  # noqa: E402
from reviewkit.coding import confirm_code, set_finding  # noqa: E402
from reviewkit.records import Record  # noqa: E402
from reviewkit.store import Store  # noqa: E402

N = 500
REPEATS = 5


def studies() -> list[Record]:
    out = []
    for path in sorted((ROOT.parent / "shared" / "data" / "synergy").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                out.append(Record(title=row["title"], abstract=row.get("abstract", ""),
                                  authors=[a.strip() for a in (row.get("authors") or "").split(";") if a.strip()][:6],
                                  year=int(row["year"]) if (row.get("year") or "").isdigit() else None,
                                  journal=row.get("journal", ""), doi=row.get("doi", "")))
    return out[:N]


def main() -> None:
    rng = random.Random(0)
    codebook = load_codebook()
    approaches = [c.code for c in codebook.scheme("approach").codes]
    outcomes = [c.code for c in codebook.scheme("outcome").codes]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/brief.sqlite")
        review = store.create_review("Brief benchmark", question="What works?")
        recs = studies()
        store.add_import(review.id, recs, filename="s.ris", format="ris", sha256="b" * 64,
                         size_bytes=1, database_name="Synergy")
        setup = time.perf_counter()
        for stored in store.list_records(review.id):
            for stage in ("title_abstract", "full_text"):
                store.add_decision(stored.id, stage=stage, decision="include", reviewer="r")
            confirm_code(store, review.id, stored.id, "approach", rng.choice(approaches), actor="r")
            set_finding(store, review.id, stored.id, "outcome", rng.choice(outcomes),
                        direction=rng.choice(["positive", "mixed", "none"]),
                        finding="A one-line finding written for the benchmark.", actor="r")
        setup = time.perf_counter() - setup
        rows = []
        for label, approach in (("whole review", None), ("one approach", approaches[0])):
            for fmt in ("md", "docx", "pdf"):
                times = []
                for _ in range(REPEATS):
                    start = time.perf_counter()
                    brief = build_brief(store, review, approach=approach)
                    render_brief(brief, fmt)
                    times.append(time.perf_counter() - start)
                rows.append((label, fmt, len(brief.references), statistics.median(times), max(times)))
                print(rows[-1], flush=True)
    lines = [f"| {label} | {fmt} | {n} | {med:.2f} | {worst:.2f} |" for label, fmt, n, med, worst in rows]
    report = (f"\n## Briefs — {date.today()} ({N} included studies, {os.cpu_count()} cores, "
              f"median of {REPEATS})\n\nBuild = gather studies, codes, PRISMA counts and local "
              "entries from the database, then render. Target: under 5 s. "
              f"(Setting up the {N} coded studies took {setup:.0f} s and is not counted.)\n\n"
              "| brief | format | studies in brief | median s | slowest s |\n|---|---|---:|---:|---:|\n"
              + "\n".join(lines) + "\n")
    print(report)
    with open(Path(__file__).with_name("RESULTS.md"), "a", encoding="utf-8") as handle:
        handle.write(report)


if __name__ == "__main__":
    main()
