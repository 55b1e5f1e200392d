"""``python -m reviewkit``: each subcommand opens the database, calls the library, and exits.

Exit status: 0 when everything worked, 1 when something failed (the message is on stderr),
3 when a file had been imported into the review before (nothing was imported again).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from reviewkit.errors import DuplicateImportError, ReviewkitError

EXIT_FAILED = 1
EXIT_ALREADY_IMPORTED = 3


def _open_store(args):
    from reviewkit.store import Store

    return Store(args.database)


def _actor(args) -> str:
    return args.user or os.environ.get("REVIEWKIT_USER") or "admin"


def cmd_import(args) -> int:
    """Import files into a review, creating the review when it is new."""
    from reviewkit.importing import import_file

    store = _open_store(args)
    actor = _actor(args)
    review = store.find_review(args.review) or store.create_review(args.review, actor=actor)
    status = 0
    for path in args.files:
        name = Path(path).name
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            print(f"{path}: cannot read the file ({exc.strerror or exc}).", file=sys.stderr)
            status = EXIT_FAILED
            continue
        try:
            batch = import_file(store, review, data, name, actor=actor, format=args.format,
                                database_name=args.database_name or "",
                                search_date=args.search_date or "",
                                search_query=args.query or "")
        except DuplicateImportError as exc:
            print(str(exc), file=sys.stderr)
            status = status or EXIT_ALREADY_IMPORTED
            continue
        except ReviewkitError as exc:
            print(f"Import failed, nothing stored from this file. {exc}", file=sys.stderr)
            status = EXIT_FAILED
            continue
        print(f"{name}: {batch.record_count} records imported as {batch.format.upper()} "
              f"(source: {batch.database_name}) into review '{review.name}'.")
    return status


def cmd_export(args) -> int:
    """Write a review's records to a RIS, BibTeX or CSV file."""
    from reviewkit.importing import export_records

    store = _open_store(args)
    review = store.get_review(args.review)
    data = export_records(store, review, args.format, search=args.search)
    Path(args.output).write_bytes(data)
    count = store.count_records(review.id, search=args.search)
    print(f"{count} records from '{review.name}' written to {args.output} as {args.format}.")
    return 0


def _read_inputs(paths: list[str]) -> tuple[list, list[str]]:
    """Read every input file (format detected from content): records and an id for each.

    A record's id is its own id in its file (a CSV's record_id column, a RIS ID, a BibTeX
    key), else its position among all inputs; ids repeated across files get the file name
    in front so that every id is unique.
    """
    from collections import Counter

    from reviewkit.formats import read_records

    records, names = [], []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ReviewkitError(f"{path}: cannot read the file ({exc.strerror or exc}).") from exc
        found = read_records(data, filename=Path(path).name)
        records.extend(found)
        names.extend([Path(path).name] * len(found))
    ids = [r.source_id or str(i) for i, r in enumerate(records, start=1)]
    repeated = {k for k, n in Counter(ids).items() if n > 1}
    ids = [f"{name}:{rid}" if rid in repeated else rid for name, rid in zip(names, ids)]
    return records, ids


def cmd_dedup(args) -> int:
    """Find duplicate records across files and write record_id,group_id (automatic decisions)."""
    import csv

    from reviewkit.dedup import find_duplicates

    records, ids = _read_inputs(args.files)
    result = find_duplicates(records, progress=None)
    groups = result.group_ids()
    with open(args.output, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "group_id"])
        writer.writerows(zip(ids, [g + 1 for g in groups]))
    removed = len(records) - len(set(groups))
    print(f"{len(records)} records, {len(set(groups))} unique works, {removed} duplicates "
          f"merged automatically, {len(result.possible())} possible duplicates for a person "
          f"to check. Groups written to {args.output}.")
    return 0


def _id_list(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def cmd_simulate(args) -> int:
    """Simulate screening a labelled CSV with the app's model; write the screening order."""
    from reviewkit.screening.simulation import simulate_csv

    order = simulate_csv(args.data, args.output, prior_included=_id_list(args.prior_included),
                         prior_excluded=_id_list(args.prior_excluded), seed=args.seed)
    print(f"{len(order)} records screened in simulation; order written to {args.output}.")
    return 0


def cmd_search(args) -> int:
    """Search the case-study and story library; print one JSON line per hit."""
    import json

    from reviewkit.library.search import search_cli

    for hit in search_cli(args.query, args.top, store=_open_store(args)):
        print(json.dumps({k: hit[k] for k in ("id", "title", "type", "score")}, ensure_ascii=False))
    return 0


def cmd_cluster(args) -> int:
    """Group studies by topic; write record_id,cluster_id,cluster_label."""
    from reviewkit.clustering import cluster_csv

    result = cluster_csv(args.data, args.output, k=args.k)
    print(f"{len(result.labels)} studies in {result.k} clusters; written to {args.output}.")
    return 0


def cmd_code(args) -> int:
    """Suggest approach, outcome and design codes; write record_id,scheme,code,confidence."""
    from reviewkit.coding import code_csv

    written = code_csv(args.data, args.output)
    print(f"{written} code suggestions written to {args.output}.")
    return 0


def cmd_brief(args) -> int:
    """Write an evidence brief for an approach (or the whole review) as docx, pdf or md."""
    from reviewkit.briefs import build_brief, find_approach, render_brief
    from reviewkit.codebook import review_codebook

    store = _open_store(args)
    if args.review:
        review = store.get_review(args.review)
    else:
        from reviewkit.demo import ensure_demo_review

        reviews = store.list_reviews()
        review = reviews[0] if len(reviews) == 1 else ensure_demo_review(store)
    approach = None
    if args.approach:
        approach = find_approach(review_codebook(store, review.id), args.approach)
        if approach is None:
            raise ReviewkitError(f"No approach in the codebook matches '{args.approach}'.")
    brief = build_brief(store, review, approach=approach)
    Path(args.output).write_bytes(render_brief(brief, args.format))
    print(f"{brief.title} ({len(brief.references)} studies) written to {args.output}.")
    return 0


def cmd_reviews(args) -> int:
    """List the reviews in the database with their record counts."""
    store = _open_store(args)
    for review in store.list_reviews():
        print(f"{review.name}\t{store.count_records(review.id)} records")
    return 0


def cmd_demo(args) -> int:
    """Create the demo review from the corpora/ folder (does nothing if it exists)."""
    from reviewkit.demo import ensure_demo_review

    review = ensure_demo_review(_open_store(args))
    print(f"Demo review ready: '{review.name}'.")
    return 0


def _add_common(parser: argparse.ArgumentParser, *, top_level: bool) -> None:
    # Accepted before or after the subcommand; after it, it only counts when given.
    default = None if top_level else argparse.SUPPRESS
    parser.add_argument("--database", metavar="URL", default=default,
                        help="database URL (default: $REVIEWKIT_DATABASE_URL, else a SQLite "
                             "file in ./data or $REVIEWKIT_DATA_DIR)")
    parser.add_argument("--user", metavar="NAME", default=default,
                        help="who is acting (default: $REVIEWKIT_USER, else 'admin')")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m reviewkit",
        description="reviewkit: import, deduplicate, screen and map research evidence.")
    _add_common(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        _add_common(p, top_level=False)
        p.set_defaults(func=func)
        return p

    p = command("import", cmd_import,
                "Import RIS, BibTeX, MEDLINE/.nbib, EndNote XML, CSV/TSV or PDF files into a review.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--review", required=True, metavar="NAME",
                   help="the review to import into (created when new)")
    p.add_argument("--format", choices=("ris", "bibtex", "medline", "endnote_xml", "csv", "tsv", "pdf"),
                   help="file format (default: detected from the content)")
    p.add_argument("--database-name", metavar="NAME",
                   help="the bibliographic database searched, e.g. Scopus (default: from the file)")
    p.add_argument("--search-date", metavar="DATE", help="when the search was run")
    p.add_argument("--query", metavar="TEXT", help="the search string used")

    p = command("export", cmd_export, "Export a review's records as RIS, BibTeX or CSV.")
    p.add_argument("--review", required=True, metavar="NAME")
    p.add_argument("--format", required=True, choices=("ris", "bibtex", "csv"))
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--search", metavar="WORDS", help="only records matching these words")

    p = command("dedup", cmd_dedup,
                "Find duplicates across exported files; write one row per record: record_id,group_id.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--output", required=True, metavar="FILE", help="CSV file to write")

    p = command("simulate", cmd_simulate,
                "Simulate screening a labelled CSV (record_id,title,abstract,label_included).")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--prior-included", metavar="ID,...", help="record ids known to be relevant")
    p.add_argument("--prior-excluded", metavar="ID,...", help="record ids known to be irrelevant")
    p.add_argument("--seed", type=int, default=0)

    p = command("search", cmd_search, "Search the case-study and story library (JSON lines).")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--top", type=int, default=10)

    p = command("cluster", cmd_cluster, "Cluster studies by topic: record_id,cluster_id,cluster_label.")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--k", type=int, default=None, help="number of clusters (default: chosen automatically)")

    p = command("code", cmd_code, "Suggest codes for studies: record_id,scheme,code,confidence.")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--output", required=True, metavar="FILE")

    p = command("brief", cmd_brief, "Write an evidence brief for an approach or a whole review.")
    p.add_argument("--approach", metavar="NAME", help="in everyday words, e.g. 'social prescribing'")
    p.add_argument("--format", required=True, choices=("docx", "pdf", "md"))
    p.add_argument("--output", required=True, metavar="FILE")
    p.add_argument("--review", metavar="NAME", help="default: the only review, else the demo review")

    command("reviews", cmd_reviews, "List reviews.")
    command("demo", cmd_demo, "Create the demo review from corpora/.")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ReviewkitError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
