"""Bring files into a review and take records out again: the steps the Import page and CLI share."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from reviewkit import formats
from reviewkit.errors import FormatError, ReviewkitError
from reviewkit.formats.spreadsheet import sheet_rows
from reviewkit.formats.tabular import sniff_delimiter
from reviewkit.records import Record
from reviewkit.search_prefill import SearchHints, search_hints
from reviewkit.store import Batch, Review, Store, duplicate_import_error
from reviewkit.store.schema import import_batches as batch_table
from reviewkit.store.schema import records as record_table

# Larger files are refused before they are read: a real database export is rarely over a few
# megabytes per thousand records, and a runaway upload must not take the server down.
MAX_IMPORT_MB = float(os.environ.get("REVIEWKIT_MAX_IMPORT_MB", "40"))

# What the database is called when a file does not say, by format.
_DATABASE_BY_FORMAT = {"medline": "PubMed", "pdf": "Full-text PDF"}


@dataclass
class Preview:
    """What a file holds, before anything is stored."""

    filename: str
    format: str
    records: list[Record]
    headers: list[str] = field(default_factory=list)
    column_map: dict[str, str] = field(default_factory=dict)
    database_name: str = ""
    notes: formats.ReadNotes = field(default_factory=formats.ReadNotes)
    # what the file says about its search (platform, export date...), for the search record
    search_hints: SearchHints = field(default_factory=SearchHints)

    @property
    def count(self) -> int:
        return len(self.records)


def check_size(data: bytes, filename: str, *, max_mb: float | None = MAX_IMPORT_MB) -> None:
    """Refuse a file larger than the import limit, naming the file and the limit."""
    if max_mb is not None and len(data) > max_mb * 1024 * 1024:
        raise FormatError(
            f"the file is {len(data) / 1024 / 1024:.1f} MB, over the {max_mb:g} MB import limit. "
            "Split the export into smaller files (most databases let you export in batches).",
            file=filename)


def _length_limits(table) -> dict[str, int]:
    return {column.name: column.type.length for column in table.columns
            if getattr(column.type, "length", None)}


# Columns still of bounded length (DOI, PMID, the work type: none that real data fills).
# PostgreSQL refuses a longer value (SQLite would store it), so a value that does not fit is
# moved into the record's extra fields, the same way on both, and noted.
_RECORD_LIMITS = _length_limits(record_table)
_BATCH_LIMITS = _length_limits(batch_table)


def fit_lengths(parsed: list[Record], notes: formats.ReadNotes) -> None:
    """Move any value too long for its column into the record's extra fields, noting it."""
    for number, record in enumerate(parsed, 1):
        for name, limit in _RECORD_LIMITS.items():
            value = getattr(record, name, None)
            if isinstance(value, str) and len(value) > limit:
                record.extra.setdefault(name, []).append(value)
                setattr(record, name, "" if name != "record_type" else "other")
                notes.add(f"{name.replace('_', ' ')} longer than {limit} characters (the "
                          "columns may be shifted): kept among the record's extra fields",
                          record=number, example=value)


def _check_batch_lengths(filename: str, **values: str) -> None:
    for name, value in (("filename", filename), *values.items()):
        limit = _BATCH_LIMITS.get(name)
        if limit and len(value) > limit:
            raise FormatError(f"the {name.replace('_', ' ')} is {len(value):,} characters long; "
                              f"at most {limit} fit", file=filename[:200])


def table_headers(data: bytes, filename: str, format: str) -> list[str]:
    """Return the header row of a CSV, TSV or Excel file."""
    if format in ("xlsx", "xls"):
        return [h.strip() for h in sheet_rows(data, filename=filename, kind=format)[0]]
    text = formats.decode_bytes(data, filename=filename)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if format == "tsv" else sniff_delimiter(first_line)
    return [h.strip() for h in next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])]


def guess_database(parsed: list[Record], filename: str, format: str) -> str:
    """Name the database a file came from: as its records say, else by format, else the file."""
    named = Counter(r.database for r in parsed if r.database)
    if named:
        return named.most_common(1)[0][0]
    return _DATABASE_BY_FORMAT.get(format, Path(filename).stem)


def preview_file(data: bytes, filename: str, *, format: str | None = None,
                 column_map: dict[str, str] | None = None,
                 max_mb: float | None = MAX_IMPORT_MB) -> Preview:
    """Read a file without storing it: detected format, records, notes, for tables the columns."""
    check_size(data, filename, max_mb=max_mb)
    notes = formats.ReadNotes()
    format = format or formats.detect_format(data, filename)
    headers: list[str] = []
    if format in ("csv", "tsv", "xlsx", "xls"):
        headers = table_headers(data, filename, format)
        if column_map is None:
            column_map = formats.suggest_column_map(headers)
    parsed = formats.read_records(data, filename=filename, format=format, column_map=column_map,
                                  notes=notes)
    fit_lengths(parsed, notes)
    return Preview(filename=filename, format=format, records=parsed, headers=headers,
                   column_map=dict(column_map or {}),
                   database_name=guess_database(parsed, filename, format), notes=notes,
                   search_hints=search_hints(data, parsed, format))


def import_file(store: Store, review: Review, data: bytes, filename: str, *,
                actor: str, format: str | None = None, column_map: dict[str, str] | None = None,
                database_name: str = "", search_date: str = "", search_query: str = "",
                max_mb: float | None = MAX_IMPORT_MB, decisions: bool = True,
                decisions_from: str = "auto",
                notes: formats.ReadNotes | None = None,
                search: dict[str, str] | None = None) -> Batch:
    """Read one file and store all its records in one transaction.

    With ``decisions``, screening decisions the file carries in its notes (a RIS or CSV
    exported by reviewkit, Rayyan or ASReview) come in too, as ``actor``'s votes, in the same
    transaction; ``batch.decisions_imported`` counts them.  ``decisions_from`` picks whose marks
    are read (see :data:`reviewkit.interchange.DECISION_SOURCES`; 'asreview' also reads the label
    column of ASReview's CSV).  What the reader skipped or repaired
    is added to ``notes`` (give one to see it).  ``search`` holds search record fields
    (PRISMA-S: method, platform, limits, ...) stored with the import in the same transaction.

    Raises FormatError (bad file), DuplicateImportError (same bytes imported before) or
    another ReviewkitError; in every case the database is left exactly as it was.
    """
    check_size(data, filename, max_mb=max_mb)
    if search:
        from reviewkit.search_record import check_search_fields

        search = check_search_fields(search)
    _check_batch_lengths(filename, database_name=database_name, search_date=search_date)
    digest = hashlib.sha256(data).hexdigest()
    earlier = store.find_batch(review.id, digest)
    if earlier is not None:
        # Checked again inside the storing transaction; this early check spares the parse.
        raise duplicate_import_error(filename, earlier)
    preview = preview_file(data, filename, format=format, column_map=column_map, max_mb=max_mb)
    if notes is not None:
        notes.groups.update(preview.notes.groups)
    # what the file states about its search fills the search record, unless the caller said
    given = {"database": database_name, "date_searched": search_date}
    hinted = {k: v for k, v in preview.search_hints.fields.items() if not given.get(k)}
    if hinted:
        search = hinted | (search or {})
    calls = {}
    if decisions:
        from reviewkit.decisions import settled_calls
        from reviewkit.interchange import DECISION_SOURCES, read_file_decisions

        if decisions_from not in DECISION_SOURCES:
            raise ReviewkitError(f"Decisions cannot be read from '{decisions_from}'; choose "
                                 f"one of {', '.join(DECISION_SOURCES)}.")
        for position, record in enumerate(preview.records, start=1):
            found = settled_calls(read_file_decisions(record, source=decisions_from),
                                  source=filename)
            if found:
                calls[position] = found
    batch = store.add_import(
        review.id, preview.records, actor=actor, filename=filename, format=preview.format,
        sha256=digest, size_bytes=len(data), database_name=database_name or preview.database_name,
        search_date=search_date, search_query=search_query, decisions=calls, search=search)
    if calls:
        batch = dataclasses.replace(batch, decisions_imported=sum(map(len, calls.values())))
    if preview.format == "pdf":
        first = store.list_records(review.id, order_by="id", descending=True, limit=1)[0]
        store.attach_file_content(first.id, data)
    return batch


def export_records(store: Store, review: Review, format: str, *, search: str | None = None
                   ) -> bytes:
    """Write a review's records (optionally those matching ``search``) as RIS, BibTeX or CSV."""
    if format not in formats.EXPORT_FORMATS:
        raise ReviewkitError(
            f"Cannot export as '{format}'; choose one of {', '.join(formats.EXPORT_FORMATS)}.")
    stored = store.list_records(review.id, search=search)
    out = []
    for item in stored:
        rec = item.record
        if not rec.source_id:
            rec.source_id = str(item.id)
        out.append(rec)
    return formats.write_records(out, format)
