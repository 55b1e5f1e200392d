"""Reference lists out of PDFs: reviewkit's splitter against pdfplumber's text and refextract.

    python benchmarks/citations.py          # prints the figures and appends to RESULTS.md
    REVIEWKIT_PEER_PYTHON=/path/to/venv/bin/python python benchmarks/citations.py

The two source documents' real reference lists (../shared/seeds/: 52 numbered Vancouver-style
entries, 49 author-year entries) are printed into PDFs with fpdf2, one entry per list item, so
the truth is what was printed.  Each reader's entries count as recovered when one of them is
at least 90% alike (rapidfuzz ratio) to a printed entry.  refextract pins ``pypdf<7`` and so
cannot sit beside reviewkit, and pdfplumber is no dependency of reviewkit: give a virtual
environment holding both (``pip install refextract pdfplumber``) in
``REVIEWKIT_PEER_PYTHON``; pdfplumber's text is then split by reviewkit's splitter here.  Then the seed references are matched against the demo
review's records and the SYNERGY sets (for the time matching takes on a few thousand records).
"""

from __future__ import annotations

import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from rapidfuzz import fuzz

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewkit.citations import RecordIndex, read_references  # noqa: E402
from reviewkit.formats import read_records  # noqa: E402
from reviewkit.formats.pdf import read_pdf_lines  # noqa: E402
from reviewkit.records import Record  # noqa: E402

SHARED = ROOT.parent / "shared"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SEEDS = (("000_8666ea977b08a9a8.txt", "Popay et al. (numbered)", True),
         ("004_4eed072952ff7483.txt", "Champs review (author-year)", False))
_REFEXTRACT = ("import json, sys\nfrom refextract import extract_references_from_file\n"
               "refs = extract_references_from_file(sys.argv[1])\n"
               "print(json.dumps([' '.join(r.get('raw_ref', [])) for r in refs]))\n")
_PLUMBER = ("import json, sys, pdfplumber\nwith pdfplumber.open(sys.argv[1]) as pdf:\n"
            "    print(json.dumps('\\n'.join(p.extract_text() or '' for p in pdf.pages)))\n")


def seed_entries(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    entries: list[str] = []
    for line in text[text.index("\nReferences\n"):].split("\n")[2:]:
        line = line.strip().replace("*", "")
        if line.startswith("- "):
            entries.append(line[2:])
        elif line and entries:
            entries[-1] += " " + line
    return entries


def make_pdf(entries: list[str], numbered: bool) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", fname=FONT)
    pdf.set_font("DejaVu", size=10)
    pdf.add_page()
    pdf.multi_cell(0, 5, "Background. " + "Places differ in how they cope with shocks. " * 40,
                   new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, "References", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    for n, entry in enumerate(entries, 1):
        pdf.multi_cell(0, 4.5, (f"{n}. " if numbered else "") + entry, new_x="LMARGIN",
                       new_y="NEXT")
        pdf.ln(1)
    return bytes(pdf.output())


def recovered(truth: list[str], got: list[str]) -> int:
    import re

    got = [re.sub(r"^\s*(?:\[\d+\]|\d+\.)\s*", "", g) for g in got]
    return sum(1 for t in truth if any(fuzz.ratio(" ".join(t.split()), g) >= 90 for g in got))


def timed(work, runs: int = 3):
    seconds, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = work()
        seconds.append(time.perf_counter() - start)
    return out, statistics.median(seconds)


def readers(path: Path) -> dict:
    found = {"pypdf + reviewkit splitter": lambda: [w.text for w in read_references(
        read_pdf_lines(path.read_bytes()))]}
    python = os.environ.get("REVIEWKIT_PEER_PYTHON")
    if python:
        def run(script: str):
            done = subprocess.run([python, "-c", script, str(path)], capture_output=True,
                                  text=True, check=True)
            return json.loads(done.stdout)

        found["pdfplumber text + reviewkit splitter"] = lambda: [
            w.text for w in read_references(run(_PLUMBER))]
        found["refextract"] = lambda: list(dict.fromkeys(run(_REFEXTRACT)))
    return found


def review_records() -> list[tuple[int, Record]]:
    records = []
    for path in sorted((ROOT / "corpora" / "demo").iterdir()):
        if path.suffix in (".ris", ".bib", ".nbib", ".xml") or path.name == "grey_literature.csv":
            records.extend(read_records(path.read_bytes(), filename=path.name))
    return list(enumerate(records, 1))


def synergy_records() -> list[Record]:
    out = []
    for path in sorted((SHARED / "data" / "synergy").glob("*.csv")):
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
            out.append(Record(title=row["title"], doi=row["doi"],
                              year=int(row["year"]) if row["year"].isdigit() else None))
    return out


def main() -> None:
    if not (SHARED / "seeds").exists():
        sys.exit(f"{SHARED / 'seeds'} is absent: the source documents live in ../shared/seeds/")
    lines = [f"\n## Citation chasing: reference lists out of PDFs ({datetime.now():%Y-%m-%d})\n",
             "Two PDFs printed (fpdf2) from the source documents' real reference lists; an "
             "entry is recovered when a reader gives one string at least 90% alike to it. "
             "Median of 3 runs per file (refextract: 1), seconds per file (pdfplumber and refextract include starting their python); shared machine.\n",
             "| list | reader | printed | read | recovered whole | s per file |",
             "|---|---|---:|---:|---:|---:|"]
    all_entries = []
    with tempfile.TemporaryDirectory() as folder:
        for name, label, numbered in SEEDS:
            entries = seed_entries(SHARED / "seeds" / name)
            all_entries.extend(entries)
            path = Path(folder) / f"{name}.pdf"
            path.write_bytes(make_pdf(entries, numbered))
            for reader, work in readers(path).items():
                got, seconds = timed(work, 1 if "refextract" in reader else 3)
                lines.append(f"| {label} | {reader} | {len(entries)} | {len(got)} | "
                             f"{recovered(entries, got)} | {seconds:.2f} |")
    works = read_references("References\n" + "\n".join(
        f"{n}. {e}" for n, e in enumerate(all_entries, 1)))
    demo = review_records()
    index, build = timed(lambda: RecordIndex(demo))
    matched, seconds = timed(lambda: [index.match(w) for w in works])
    by = [how for _, how in matched if how]
    lines.append(f"\nMatching the {len(works)} seed references to the demo review's "
                 f"{len(demo)} records (which were made from these lists, duplicates "
                 f"included): {len(by)} matched ({by.count('doi')} by DOI, "
                 f"{by.count('title')} by title), index {build * 1000:.0f} ms, matching "
                 f"{seconds * 1000:.0f} ms. No truth is kept for this pair, so it is no "
                 "precision or recall; the example in tests/test_citations.py has one.")
    extra = synergy_records()
    if extra:
        many = demo + list(enumerate(extra, len(demo) + 1))
        index, build = timed(lambda: RecordIndex(many))
        again, seconds = timed(lambda: [index.match(w) for w in works])
        lines.append(f"With the SYNERGY sets added ({len(many):,} records): "
                     f"{sum(1 for _, how in again if how)} matched, index "
                     f"{build * 1000:.0f} ms, matching {seconds * 1000:.0f} ms.")
    text = "\n".join(lines) + "\n"
    print(text)
    with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as out:
        out.write(text)


if __name__ == "__main__":
    main()
