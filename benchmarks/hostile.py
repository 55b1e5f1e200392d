"""Hostile-input run: feed every importer thousands of generated broken and hostile files.

Uses the strategies of tests/hostile_strategies.py (the ones tests/test_hostile.py runs a few
hundred times) for a fixed, larger number of examples per importer, plus damaged zips for the
full-text unpacker.  Counts the inputs tried, clean reads, clear refusals (a ReviewkitError
naming the file) and unexpected outcomes (any other exception, unclean text, a hang), which
must be 0.  Prints a table and appends it to benchmarks/RESULTS.md.

    python benchmarks/hostile.py [--examples N] [--ladders-only]

Then size ladders: RIS and MEDLINE fields of ever more continuation lines, CSV files of ever
more same-named columns, and review archives carrying ever more zero-filled megabytes; each
rung's time (median of 3) and peak traced memory, and the growth from one rung to the next
(linear: about 2x per doubling).
"""

from __future__ import annotations

import argparse
import io
import platform
import sys
import time
import traceback
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewkit.errors import FormatError  # noqa: E402
from reviewkit.fulltext import safe_pdf_entries  # noqa: E402
from tests.hostile_strategies import STRATEGIES, read_outcome, tiny_pdf  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
# 'wide' files hold thousands of fields each and take far longer per example.
SLOW_KINDS = {"wide": 10}


def _zip_outcome(method: int, flips: list[tuple[float, int]]) -> str:
    pdf = tiny_pdf(b"Community resilience and neighbourhood wellbeing in older adults, a mixed "
                   b"methods evaluation of local decisions.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("paper.pdf", pdf)
        archive.writestr("more/other.pdf", pdf)
    data = bytearray(buffer.getvalue())
    for where, value in flips:
        data[int(where * len(data))] = value
    try:
        safe_pdf_entries(bytes(data), filename="damaged.zip")
    except FormatError as exc:
        if "damaged.zip" not in str(exc):
            raise AssertionError(f"the message does not name the file: {exc}") from exc
        return "refused"
    return "read"


ZIP_STRATEGY = st.tuples(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
                         st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                            st.integers(0, 255)), min_size=1, max_size=6))


def run_kind(kind: str, examples: int) -> dict:
    """Run one strategy ``examples`` times; tally outcomes without stopping at a failure."""
    tally: Counter = Counter()
    failures: list[str] = []
    strategy = ZIP_STRATEGY if kind == "zip (full texts)" else STRATEGIES[kind]

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def trial(case):
        tally["tried"] += 1
        try:
            outcome = _zip_outcome(*case) if kind == "zip (full texts)" else read_outcome(*case)
        except Exception:  # the point is to count these; each is printed
            tally["unexpected"] += 1
            if len(failures) < 3:
                failures.append(traceback.format_exc(limit=3) + f"\ninput: {case!r:.300}")
            return
        tally[outcome] += 1

    started = time.perf_counter()
    trial()
    tally["seconds"] = time.perf_counter() - started
    for failure in failures:
        print(f"--- unexpected outcome in {kind} ---\n{failure}", file=sys.stderr)
    return tally


def _ris(lines: int) -> str:
    return ("TY  - JOUR\nTI  - A long abstract\nAB  - start\n"
            + "   continued words of the abstract\n" * lines + "ER  - \n")


def _medline(lines: int) -> str:
    return "PMID- 1\nTI  - A long abstract\nAB  - start\n" + \
        "      continued words of the abstract\n" * lines


def _wide_csv(columns: int) -> str:
    return "Title," + ",".join(["a"] * columns) + "\nA study," + ",".join(["x"] * columns) + "\n"


def _archive_importer(extra_mb: int):
    """A review archive (a small review) plus zero-filled members of ``extra_mb`` MB in all,
    imported with the ratio check off, so every byte is unpacked and checked."""
    import hashlib
    import json
    import tempfile

    from reviewkit.archive import MANIFEST, ArchiveLimits, export_review, import_review
    from reviewkit.records import Record
    from reviewkit.store import Store

    folder = Path(tempfile.mkdtemp(prefix="ladder-"))
    source = Store(f"sqlite:///{folder / 'source.sqlite'}")
    review = source.create_review("Ladder")
    source.add_import(review.id, [Record(title=f"Study {i}", abstract="words " * 40)
                                  for i in range(200)],
                      filename="a.ris", format="ris", sha256="a" * 64, size_bytes=1)
    data = export_review(source, review.id, actor="admin")
    source.close()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        contents = {n: archive.read(n) for n in archive.namelist()}
    manifest = json.loads(contents.pop(MANIFEST))
    size = 16 * 1024 * 1024
    zeros = bytes(size)
    digest = hashlib.sha256(zeros).hexdigest()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number in range(extra_mb // 16):
            name = f"files/{number:064d}"
            manifest["members"][name] = {"bytes": size, "sha256": digest}
            archive.writestr(name, zeros)
        archive.writestr(MANIFEST, json.dumps(manifest))
        for name, content in contents.items():
            archive.writestr(name, content)
    bomb = out.getvalue()
    runs = iter(range(10**6))

    def run(_unused: str) -> None:
        target = Store(f"sqlite:///{folder / f'target-{next(runs)}.sqlite'}")
        import_review(target, bomb, actor="admin", limits=ArchiveLimits(max_ratio=10**9))
        target.close()

    return run, bomb


def _measure(read, text) -> tuple[float, int]:
    import statistics
    import tracemalloc

    times = []
    for _ in range(3):
        started = time.perf_counter()
        read(text)
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    read(text)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak


def run_ladders() -> list[str]:
    """Time and peak memory of each reader over a doubling ladder of input sizes."""
    from reviewkit.formats import read_csv, read_medline, read_ris

    ladders = [
        ("RIS continuation lines", read_ris, _ris, [100_000, 200_000, 400_000, 800_000]),
        ("MEDLINE continuation lines", read_medline, _medline,
         [100_000, 200_000, 400_000, 800_000]),
        ("CSV columns named alike", read_csv, _wide_csv, [2_000, 4_000, 8_000, 16_000]),
        ("archive MB of zero members", None, None, [32, 64, 128, 256]),
    ]
    lines = ["| ladder | size | input MB | median s | peak traced MB | time x | memory x |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, read, make, sizes in ladders:
        previous = None
        for size in sizes:
            if read is None:
                reader, text = _archive_importer(size)
            else:
                reader, text = read, make(size)
            seconds, peak = _measure(reader, text)
            growth = ("", "") if previous is None else (
                f"{seconds / previous[0]:.2f}", f"{peak / previous[1]:.2f}")
            lines.append(f"| {name} | {size:,} | {len(text) / 1e6:.1f} | {seconds:.3f} | "
                         f"{peak / 1e6:.1f} | {growth[0]} | {growth[1]} |")
            print(lines[-1], flush=True)
            previous = (seconds, peak)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per importer")
    parser.add_argument("--ladders-only", action="store_true",
                        help="run only the size ladders, not the generated files")
    args = parser.parse_args()
    if args.ladders_only:
        ladder = run_ladders()
        table = "\n".join([
            f"## Hostile input: size ladders — {date.today().isoformat()} "
            f"({platform.machine()}, shared machine)", "",
            "Each input doubles from one rung to the next; a linear reader takes about 2x the "
            "time and memory per rung (time x, memory x). Time is the median of 3 runs; peak "
            "memory is traced by tracemalloc in a fourth. The archive rungs import a "
            "200-record review plus zero-filled 16 MB members with the ratio check off "
            "(so every byte is unpacked and hashed); input MB is the packed archive.", "",
            *ladder])
        print("\n" + table)
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write("\n\n" + table + "\n")
        return
    kinds = [*STRATEGIES, "zip (full texts)"]
    rows = []
    for kind in kinds:
        examples = args.examples // SLOW_KINDS.get(kind, 1)
        tally = run_kind(kind, examples)
        rows.append((kind, tally))
        print(f"{kind}: {dict(tally)}", flush=True)
    total = sum((t for _, t in rows), Counter())
    lines = [
        f"## Hostile input — {date.today().isoformat()} ({args.examples} examples per importer, "
        f"{platform.machine()}, {len(kinds)} generators)",
        "",
        "Generated broken and hostile files (tests/hostile_strategies.py) through "
        "`reviewkit.formats.read_records`, and damaged zips through `reviewkit.fulltext`. A clear "
        "refusal is a ReviewkitError naming the file; unexpected = any other exception, a record "
        "with control characters or lone surrogates, or a read over 30 s. Files with thousands of "
        "fields run a tenth as many examples.",
        "",
        "| generator | inputs tried | clean reads | clear refusals | unexpected | wall s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind, tally in [*rows, ("**all**", total)]:
        lines.append(f"| {kind} | {tally['tried']:,} | {tally['read']:,} | {tally['refused']:,} | "
                     f"{tally['unexpected']} | {tally['seconds']:.1f} |")
    table = "\n".join(lines)
    print("\n" + table)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n\n" + table + "\n")
    if total["unexpected"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
