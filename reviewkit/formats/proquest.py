"""ProQuest plain text: the 'Report Information from ProQuest' file its export to text saves.

After a table of contents, each record starts with ``Document 3 of 100``, then the title on a
line of its own, then ``Label: value`` fields separated by blank lines (``Author:``,
``Abstract:``, ``Publication year:``...); a long value goes on in lines without a label.  A line
of underscores closes the record.  A bibliography in another citation style may follow.
"""

from __future__ import annotations

import re

from reviewkit.errors import FormatError
from reviewkit.formats.fields import (
    FORMAT_KEY,
    Continuation,
    classify_standard_number,
    clean_record,
    record_type_from_words,
    split_unique,
    take,
    take_all,
)
from reviewkit.formats.notes import ReadNotes
from reviewkit.records import Record, normalize_doi, parse_year

_DOCUMENT = re.compile(r"Document \d+ of \d+\s*$")
_SEPARATOR = re.compile(r"_{20,}\s*$")
_LABEL = re.compile(r"([A-Z][A-Za-z /&()-]{1,40}): ?(.*)$")
# ProQuest's labels for the Record fields.  Within an abstract only a known label starts a new
# field: there 'Methods: ...' is a heading of the abstract.
_FIELDS = {
    "title": ("Title",),
    "authors": ("Author", "Authors", "Corporate author"),
    "year": ("Publication year", "Publication date", "Degree date"),
    "journal": ("Publication title", "Source title"),
    "volume": ("Volume",),
    "issue": ("Issue",),
    "pages": ("Pages", "First page"),
    "doi": ("DOI", "Digital Object Identifier"),
    "abstract": ("Abstract",),
    "keywords": ("Identifier / keyword", "Subject", "Keywords"),
    "url": ("Document URL", "Links"),
    "publisher": ("Publisher",),
    "place_published": ("Place of publication",),
    "language": ("Language", "Language of publication"),
    "database": ("Database",),
    "accession": ("ProQuest document ID", "Accession number"),
}
_KNOWN = frozenset(label for labels in _FIELDS.values() for label in labels) | frozenset(
    {"ISBN", "ISSN", "Document type", "Source type", "Source", "Advisor", "Classification",
     "Committee member", "Copyright", "Country of publication", "Degree", "Department",
     "Dissertation/thesis number", "Number of pages", "School code", "University location",
     "University/institution", "Last updated", "Publication subject", "Section", "Location",
     "Company / organization", "People", "Author affiliation", "Document feature", "Update"})


def looks_like_proquest(text: str) -> bool:
    """Tell a ProQuest plain-text export by its heading or its 'Document 1 of N' lines."""
    head = text[:20000]
    return "Report Information from ProQuest" in head or re.search(
        r"^Document 1 of \d+\s*$", head, re.MULTILINE) is not None


def read_proquest(text: str, *, filename: str = "",
                  notes: ReadNotes | None = None) -> list[Record]:
    """Read every 'Document n of N' record of a ProQuest plain-text export."""
    notes = notes if notes is not None else ReadNotes()
    records: list[Record] = []
    values: dict[str, list[str]] | None = None
    last: list[str] = []
    label = ""
    after_blank = True
    pending = Continuation()
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if _DOCUMENT.match(stripped):
            pending.flush()
            if values is not None:
                records.append(_build_record(values))
            values, last, label = {}, [], ""
            continue
        if _SEPARATOR.match(stripped):
            pending.flush()
            if values is not None:
                records.append(_build_record(values))
                values = None
            continue
        if not stripped:
            after_blank = True
            continue
        blank_before, after_blank = after_blank, False
        if values is None:
            notes.add("text outside the 'Document n of N' records ignored (contents, "
                      "headings, a bibliography)", line=number, example=stripped)
            continue
        match = _LABEL.match(stripped)
        is_label = match and blank_before and (match.group(1) in _KNOWN or label != "Abstract")
        if is_label:
            pending.flush()
        if not values:
            values["heading"] = [stripped]  # the title line at the top of the record
        elif is_label:
            label = match.group(1)
            last = values.setdefault(label, [])
            last.append(match.group(2))
        elif blank_before and stripped.startswith("http") and label != "Links":
            pending.flush()
            values.setdefault("Document URL", []).append(stripped)  # the link under the author
        elif last:
            pending.add(last, stripped)
        else:
            values.setdefault("Links", []).append(stripped)
    pending.flush()
    if values is not None:
        records.append(_build_record(values))
    if not records:
        raise FormatError("the file holds no ProQuest records (no 'Document 1 of N' line)",
                          file=filename)
    return records


def _build_record(values: dict[str, list[str]]) -> Record:
    record = Record()
    heading = take(values, ("heading",))[1]
    record.title = take(values, _FIELDS["title"])[1] or heading
    record.authors = [name.strip() for value in take_all(values, _FIELDS["authors"])
                      for name in value.split(";") if name.strip()]
    year = take(values, _FIELDS["year"])
    record.year = parse_year(year[1])
    for field in ("journal", "volume", "issue", "pages", "abstract", "url", "publisher",
                  "place_published", "language", "database", "accession"):
        setattr(record, field, take(values, _FIELDS[field])[1])
    record.doi = normalize_doi(take(values, _FIELDS["doi"])[1])
    record.keywords = split_unique(take_all(values, _FIELDS["keywords"]), ";,")
    for number in take_all(values, ("ISBN", "ISSN")):
        kind = classify_standard_number(number)
        if not getattr(record, kind):
            setattr(record, kind, number)
    kind = take(values, ("Document type",))[1]
    record.record_type = record_type_from_words(kind) if kind else "journal article"
    if kind:
        values["Document type"] = [kind]
    record.source_id = record.accession
    values[FORMAT_KEY] = ["proquest"]
    record.extra = values
    return clean_record(record)

