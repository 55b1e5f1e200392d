"""Import speed and peak memory for 100k records in each format.

Records are built from the real titles, authors, journals and abstracts of the labelled sets in
../shared/data (cycled and varied to reach the size), written out in each format, then
imported into a fresh SQLite database in a separate process per format so that peak memory is
that import's own.  For RIS, BibTeX and CSV the parse step is also timed against the peer
parser a researcher would otherwise use (rispy, bibtexparser 2, pandas), in the same run.

    python benchmarks/import.py [--records 100000] [--repeats 3]
    python benchmarks/import.py --real [--repeats 5]

Prints a table and appends it to benchmarks/RESULTS.md.  ``--real`` instead reads the real RIS
exports of ../shared/data/formats/ with rispy and with reviewkit's own RIS reader, in the same
run: files read with their manifest's count, records with a title, time, and what each says
about the odd lines it met.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from reviewkit.records import Record  # noqa: E402

FORMATS = ("ris", "bibtex", "medline", "endnote_xml", "csv")
SUFFIX = {"ris": "ris", "bibtex": "bib", "medline": "nbib", "endnote_xml": "xml", "csv": "csv"}


def source_records() -> list[Record]:
    """Real bibliographic rows from the shared benchmark sets."""
    out = []
    for path in sorted((SHARED / "synergy").glob("*.csv")) + sorted((SHARED / "dedup").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                authors = row.get("authors") or row.get("author") or ""
                out.append(Record(
                    title=row.get("title", ""), abstract=row.get("abstract", ""),
                    authors=[a.strip() for a in authors.replace(" and ", ";").split(";") if a.strip()][:12],
                    year=int(row["year"]) if (row.get("year") or "").isdigit() else None,
                    journal=row.get("journal", ""), volume=row.get("volume", ""),
                    issue=row.get("number", ""), pages=row.get("pages", ""),
                    doi=(row.get("doi") or "").replace("https://doi.org/", "")))
    return [r for r in out if r.title]


def scaled(base: list[Record], n: int) -> list[Record]:
    """Cycle real records up to ``n``, varying each copy so no two are byte-identical."""
    out = []
    for i in range(n):
        src = base[i % len(base)]
        rec = Record(**{**src.to_dict(), "authors": list(src.authors), "keywords": [], "extra": {}})
        rec.title = f"{src.title} ({i})" if i >= len(base) else src.title
        rec.doi = f"{src.doi}.{i}" if src.doi and i >= len(base) else src.doi
        rec.source_id = str(i + 1)
        out.append(rec)
    return out


def write_medline(records: list[Record]) -> str:
    lines = []
    for i, rec in enumerate(records, start=1):
        lines.append(f"PMID- {30000000 + i}")
        lines.append(f"TI  - {rec.title}")
        if rec.abstract:
            lines.append(f"AB  - {rec.abstract}")
        for author in rec.authors:
            lines.append(f"FAU - {author}")
        if rec.year:
            lines.append(f"DP  - {rec.year}")
        if rec.journal:
            lines.append(f"JT  - {rec.journal}")
        if rec.volume:
            lines.append(f"VI  - {rec.volume}")
        if rec.pages:
            lines.append(f"PG  - {rec.pages}")
        if rec.doi:
            lines.append(f"LID - {rec.doi} [doi]")
        lines.append("")
    return "\n".join(lines)


def write_endnote(records: list[Record]) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8"?><xml><records>']
    for i, rec in enumerate(records, start=1):
        authors = "".join(f"<author><style>{escape(a)}</style></author>" for a in rec.authors)
        parts.append(
            f'<record><rec-number>{i}</rec-number><ref-type name="Journal Article">17</ref-type>'
            f"<contributors><authors>{authors}</authors></contributors>"
            f"<titles><title><style>{escape(rec.title)}</style></title>"
            f"<secondary-title><style>{escape(rec.journal)}</style></secondary-title></titles>"
            f"<pages><style>{escape(rec.pages)}</style></pages>"
            f"<volume><style>{escape(rec.volume)}</style></volume>"
            f"<dates><year><style>{rec.year or ''}</style></year></dates>"
            f"<electronic-resource-num><style>{escape(rec.doi)}</style></electronic-resource-num>"
            f"<abstract><style>{escape(rec.abstract)}</style></abstract></record>")
    parts.append("</records></xml>")
    return "".join(parts)


def write_file(records: list[Record], fmt: str, folder: Path) -> Path:
    from reviewkit.formats import write_records

    path = folder / f"bench.{SUFFIX[fmt]}"
    if fmt in ("ris", "bibtex", "csv"):
        path.write_bytes(write_records(records, fmt))
    elif fmt == "medline":
        path.write_text(write_medline(records), encoding="utf-8")
    else:
        path.write_text(write_endnote(records), encoding="utf-8")
    return path


# Run in a child process: one import into a fresh database, reporting time and peak memory.
_CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from reviewkit.importing import import_file
from reviewkit.store import Store
path, fmt, url = sys.argv[2], sys.argv[3], sys.argv[4]
data = open(path, "rb").read()
store = Store(url)
review = store.create_review("bench")
start = time.perf_counter()
batch = import_file(store, review, data, path.rsplit("/", 1)[-1], actor="bench", format=fmt, max_mb=None)
seconds = time.perf_counter() - start
print(json.dumps({"records": batch.record_count, "seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_PEER = r"""
import json, sys, time
path, fmt = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8-sig").read()
start = time.perf_counter()
if fmt == "ris":
    import rispy; n = len(rispy.loads(text))
elif fmt == "bibtex":
    import bibtexparser; n = len(bibtexparser.parse_string(text).entries)
else:
    import io, pandas; n = len(pandas.read_csv(io.StringIO(text), dtype=str))
print(json.dumps({"records": n, "seconds": time.perf_counter() - start}))
"""

_OURS_PARSE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from reviewkit.formats import read_records
path, fmt = sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
start = time.perf_counter()
n = len(read_records(data, filename=path, format=fmt))
print(json.dumps({"records": n, "seconds": time.perf_counter() - start}))
"""


def run_child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         env=dict(os.environ, HF_HUB_OFFLINE="1"))
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _rispy_records(text: str) -> list[Record]:
    """Read RIS through rispy: its tokenizer, then reviewkit's own field mapping."""
    import rispy

    from reviewkit.formats.ris import KNOWN_TAGS, build_record

    identity = {tag: tag for tag in KNOWN_TAGS | {"UK"}}
    records = []
    for entry in rispy.loads(text, mapping=identity, list_tags=["AU", "A1", "A2", "A3", "A4",
                                                                 "KW", "UR", "SN"],
                             enforce_list_tags=False):
        values = {}
        for tag, value in entry.items():
            if tag == "UK":
                for unknown, items in value.items():
                    values.setdefault(unknown, []).extend(items)
            else:
                values[tag] = list(value) if isinstance(value, list) else [value]
        records.append(build_record(values))
    return records


def real_ris(repeats: int) -> None:
    """Read the real RIS exports with rispy and with reviewkit's reader, in the same run."""
    from reviewkit.formats import ReadNotes, read_ris
    from reviewkit.formats.encoding import decode_bytes

    folder = SHARED / "formats"
    with open(folder / "MANIFEST.csv", encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["format"] == "ris"]
    texts = [(row["file_name"], int(row["record_count"]),
              decode_bytes((folder / row["file_name"]).read_bytes())) for row in rows]
    # The same files cut before their last 'ER' line, as a download stopped short would be.
    cut = [(name, count, text[: text.rindex("ER  -")]) for name, count, text in texts]
    readers = {
        "rispy 0.10 + reviewkit's field mapping": lambda text: _rispy_records(text),
        "reviewkit read_ris": lambda text: read_ris(text, notes=ReadNotes()),
    }
    table = []
    for label, read in readers.items():
        timings = []
        for _ in range(repeats):
            start = time.perf_counter()
            results = {}
            for name, _count, text in texts:
                try:
                    results[name] = read(text)
                except Exception as exc:  # a reader that breaks on a real file: count it
                    results[name] = exc
            timings.append(time.perf_counter() - start)
        full = sum(1 for name, count, _ in texts
                   if isinstance(results[name], list) and len(results[name]) == count)
        failures = [name for name, _, _ in texts if not isinstance(results[name], list)]
        records = sum(len(r) for r in results.values() if isinstance(r, list))
        titled = sum(1 for r in results.values() if isinstance(r, list) for x in r if x.title)
        kept_cut = 0
        for _name, count, text in cut:
            try:
                kept_cut += len(read(text)) == count
            except Exception:
                pass
        notes = ReadNotes()
        for _, _, text in texts:
            if label.startswith("reviewkit"):
                read_ris(text, notes=notes)
        table.append({"reader": label, "files": len(texts), "full": full, "results": results,
                      "failed": failures, "records": records, "titled": titled,
                      "seconds": statistics.median(timings), "cut_kept": kept_cut,
                      "notes": len(notes)})
        print(json.dumps({k: v for k, v in table[-1].items() if k != "results"}), flush=True)
    want = sum(count for _, count, _ in texts)
    core = ("title", "authors", "year", "journal", "doi", "abstract", "keywords", "url")
    same = differ = 0
    for name, _, _ in texts:
        first, second = table[0]["results"][name], table[1]["results"][name]
        if isinstance(first, list) and isinstance(second, list) and len(first) == len(second):
            for a, b in zip(first, second):
                if all(getattr(a, f) == getattr(b, f) for f in core):
                    same += 1
                else:
                    differ += 1
    base = table[0]["seconds"]
    lines = [f"| {t['reader']} | {t['full']}/{t['files']} | {t['records']:,} / {want:,} | "
             f"{t['titled']:,} | {t['seconds'] * 1000:.0f} | {t['seconds'] / base:.2f} | "
             f"{t['cut_kept']}/{len(cut)} | {t['notes']:,} |" for t in table]
    report = (
        f"\n## Real RIS exports: rispy against reviewkit's reader — {date.today()} "
        f"({len(texts)} files of ../shared/data/formats, median of {repeats}, "
        f"{platform.machine()}, {os.cpu_count()} cores, shared machine)\n\n"
        "Both build reviewkit Records with the same field mapping (`ris.build_record`); only "
        "the line reading differs. 'Cut short' is each file cut before its last `ER` line, "
        "read in full (the last record kept). 'Odd lines reported' counts the lines each reader "
        "says it skipped or repaired, with line numbers; rispy reports none (it drops text "
        "between records and a record without `ER` silently, and joins a mis-spaced tag line to "
        "the field above). Not a held-out figure: these are the files the reader was "
        f"fixed against. On the uncut files the two give the same {', '.join(core)} for "
        f"{same:,} records and differ on {differ:,}. Speed alone would not decide it; rispy "
        "cannot say which line was odd, and a record whose `ER` is missing is dropped (at the "
        "end of a file) or merged into the next one (before another `TY`).\n\n"
        "| reader | files read with the manifest's count | records | with a title | ms, all "
        "files | time / rispy's | cut-short files kept whole | odd lines reported |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|\n" + "\n".join(lines) + "\n")
    print(report)
    with open(Path(__file__).with_name("RESULTS.md"), "a", encoding="utf-8") as handle:
        handle.write(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--real", action="store_true",
                        help="compare rispy and reviewkit on the real RIS exports instead")
    args = parser.parse_args()
    if args.real:
        real_ris(args.repeats)
        return

    base = source_records()
    records = scaled(base, args.records)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for fmt in args.formats.split(","):
            path = write_file(records, fmt, folder)
            size_mb = path.stat().st_size / 1024 / 1024
            imports, peaks = [], []
            for i in range(args.repeats):
                url = f"sqlite:///{folder / f'{fmt}-{i}.sqlite'}"
                result = run_child(_CHILD, str(ROOT), str(path), fmt, url)
                assert result["records"] == args.records, result
                imports.append(result["seconds"])
                peaks.append(result["peak_mb"])
            row = {"format": fmt, "file_mb": size_mb, "import_s": statistics.median(imports),
                   "records_per_s": args.records / statistics.median(imports),
                   "peak_mb": max(peaks), "parse_s": None, "peer": "", "peer_s": None}
            if fmt in ("ris", "bibtex", "csv"):
                ours = [run_child(_OURS_PARSE, str(ROOT), str(path), fmt)["seconds"]
                        for _ in range(args.repeats)]
                peer = [run_child(_PEER, str(path), fmt)["seconds"] for _ in range(args.repeats)]
                row.update(parse_s=statistics.median(ours), peer_s=statistics.median(peer),
                           peer={"ris": "rispy", "bibtex": "bibtexparser 2", "csv": "pandas"}[fmt])
            rows.append(row)
            print(json.dumps(row), flush=True)

    header = ("| format | file MB | import s (median) | records/s | peak MB | our parse s | "
              "peer parser | peer parse s | ours/peer |\n|---|---:|---:|---:|---:|---:|---|---:|---:|")
    lines = []
    for r in rows:
        ratio = f"{r['parse_s'] / r['peer_s']:.2f}" if r["peer_s"] else "–"
        parse = "–" if r["parse_s"] is None else f"{r['parse_s']:.1f}"
        peer = "–" if r["peer_s"] is None else f"{r['peer_s']:.1f}"
        lines.append(
            f"| {r['format']} | {r['file_mb']:.1f} | {r['import_s']:.1f} | {r['records_per_s']:,.0f} | "
            f"{r['peak_mb']:.0f} | {parse} | {r['peer'] or '–'} | {peer} | {ratio} |")
    report = (f"\n## Import — {date.today()} ({args.records:,} records per format, "
              f"median of {args.repeats}, {platform.machine()}, {os.cpu_count()} cores)\n\n"
              "Import = detect, decode, parse, clean and store in a fresh SQLite database, in one "
              "transaction. Peak MB is the importing process's maximum resident memory. "
              "Target: 100k RIS records in under 30 s.\n\n" + header + "\n" + "\n".join(lines) + "\n")
    print(report)
    results = Path(__file__).with_name("RESULTS.md")
    if not results.exists():
        results.write_text("# Benchmark results\n")
    with open(results, "a", encoding="utf-8") as handle:
        handle.write(report)


if __name__ == "__main__":
    main()
