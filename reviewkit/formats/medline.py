"""MEDLINE tagged text, the .nbib file PubMed saves for citation managers.

Each line is ``TAG - value`` with the tag padded to four characters (``PMID- 31234567``,
``TI  - ...``); a long value goes on in lines indented by six spaces; records are separated by
blank lines.
"""

from __future__ import annotations

import re

from reviewkit.errors import FormatError
from reviewkit.formats.fields import clean_record, record_type_from_words, take, take_all
from reviewkit.formats.notes import ReadNotes
from reviewkit.records import Record, normalize_doi, parse_year

_TAG_LINE = re.compile(r"([A-Z][A-Z0-9]{1,3}) *- ?(.*)$")
_DOI_MARK = re.compile(r"\[doi\]\s*$", re.IGNORECASE)

# Publication types (PT) that say the record is not a journal article.
_NON_ARTICLE_TYPES = ("chapter", "book", "dataset", "congress", "preprint")


def read_medline(text: str, *, filename: str = "",
                 notes: ReadNotes | None = None) -> list[Record]:
    """Read every record of a MEDLINE/.nbib export, noting lines that fit no record."""
    notes = notes if notes is not None else ReadNotes()
    records: list[Record] = []
    values: dict[str, list[str]] | None = None
    last: list[str] = []
    start = 0
    # Continuation lines are joined once per value (adding each to the growing string would be
    # quadratic in the field's length).
    parts: list[str] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            if parts:
                last[-1] = " ".join([last[-1], *parts])
                parts.clear()
            if values is not None:
                records.append(_build_record(values))
                values = None
            continue
        match = _TAG_LINE.match(line)
        if line[0] in " \t" or match is None or line[4:6] not in ("- ", "-"):
            if values is None or not last:
                notes.add("line outside any record ignored (a record starts with a "
                          "'TAG - value' line)", line=number, example=line)
            else:
                if line[0] not in " \t":
                    notes.add("line that is neither a 'TAG - value' line nor indented read "
                              "as the continuation of the value above", line=number,
                              example=line)
                parts.append(line.strip())
            continue
        if parts:
            last[-1] = " ".join([last[-1], *parts])
            parts.clear()
        if values is None:
            values = {}
            start = number
        tag = match.group(1)
        last = values.setdefault(tag, [])
        last.append(match.group(2).strip())
    if parts:
        last[-1] = " ".join([last[-1], *parts])
    if values is not None:
        records.append(_build_record(values))
    if not records:
        raise FormatError("the file holds no MEDLINE records", file=filename, line=start or None)
    return records


def _build_record(values: dict[str, list[str]]) -> Record:
    record = Record(database="PubMed")
    record.pmid = take(values, ("PMID",))[1]
    record.source_id = record.pmid
    record.title = take(values, ("TI", "BTI"))[1]
    full_names = take_all(values, ("FAU",))
    short_names = take_all(values, ("AU",))
    record.authors = full_names or short_names
    if full_names and short_names:
        values["AU"] = short_names
    date = take(values, ("DP",))[1]
    record.year = parse_year(date)
    if date:
        values["DP"] = [date]
    record.journal = take(values, ("JT", "TA"))[1]
    record.volume = take(values, ("VI",))[1]
    record.issue = take(values, ("IP",))[1]
    record.pages = take(values, ("PG",))[1]
    record.doi = _find_doi(values)
    record.issn = take(values, ("IS",))[1].split(" (")[0]
    record.isbn = take(values, ("ISBN",))[1]
    record.abstract = take(values, ("AB",))[1]
    record.keywords = _unique(take_all(values, ("OT", "MH")))
    record.publisher = take(values, ("PB",))[1]
    record.place_published = take(values, ("PL",))[1]
    record.language = take(values, ("LA",))[1]
    types = " ".join(values.get("PT", ())).lower()
    record.record_type = "journal article"
    if any(word in types for word in _NON_ARTICLE_TYPES):
        record.record_type = record_type_from_words(types)
        if record.record_type == "other" and "preprint" in types:
            record.record_type = "journal article"
    record.extra = values
    return clean_record(record)


def _find_doi(values: dict[str, list[str]]) -> str:
    """Return the DOI from the 'LID' or 'AID' lines marked '[doi]' (they stay as extras)."""
    for tag in ("LID", "AID"):
        for value in values.get(tag, ()):
            if _DOI_MARK.search(value):
                return normalize_doi(_DOI_MARK.sub("", value))
    return ""


def _unique(words: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for word in words:
        if word.lower() not in seen:
            seen.add(word.lower())
            kept.append(word)
    return kept
