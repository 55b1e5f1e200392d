"""CSV and TSV: spreadsheets of records from Scopus, Web of Science, Zotero, or a reviewer.

Columns are matched to Record fields by their header (:func:`suggest_column_map` knows the
names the big databases use); the person importing can override that with a column map.
Columns that match no field are kept in ``Record.extra`` under their header, and
:func:`write_csv` writes them back, so a CSV survives a read and a write unchanged.
"""

from __future__ import annotations

import csv
import io
import re

from reviewkit.errors import FormatError
from reviewkit.export_cells import cell_writer, read_cell
from reviewkit.formats.fields import (
    clean,
    clean_record,
    database_from_accession,
    is_bare_year,
    record_type_from_words,
)
from reviewkit.formats.notes import ReadNotes
from reviewkit.records import RECORD_TYPES, Record, join_pages, normalize_doi, parse_year

# Abstracts and reference lists can exceed the csv module's default 128 KB field limit.
csv.field_size_limit(16 * 1024 * 1024)

# The columns write_csv puts first, in this order; each is the Record field of the same name,
# except record_id, which is the record's source_id.
COLUMNS = (
    "record_id", "title", "authors", "year", "journal", "volume", "issue", "pages", "doi",
    "abstract", "keywords", "pmid", "isbn", "issn", "url", "fulltext_url", "publisher",
    "place_published", "record_type", "language", "database", "accession", "notes",
)
_FIELD_OF_COLUMN = {name: ("source_id" if name == "record_id" else name) for name in COLUMNS}
MAPPABLE_FIELDS = frozenset(_FIELD_OF_COLUMN.values())
_OWN_HEADER = COLUMNS[:10]

# Header names (lower case, single spaces) that mean each field, best first.  Scopus, Web of
# Science (full names and two-letter codes), Zotero, PubMed and EndNote exports are covered.
_ALIASES = {
    "title": ("title", "article title", "document title", "paper title", "primary title",
              "item title", "display_name", "ti", "t1"),
    "authors": ("author full names", "authors", "author", "author(s)", "author/s", "author names",
                "authorships.author.display_name", "af", "au", "a1", "creator", "creators"),
    "year": ("year", "publication year", "publication_year", "pubyear", "pub year",
             "published year", "year published", "py", "publication date", "publication_date",
             "date", "date published", "pubdate", "pd"),
    "journal": ("source title", "journal", "journal title", "journal name", "publication title",
                "journal/book", "source title (journal)", "container title", "secondary title",
                "periodical", "primary_location.source.display_name", "host_venue.display_name",
                "pubtitle", "so", "t2", "jt", "jo", "jf"),
    "volume": ("volume", "vol", "vol.", "journal volume", "biblio.volume", "vl", "vi"),
    "issue": ("issue", "number", "no", "no.", "issue number", "journal issue", "biblio.issue",
              "is", "ip"),
    "pages": ("pages", "page", "page range", "pagination", "pg"),
    "doi": ("doi", "item doi", "digital object identifier", "di", "do"),
    "pmid": ("pmid", "pubmed id", "pubmed_id", "ids.pmid", "medline pmid", "pm"),
    "isbn": ("isbn", "isbns", "bn"),
    "issn": ("issn", "issns", "primary_location.source.issn_l", "sn"),
    "abstract": ("abstract", "abstract note", "summary", "ab", "n2"),
    "keywords": ("author keywords", "keywords", "keyword", "manual tags", "tags", "subject terms",
                 "subjects", "de", "kw"),
    "url": ("link", "url", "links", "external url", "articleurl", "documenturl", "dimensions url",
            "ur"),
    "fulltext_url": ("fulltext_url", "full text url", "pdf url", "pdf", "file attachments", "l1"),
    "publisher": ("publisher", "pu", "pb"),
    "place_published": ("place_published", "publisher city", "place published", "place", "pi",
                        "cy"),
    "record_type": ("record_type", "document type", "item type", "publication type",
                    "reference type", "content type", "type", "dt", "pt", "ty"),
    "language": ("language of original document", "language", "la"),
    "database": ("database", "db"),
    "accession": ("eid", "ut (unique wos id)", "ut", "accession number", "accession", "storeid",
                  "embase accession id", "an"),
    "notes": ("notes", "note", "n1"),
    "source_id": ("record_id", "record id", "source_id", "id", "key", "ref id", "refid",
                  "reference id", "citation id", "covidence #", "item id", "lens id",
                  "publication id"),
}
# Two columns that together make the page range: (first page, last page).
_PAGE_PAIRS = (("page start", "page end"), ("start page", "end page"), ("bp", "ep"),
               ("first page", "last page"), ("biblio.first_page", "biblio.last_page"),
               ("sp", "ep"))
# Web of Science's one-letter publication types.
_WOS_TYPES = {"J": "journal article", "B": "book", "S": "book", "C": "conference paper",
              "P": "other"}
_SCOPUS_AUTHOR_ID = re.compile(r"\s*\(\d+\)\s*$")
_INITIALS_LIST = re.compile(r"(?<=\.),\s+")
_SURNAME_INITIALS = re.compile(r"[^,]+ (?:[^\W\d_]\.-?)+$")


def _normalise_header(header: str) -> str:
    return " ".join(header.replace("\ufeff", "").strip().strip('"').lower().split())


def suggest_column_map(headers: list[str]) -> dict[str, str]:
    """Guess which Record field each column holds: {header: field}, "" for none.

    >>> suggest_column_map(["Article Title", "Publication Year", "Notes on screening"])
    {'Article Title': 'title', 'Publication Year': 'year', 'Notes on screening': ''}
    """
    names = [_normalise_header(h) for h in headers]
    mapping = {header: "" for header in headers}
    claimed: set[str] = set()

    def claim(index: int, field: str) -> None:
        mapping[headers[index]] = field
        claimed.add(field)

    if names[: len(_OWN_HEADER)] == list(_OWN_HEADER):
        # A file write_csv made: its columns are the fields, whatever else they resemble.
        for index, name in enumerate(names):
            field = _FIELD_OF_COLUMN.get(name)
            if field and field not in claimed:
                claim(index, field)
    web_of_science = "ut" in names and ("pt" in names or "ti" in names)
    if "source title" in names and "source" in names and "database" not in claimed:
        claim(names.index("source"), "database")  # Scopus names itself in a 'Source' column
    for field, aliases in _ALIASES.items():
        if field in claimed:
            continue
        if web_of_science and field == "source_id":
            continue  # 'ID' is Keywords Plus in Web of Science files
        if field == "journal" and "source" in names and not mapping[headers[names.index("source")]]:
            aliases = (*aliases, "source")
        for alias in aliases:
            index = _unmapped_index(names, mapping, headers, alias)
            if index is not None:
                claim(index, field)
                break
    if "pages" not in claimed:
        for first, last in _PAGE_PAIRS:
            i = _unmapped_index(names, mapping, headers, first)
            j = _unmapped_index(names, mapping, headers, last)
            if i is not None and j is not None:
                claim(i, "pages")
                claim(j, "pages")
                break
    return mapping


def _unmapped_index(names: list[str], mapping: dict[str, str], headers: list[str],
                    alias: str) -> int | None:
    for index, name in enumerate(names):
        if name == alias and not mapping[headers[index]]:
            return index
    return None


def sniff_delimiter(line: str) -> str:
    """Pick the delimiter of a header line: tab, semicolon (European Excel) or comma."""
    counts = {delimiter: line.count(delimiter) for delimiter in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(text: str, *, filename: str = "", delimiter: str | None = None,
             column_map: dict[str, str] | None = None,
             notes: ReadNotes | None = None) -> list[Record]:
    """Read a table with a header row, one record per row, noting rows that do not fit it."""
    notes = notes if notes is not None else ReadNotes()
    if delimiter is None:
        first_line = next((line for line in text.split("\n", 50) if line.strip()), "")
        delimiter = sniff_delimiter(first_line)
    source = _Lines(text)
    reader = csv.reader(source, delimiter=delimiter, strict=True)
    header: list[str] = []
    try:
        while not any(cell.strip() for cell in header):
            header = next(reader)
    except StopIteration:
        raise FormatError("the file holds no header row", file=filename) from None
    except csv.Error as exc:
        raise FormatError(f"the header row cannot be read ({exc})", file=filename,
                          line=reader.line_num) from None
    return read_rows(header, _csv_rows(source, reader, delimiter, notes), filename=filename,
                     column_map=column_map, notes=notes)


# Rows read again without quoting after a quote goes wrong; past this many the rest of the
# file is left unread (each retry reads on from the broken row, so the cost stays linear).
_MAX_RETRIES = 20


class _Lines:
    """The lines of a text for csv.reader, with the place reached, so reading can resume."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.index = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.index >= len(self.lines):
            raise StopIteration
        self.index += 1
        line = self.lines[self.index - 1]
        return line + "\n" if self.index < len(self.lines) else line


def _csv_rows(source: _Lines, reader, delimiter: str, notes: ReadNotes):
    """Yield (line, row) for every row.

    A row whose quotes the csv module cannot read (a quote never closed, text after a closing
    quote) is read again on its own line without quoting, and reading goes on after it.
    """
    retries = 0
    while True:
        row_start = source.index + 1
        try:
            row = next(reader, None)
        except csv.Error as exc:
            if retries == _MAX_RETRIES:
                notes.add(f"{_csv_problem(exc)}; after {_MAX_RETRIES} such rows the rest of "
                          "the file was left unread", line=row_start)
                return
            retries += 1
            source.index = row_start
            line = source.lines[row_start - 1]
            notes.add(f"{_csv_problem(exc)}: the row was read on its own line, quotes as "
                      "plain characters", line=row_start, example=line)
            yield row_start, next(csv.reader([line], delimiter=delimiter,
                                             quoting=csv.QUOTE_NONE), [])
            reader = csv.reader(source, delimiter=delimiter, strict=True)
            continue
        if row is None:
            return
        yield row_start, row


def read_rows(header: list[str], rows, *, filename: str = "",
              column_map: dict[str, str] | None = None,
              notes: ReadNotes | None = None) -> list[Record]:
    """Build records from a header and ``(line, cells)`` rows: CSV, TSV and spreadsheets alike."""
    notes = notes if notes is not None else ReadNotes()
    headers = _unique_headers(header)
    mapping = _final_mapping(headers, column_map, filename, notes)
    columns = list(enumerate(mapping[h] for h in headers))
    funding = _last_funding_column(headers)
    springer = "Item Title" in headers
    records = []
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        spare: dict[str, list[str]] = {}
        if len(row) > len(headers):
            over = len(row) - len(headers)
            if not any(c.strip() for c in row[len(headers):]):
                row = row[: len(headers)]
            elif funding is not None:
                # Scopus writes a second funding text without a header of its own, which
                # moves every later column one to the right.
                cut = funding + 1
                name = re.sub(r"\d+$", "", headers[funding]).strip()
                for k, cell in enumerate(row[cut:cut + over], 2):
                    if cell.strip():
                        spare[f"{name} {k}"] = [cell]
                row = row[:cut] + row[cut + over:]
                notes.add(f"row with more fields than the header: the extra value after "
                          f"'{headers[funding]}' read as another funding text (Scopus leaves "
                          "its column out), later columns moved back into place", line=line)
            else:
                for k, cell in enumerate(row[len(headers):], len(headers) + 1):
                    if cell.strip():
                        spare[f"column {k}"] = [cell]
                row = row[: len(headers)]
                notes.add("row with more fields than the header: the values past the last "
                          "column kept as extra fields named 'column N'", line=line)
        elif len(row) < len(headers):
            notes.add("row with fewer fields than the header: the missing ones left empty",
                      line=line)
            row = row + [""] * (len(headers) - len(row))
        record = _build_record(row, headers, columns, len(records) + 1)
        for key, cells in spare.items():
            record.extra.setdefault(key, []).extend(clean(c) for c in cells)
        if springer and len(record.authors) == 1:
            record.authors = _split_run_together(record.authors[0], notes, line)
        records.append(record)
    if not records:
        raise FormatError("the table has a header row but no records", file=filename)
    return records


def _last_funding_column(headers: list[str]) -> int | None:
    found = [i for i, h in enumerate(headers) if re.fullmatch(r"funding text \d+", h.lower())]
    return found[-1] if found else None


# SpringerLink's CSV runs the names of a work's authors together ('Araz R. AlievNigar T.
# Ismayilova'); a lower-case letter or full stop right before a capital marks the seam, except
# inside surnames such as McDonald or MacLeod.
_NAME_SEAM = re.compile(r"(?<=[a-z\u00df-\u00ff.])(?<!\bMc)(?<!\bMac)(?=[A-Z\u00c0-\u00de])")


def _split_run_together(names: str, notes: ReadNotes, line: int) -> list[str]:
    parts: list[str] = []
    for piece in _NAME_SEAM.split(names):
        if parts and (" " not in parts[-1] or " " not in piece.strip()):
            parts[-1] += piece  # a name has at least two words: a shorter side is no seam
        else:
            parts.append(piece)
    parts = [p.strip() for p in parts if p.strip()]
    if len(parts) > 1:
        notes.add("author names written together (SpringerLink): split where a lower-case "
                  "letter meets a capital", line=line, example=names)
    return parts


def _csv_problem(exc: csv.Error) -> str:
    message = str(exc)
    if "end of data" in message or "EOF" in message:
        return "a quoted value that starts in this row is never closed (a missing '\"')"
    return f"a row cannot be read ({message})"


def _unique_headers(header: list[str]) -> list[str]:
    headers: list[str] = []
    taken: set[str] = set()
    next_number: dict[str, int] = {}  # per name, the suffix to try next: linear in the width
    for index, name in enumerate(header):
        name = name.replace("\ufeff", "").strip() or f"column {index + 1}"
        candidate, count = name, next_number.get(name, 1)
        while candidate in taken:
            count += 1
            candidate = f"{name} ({count})"
        next_number[name] = count
        taken.add(candidate)
        headers.append(candidate)
    return headers


def _final_mapping(headers: list[str], column_map: dict[str, str] | None,
                   filename: str, notes: ReadNotes) -> dict[str, str]:
    """Combine the caller's column map (which wins) with suggestions for the other columns."""
    mapping = suggest_column_map(headers)
    chosen = {h: f for h, f in (column_map or {}).items() if h in mapping}
    for header, field in chosen.items():
        if field and field not in MAPPABLE_FIELDS:
            raise FormatError(f"the column map sends '{header}' to '{field}', which is not a "
                              "record field", file=filename)
    if chosen:
        taken = {f for f in chosen.values() if f}
        for header in headers:
            if header in chosen:
                mapping[header] = chosen[header]
            elif mapping[header] in taken:
                mapping[header] = ""
    shown = ", ".join(repr(h) for h in headers[:12])
    if not any(mapping.values()):
        raise FormatError(
            f"no column holds anything reviewkit recognises as bibliographic (the columns are "
            f"{shown}); name the title column 'Title' or choose the columns yourself with a "
            "column map", file=filename, line=1)
    if "title" not in mapping.values() and not chosen:
        notes.add(f"no column holds titles (the columns are {shown}); the records were read "
                  "without them: name the title column 'Title' or map the columns yourself",
                  line=1)
    return mapping


def split_authors(value: str) -> list[str]:
    """Split an author cell: 'A; B', or Scopus's older 'Smith J., Jones A.B.'."""
    if ";" in value:
        parts = value.split(";")
    elif "|" in value.strip("|"):
        parts = value.split("|")  # OpenAlex
    else:
        parts = _INITIALS_LIST.split(value)
        if len(parts) < 2 or not all(_SURNAME_INITIALS.match(part) for part in parts):
            parts = [value]
    return [_SCOPUS_AUTHOR_ID.sub("", part).strip() for part in parts if part.strip()]


def _build_record(row: list[str], headers: list[str], columns: list[tuple[int, str]],
                  number: int) -> Record:
    record = Record()
    extra: dict[str, list[str]] = {}
    pages: list[str] = []
    for index, field in columns:
        cell = read_cell(row[index])  # a formula-like cell in a file reviewkit exported
        if not cell or not cell.strip():
            continue
        header = headers[index]
        if not field:
            extra[header] = [cell]
        elif field == "authors":
            record.authors.extend(split_authors(cell))
        elif field == "keywords":
            record.keywords.extend(word for word in cell.split(";") if word.strip())
        elif field == "pages":
            pages.append(cell.strip())
        elif field == "year":
            if record.year is None:
                record.year = parse_year(cell)
                if record.year is None or not is_bare_year(cell):
                    extra[header] = [cell]
            else:
                extra[header] = [cell]
        elif field == "record_type":
            words = clean(cell)
            record.record_type = _WOS_TYPES.get(words) or record_type_from_words(words)
            if words.lower() not in RECORD_TYPES:
                extra[header] = [cell]
        elif field == "doi":
            doi = normalize_doi(cell)
            if doi and not record.doi:
                record.doi = doi
            else:
                extra[header] = [cell]
        elif getattr(record, field):
            extra[header] = [cell]
        else:
            setattr(record, field, cell)
    if pages:
        record.pages = join_pages(pages[0], pages[1]) if len(pages) > 1 else pages[0]
    if not record.source_id:
        record.source_id = str(number)
    record.database = record.database or database_from_accession(record.accession)
    record.extra = extra
    return clean_record(record)


def write_csv(records: list[Record]) -> str:
    """Write records as CSV: the standard columns, then every extra column the records carry."""
    extra_columns: dict[str, None] = {}
    for record in records:
        for key in record.extra:
            # Reading gives the standard columns first claim, so an extra named like one
            # ('Authors' from Scopus) comes back as an extra again.
            if key not in _FIELD_OF_COLUMN:
                extra_columns.setdefault(key, None)
    out = io.StringIO()
    writer = cell_writer(out)
    writer.writerow([*COLUMNS, *extra_columns])
    for number, record in enumerate(records, 1):
        row = [
            record.source_id or str(number),
            record.title,
            _author_cell(record.authors),
            "" if record.year is None else str(record.year),
            record.journal, record.volume, record.issue, record.pages, record.doi,
            record.abstract,
            "; ".join(record.keywords),
            record.pmid, record.isbn, record.issn, record.url, record.fulltext_url,
            record.publisher, record.place_published, record.record_type, record.language,
            record.database, record.accession, record.notes,
        ]
        row.extend("; ".join(record.extra.get(key, ())) for key in extra_columns)
        writer.writerow(row)
    return out.getvalue()


def _author_cell(authors: list[str]) -> str:
    cell = "; ".join(authors)
    if len(authors) == 1 and split_authors(cell) != authors:
        cell += ";"  # a lone 'Smith J., Jones A.' would read back as two Scopus-style names
    return cell
