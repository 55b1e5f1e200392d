"""Hostile-input run: feed every importer thousands of generated broken and hostile files.

Uses the strategies of tests/hostile_strategies.py (the ones tests/test_hostile.py runs a few
hundred times) for a fixed, larger number of examples per importer, plus damaged zips for the
full-text unpacker.  Counts the inputs tried, clean reads, clear refusals (a ReviewkitError
naming the file) and unexpected outcomes (any other exception, unclean text, a hang), which
must be 0.  Prints a table and appends it to benchmarks/RESULTS.md.

    python benchmarks/hostile.py [--examples N]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per importer")
    args = parser.parse_args()
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
