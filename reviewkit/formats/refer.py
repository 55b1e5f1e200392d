"""EndNote tagged text (.enw) and the older refer format it grew from.

Each line is ``%X value``: a percent sign, one character naming the field, a space and the
value (``%T`` title, ``%A`` one author, ``%D`` year, ``%J`` journal, ``%0`` the reference type);
a line without a tag goes on with the value above it, or, after ``%K``, is one more keyword.
Records are separated by blank lines.
"""

from __future__ import annotations

import re

from reviewkit.errors import FormatError
from reviewkit.formats.fields import (
    FORMAT_KEY,
    Continuation,
    classify_standard_number,
    clean_record,
    is_bare_year,
    take,
    take_all,
)
from reviewkit.formats.notes import ReadNotes
from reviewkit.records import Record, normalize_doi, parse_year

_TAG_LINE = re.compile(r"%([0-9A-Za-z@~!#$&()*+^>\[\]|?])(?: (.*)|\s*)$")
# Tags whose untagged follow-on lines are further items rather than the value going on.
_LIST_TAGS = frozenset({"K", "A", "E", "Y", "U"})
_TYPES = {
    "journal article": "journal article", "electronic article": "journal article",
    "magazine article": "journal article", "newspaper article": "journal article",
    "book": "book", "edited book": "book", "electronic book": "book",
    "book section": "book chapter", "electronic book section": "book chapter",
    "conference paper": "conference paper", "conference proceedings": "conference paper",
    "report": "report", "government document": "report",
    "thesis": "thesis", "web page": "web page", "dataset": "dataset",
}


def read_refer(text: str, *, filename: str = "", notes: ReadNotes | None = None) -> list[Record]:
    """Read every record of an EndNote tagged (.enw) or refer file, noting what does not fit."""
    notes = notes if notes is not None else ReadNotes()
    records: list[Record] = []
    values: dict[str, list[str]] | None = None
    last: list[str] = []
    last_tag = ""
    pending = Continuation()
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            pending.flush()
            if values:
                records.append(_build_record(values))
            values = None
            continue
        match = _TAG_LINE.match(line)
        if match is None:
            if values is None:
                notes.add("untagged line outside any record ignored", line=number,
                          example=line)
            elif last_tag in _LIST_TAGS:
                last.append(line.strip())
            else:
                pending.add(last, line.strip())
            continue
        pending.flush()
        tag, value = match.group(1), (match.group(2) or "").strip()
        if values is None:
            values = {}
        last = values.setdefault(tag, [])
        last.append(value)
        last_tag = tag
    pending.flush()
    if values:
        records.append(_build_record(values))
    if not records:
        raise FormatError("the file holds no EndNote tagged records (no line like '%T title')",
                          file=filename)
    return records


def _build_record(values: dict[str, list[str]]) -> Record:
    kind = take(values, ("0",))[1]
    record = Record(record_type=_TYPES.get(kind.strip().lower(), "other") if kind
                    else "journal article")
    if kind:
        values["0"] = [kind]
    record.title = take(values, ("T",))[1]
    record.authors = take_all(values, ("A", "Q"))
    tag, date = take(values, ("D", "8"))
    record.year = parse_year(date)
    if date and (record.year is None or not is_bare_year(date)):
        values.setdefault(tag, []).insert(0, date)
    record.journal = take(values, ("J", "B"))[1]
    record.volume = take(values, ("V",))[1]
    record.issue = take(values, ("N",))[1]
    record.pages = take(values, ("P",))[1]
    record.doi = normalize_doi(take(values, ("R",))[1])
    for number in take_all(values, ("@",)):
        kind_of_number = classify_standard_number(number)
        if not getattr(record, kind_of_number):
            setattr(record, kind_of_number, number)
        else:
            values.setdefault("@", []).append(number)
    record.abstract = take(values, ("X",))[1]
    record.keywords = [word.strip() for cell in take_all(values, ("K",))
                       for word in re.split(r"[;\n]", cell) if word.strip()]
    record.url = take(values, ("U",))[1]
    record.fulltext_url = take(values, (">",))[1]
    record.publisher = take(values, ("I",))[1]
    record.place_published = take(values, ("C",))[1]
    record.language = take(values, ("G",))[1]
    record.database = take(values, ("~", "W"))[1]
    record.accession = take(values, ("M",))[1]
    record.notes = take(values, ("Z",))[1]
    record.source_id = take(values, ("F",))[1] or record.accession
    values[FORMAT_KEY] = ["refer"]
    record.extra = values
    return clean_record(record)
