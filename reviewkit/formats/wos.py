"""Web of Science plain text (.txt, .ciw, .isi): the file 'Export > Plain text file' saves.

Each line is a two-character tag, a space and a value (``TI Soil fauna diversity``); a value
goes on in lines indented by three spaces, and in list fields (authors, addresses, cited
references) each indented line is one more item.  A record runs from ``PT`` to ``ER``; the file
opens with ``FN`` and ``VR`` lines and closes with ``EF``.  Other platforms on the Web of
Science (Zoological Record, BIOSIS, MEDLINE there) write the same format with a few more tags.
"""

from __future__ import annotations

import re

from reviewkit.errors import FormatError
from reviewkit.formats.fields import (
    FORMAT_KEY,
    Continuation,
    clean_record,
    is_bare_year,
    record_type_from_words,
    split_unique,
    take,
    take_all,
)
from reviewkit.formats.notes import ReadNotes
from reviewkit.records import Record, join_pages, normalize_doi, parse_year

_TAG_LINE = re.compile(r"([A-Z][A-Z0-9]) (.*)$|([A-Z][A-Z0-9])$")
# Tags whose indented lines are further items rather than the same value going on.
_LIST_TAGS = frozenset({"AU", "AF", "BA", "BF", "CA", "GP", "BE", "CR", "C1", "C3", "EM", "RI",
                        "OI"})
# The file's own header and footer lines, not part of any record.
_FILE_TAGS = frozenset({"FN", "VR", "EF"})
_PUBLICATION_TYPES = {"J": "journal article", "B": "book", "S": "book",
                      "C": "conference paper", "P": "other"}
# Collections on the Web of Science platform, by the prefix of their accession number.
_COLLECTIONS = {"WOS": "Web of Science", "ZOOR": "Zoological Record", "BCI": "BIOSIS",
                "MEDLINE": "MEDLINE", "CCC": "Current Contents Connect", "INSPEC": "INSPEC",
                "CABI": "CAB Abstracts", "SCIELO": "SciELO", "KJD": "KCI",
                "RSCI": "Russian Science Citation Index", "DIIDW": "Derwent Innovations",
                "PPRN": "Preprint Citation Index", "GRANTS": "Web of Science grants"}


def looks_like_wos(lines: list[str]) -> bool:
    """Tell a Web of Science plain-text export by its first non-blank lines."""
    head = lines[:6]
    if head and re.match(r"(FN |VR \d)", head[0].lstrip()):
        return True
    return any(re.fullmatch(r"PT [A-Z]\s*", line) for line in head)


def read_wos(text: str, *, filename: str = "", notes: ReadNotes | None = None) -> list[Record]:
    """Read every record of a Web of Science plain-text export, noting what does not fit."""
    notes = notes if notes is not None else ReadNotes()
    records: list[Record] = []
    values: dict[str, list[str]] | None = None
    last: list[str] = []
    last_tag = ""
    start = 0
    seen: set[str] = set()  # tags met so far: a tag glued to its value is one of these
    pending = Continuation()
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("  "):
            if values is None or not last:
                notes.add("indented line outside any record ignored", line=number, example=line)
            elif last_tag in _LIST_TAGS:
                last.append(line.strip())
            else:
                pending.add(last, line.strip())
            continue
        pending.flush()
        match = _TAG_LINE.match(line.rstrip())
        if match is not None:
            tag = match.group(1) or match.group(3)
            value = (match.group(2) or "").strip()
        elif line[:2] in seen and values is not None:
            tag, value = line[:2], line[2:].strip()
            notes.add(f"tag without a space after it, read as '{tag}'", line=number,
                      example=line)
        else:
            notes.add("line that is not a 'TAG value' line ignored", line=number, example=line)
            continue
        seen.add(tag)
        if tag in _FILE_TAGS:
            continue
        if tag == "PT":
            if values is not None:
                notes.add("record without an 'ER' end line: it ends where the next begins",
                          line=start)
                records.append(_build_record(values))
            values, start = {}, number
        elif tag == "ER":
            if values is None:
                notes.add("'ER' line outside any record ignored", line=number)
            else:
                records.append(_build_record(values))
                values = None
            continue
        elif values is None:
            notes.add("tag line outside any record ignored (a record starts with 'PT')",
                      line=number, example=line)
            continue
        last = values.setdefault(tag, [])
        last.append(value)
        last_tag = tag
    pending.flush()
    if values is not None:
        notes.add("the last record has no 'ER' end line (the file may be cut short); it was "
                  "read as far as it goes", line=start)
        records.append(_build_record(values))
    if not records:
        raise FormatError("the file holds no Web of Science records (no line starts with "
                          "'PT ')", file=filename)
    return records


def _build_record(values: dict[str, list[str]]) -> Record:
    code = take(values, ("PT",))[1].strip()
    record = Record(record_type=_PUBLICATION_TYPES.get(code, "journal article"))
    if code:
        values["PT"] = [code]
    kind = take(values, ("DT",))[1]
    if kind:
        record.record_type = record_type_from_words(kind) if code != "B" else "book"
        values["DT"] = [kind]
    record.title = take(values, ("TI",))[1]
    full_names = take_all(values, ("AF",))
    short_names = take_all(values, ("AU",))
    record.authors = full_names or short_names or take_all(values, ("CA", "GP"))
    if full_names and short_names:
        values["AU"] = short_names
    year = take(values, ("PY",))[1]
    date = take(values, ("PD",))[1]
    record.year = parse_year(year) or parse_year(date)
    if date:
        values["PD"] = [date]
    if year and not is_bare_year(year):
        values["PY"] = [year]
    record.journal = take(values, ("SO", "SE", "BS"))[1]
    record.volume = take(values, ("VL",))[1]
    record.issue = take(values, ("IS",))[1]
    first = take(values, ("BP",))[1]
    last = take(values, ("EP",))[1]
    record.pages = join_pages(first, last) if first or last else take(values, ("AR",))[1]
    record.doi = normalize_doi(take(values, ("DI",))[1])
    record.pmid = take(values, ("PM",))[1]
    record.issn = take(values, ("SN", "EI"))[1]
    record.isbn = take(values, ("BN",))[1]
    record.abstract = take(values, ("AB",))[1]
    record.keywords = split_unique(take_all(values, ("DE",)) + take_all(values, ("ID",)))
    record.url = take(values, ("UR",))[1]
    record.publisher = take(values, ("PU",))[1]
    record.place_published = take(values, ("PI",))[1]
    record.language = take(values, ("LA",))[1]
    record.accession = take(values, ("UT",))[1]
    record.source_id = record.accession or take(values, ("AN",))[1]
    prefix = record.accession.split(":", 1)[0] if ":" in record.accession else "WOS"
    record.database = _COLLECTIONS.get(prefix.upper(), "Web of Science")
    values[FORMAT_KEY] = ["wos"]
    record.extra = values
    return clean_record(record)

