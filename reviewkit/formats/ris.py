"""RIS, the tagged format every database exports: read it (Scopus, Web of Science, Ovid, EBSCO,
reference managers) and write it.

A record runs from a ``TY  - `` line to an ``ER  - `` line; every line between is ``XX  - value``
or continues the value above it.  The reader is a single pass over the lines, so it keeps exact
line numbers for its error messages and stays fast on 100,000-record files.
"""

from __future__ import annotations

import re

from reviewkit.errors import FormatError
from reviewkit.formats.fields import (
    FORMAT_KEY,
    classify_standard_number,
    clean_record,
    database_from_accession,
    is_bare_year,
    read_from,
    take,
    take_all,
)
from reviewkit.formats.notes import ReadNotes
from reviewkit.records import Record, join_pages, normalize_doi, parse_year, split_pages

_TAG_LINE = re.compile(r"([A-Z][A-Z0-9])  -(?: (.*)|\s*)$")
# A line that was meant as a tag line but is spaced wrongly, e.g. 'AU - Smith' or 'TI- x'.
_NEAR_TAG_LINE = re.compile(r"([A-Z][A-Z0-9])(?: ?| {3,})-(?: |$)")
_RIS_TAG = re.compile(r"[A-Z][A-Z0-9]")
_COVERAGE = re.compile(r"\s*<[^<>]*>\s*$")
_LINK_SEPARATOR = re.compile(r";\s+(?=https?://)", re.IGNORECASE)
_DOI_URL = re.compile(r"doi\.org/", re.IGNORECASE)
_MEDLINE_DB = re.compile(r"medline|pubmed", re.IGNORECASE)

# Tags of the RIS specification and those the big databases add; a spacing mistake on one of
# these is reported, whereas other look-alikes ('UK - based') are read as continuation text.
KNOWN_TAGS = frozenset(
    "TY ER ID AN AU A1 A2 A3 A4 ED TI T1 T2 T3 CT BT JF JO JA J1 J2 SO PY Y1 Y2 DA VL IS CP SP "
    "EP DO DI SN AB N1 N2 KW UR L1 L2 L3 L4 PB CY PP LA DB DP M1 M2 M3 C1 C2 C3 C4 C5 C6 C7 C8 "
    "AD CA CN ET LB NV OP RI RN RP SE ST TA TT U1 U2 U3 U4 U5 WP".split()
)

# RIS type codes and the work type each means.
_TYPES = {
    "JOUR": "journal article", "JFULL": "journal article", "EJOUR": "journal article",
    "INPR": "journal article", "ABST": "journal article", "SER": "journal article",
    "BOOK": "book", "EBOOK": "book", "EDBOOK": "book", "CTLG": "book",
    "CHAP": "book chapter", "ECHAP": "book chapter",
    "RPRT": "report", "GOVDOC": "report", "STAND": "report",
    "CONF": "conference paper", "CPAPER": "conference paper",
    "THES": "thesis",
    "ELEC": "web page", "WEB": "web page", "BLOG": "web page",
    "DATA": "dataset", "DBASE": "dataset",
}
# The code the writer uses for each work type.
_TYPE_CODES = {
    "journal article": "JOUR", "book": "BOOK", "book chapter": "CHAP", "report": "RPRT",
    "conference paper": "CPAPER", "thesis": "THES", "web page": "ELEC", "dataset": "DATA",
    "other": "GEN",
}
_BOOK_CODES = frozenset({"BOOK", "EBOOK", "EDBOOK"})


# Tags whose values are lists: an untagged line after one is one more value, not a
# continuation (EndNote and R packages write a keyword list one keyword per line).
_LIST_TAGS = frozenset({"KW", "AU", "A1", "A2", "A3", "A4", "ED", "UR", "L1", "L2", "L3", "L4",
                        "SN"})


def read_ris(text: str, *, filename: str = "", notes: ReadNotes | None = None) -> list[Record]:
    """Read every record of a RIS export, noting (not refusing) what does not fit the format.

    Only a file with no record at all is refused.  Text between records is ignored, a record
    without its 'ER' line ends where the next begins or the file ends, a tag after 'ER' joins
    the record before it, and a tag spaced wrongly ('AU - x') is read as that tag; each is
    written to ``notes`` with its line number.
    """
    notes = notes if notes is not None else ReadNotes()
    records: list[Record] = []
    values: dict[str, list[str]] | None = None  # the record being read
    ended: dict[str, list[str]] | None = None  # the record whose 'ER' line was the last tag
    last: list[str] = []  # the value list the previous tag line appended to
    last_tag = ""
    start = 0
    tag_line = _TAG_LINE.match
    # Continuation lines are collected and joined once, when their value is complete: adding
    # each to the growing string would copy it per line (quadratic in the field's length).
    parts: list[str] = []
    for number, line in enumerate(text.split("\n"), 1):
        match = tag_line(line)
        if match is not None:
            tag, value = match.groups("")
        else:
            if not line.strip():
                continue
            near = _NEAR_TAG_LINE.match(line)
            if near is None or near.group(1) not in KNOWN_TAGS:
                if values is None:
                    where = "between records" if records or ended else "before the first record"
                    notes.add(f"text {where} ignored", line=number, example=line)
                elif last_tag == "TY":
                    notes.add("untagged line right after a 'TY' line ignored", line=number,
                              example=line)
                elif last_tag in _LIST_TAGS:
                    last.append(line.strip())
                    notes.add(f"untagged line after a '{last_tag}' line read as one more "
                              f"'{last_tag}' value", line=number, example=line)
                else:
                    parts.append(line.strip())
                continue
            tag, value = near.group(1), line[near.end():]
            notes.add(f"tag line spaced wrongly, read as '{tag}' (a RIS tag line is "
                      f"'{tag}  - value')", line=number, example=line)
        if parts:
            last[-1] = _joined(last[-1], parts)
        if tag == "TY":
            if ended is not None:
                records.append(build_record(ended))
                ended = None
            if values is not None:
                notes.add("record without an 'ER  -' end tag: it ends where the next "
                          "record begins", line=start)
                records.append(build_record(values))
            values = {"TY": [value.strip()]}
            last, last_tag, start = values["TY"], "TY", number
        elif tag == "ER":
            if values is None:
                notes.add("'ER' line outside any record ignored", line=number)
                continue
            ended, values, last_tag = values, None, "ER"
        elif values is None and ended is None:
            notes.add("tag line before the first 'TY' line ignored", line=number, example=line)
        else:
            if values is None:
                notes.add("tag line after a record's 'ER' line added to that record",
                          line=number, example=line)
            target = values if values is not None else ended
            last = target.get(tag)
            if last is None:
                last = target[tag] = []
            last.append(value.strip())
            last_tag = tag
    if parts:
        last[-1] = _joined(last[-1], parts)
    if ended is not None:
        records.append(build_record(ended))
    if values is not None:
        notes.add("the last record has no 'ER  -' end tag (the file may be cut short); it "
                  "was read as far as it goes", line=start)
        records.append(build_record(values))
    if not records:
        raise FormatError("the file holds no RIS records (no line starts with 'TY  - ')",
                          file=filename)
    return records


def _joined(first: str, parts: list[str]) -> str:
    """A value and its continuation lines as one string (and empty ``parts`` for the next)."""
    joined = " ".join([first, *parts]) if first else " ".join(parts)
    parts.clear()
    return joined


def build_record(values: dict[str, list[str]]) -> Record:
    """Turn one record's ``{tag: [values]}`` into a Record (the tags left over stay as extras)."""
    if "UR" in values:
        # EBSCOhost writes several links on one 'UR' line: 'http://a; http://b'.
        values["UR"] = [link for value in values["UR"] for link in _LINK_SEPARATOR.split(value)]
    code = values.pop("TY")[0].upper()
    record_type = _TYPES.get(code, "other")
    record = Record(record_type=record_type)
    if code and _TYPE_CODES[record_type] != code:
        values.setdefault("TY", []).append(code)

    record.title = take(values, ("TI", "T1", "CT"))[1]
    if not record.title and code in _BOOK_CODES:
        record.title = take(values, ("BT",))[1]
    record.authors = take_all(values, ("AU", "A1"))
    tag, date = take(values, ("PY", "Y1", "DA"))
    if date:
        record.year = parse_year(date)
        if record.year is None or (tag != "PY" and not is_bare_year(date)):
            values.setdefault(tag, []).insert(0, date)
    record.journal = take(values, ("T2", "JF", "JO", "JA", "J2", "SO", "BT"))[1]
    record.volume = take(values, ("VL",))[1]
    record.issue = take(values, ("IS", "CP"))[1]
    first = take(values, ("SP",))[1]
    last = take(values, ("EP",))[1]
    record.pages = join_pages(first, last) if last else first
    tag, doi = take(values, ("DO", "DI"))
    if doi:
        record.doi = normalize_doi(doi)
        if not record.doi:
            values.setdefault(tag, []).insert(0, doi)
    else:
        record.doi = next((normalize_doi(url) for url in values.get("UR", ())
                           if _DOI_URL.search(url)), "")
    _take_standard_numbers(values, record)
    record.abstract = take(values, ("AB", "N2"))[1]
    record.keywords = take_all(values, ("KW",))
    record.url = take(values, ("UR",))[1]
    record.fulltext_url = take(values, ("L1",))[1]
    record.publisher = take(values, ("PB",))[1]
    record.place_published = take(values, ("CY", "PP"))[1]
    record.language = take(values, ("LA",))[1]
    # Ovid adds the database's coverage: "Ovid MEDLINE(R) ALL <1946 to March 13, 2024>"
    record.database = _COVERAGE.sub("", take(values, ("DB", "DP"))[1])
    record.accession = take(values, ("AN",))[1]
    record.notes = take(values, ("N1",))[1]
    record.source_id = take(values, ("ID",))[1] or record.accession
    record.database = record.database or database_from_accession(record.accession)
    if _MEDLINE_DB.search(record.database):
        for candidate in (record.accession, record.source_id):
            pmid = candidate.replace("[pmid]", "").strip()
            if pmid.isdigit():
                record.pmid = pmid
                break
    values[FORMAT_KEY] = ["ris"]
    record.extra = values
    return clean_record(record)


def _take_standard_numbers(values: dict[str, list[str]], record: Record) -> None:
    """Sort the SN values into ISSN and ISBN; further ones stay as extras."""
    numbers = values.pop("SN", None)
    if not numbers:
        return
    rest = []
    for number in numbers:
        if not number.strip():
            continue
        kind = classify_standard_number(number)
        if kind == "issn" and not record.issn:
            record.issn = number
        elif kind == "isbn" and not record.isbn:
            record.isbn = number
        else:
            rest.append(number)
    if rest:
        values["SN"] = rest


def write_ris(records: list[Record]) -> str:
    """Write records as RIS, giving back the tags the reader kept in ``extra``."""
    out: list[str] = []
    for record in records:
        lines = [("TY", _type_code(record))]
        add = lines.append
        if record.source_id and record.source_id != record.accession:
            add(("ID", record.source_id))
        lines.extend(("AU", author) for author in record.authors)
        add(("TI", record.title))
        add(("T2", record.journal))
        add(("PY", str(record.year) if record.year is not None else ""))
        add(("VL", record.volume))
        add(("IS", record.issue))
        first, last = split_pages(record.pages) if record.pages else ("", "")
        add(("SP", first))
        add(("EP", last))
        add(("SN", record.issn))
        add(("SN", record.isbn))
        add(("DO", record.doi))
        add(("AB", record.abstract))
        lines.extend(("KW", keyword) for keyword in record.keywords)
        add(("UR", record.url))
        add(("L1", record.fulltext_url))
        add(("PB", record.publisher))
        add(("CY", record.place_published))
        add(("LA", record.language))
        add(("DB", record.database))
        accession = record.accession or record.pmid
        add(("AN", accession))
        add(("N1", record.notes))
        if read_from(record, "ris"):
            for tag, tag_values in record.extra.items():
                if _RIS_TAG.fullmatch(tag) and tag not in ("TY", "ER"):
                    lines.extend((tag, value) for value in tag_values)
        for tag, value in lines:
            value = " ".join(value.split())
            if value:
                out.append(f"{tag}  - {value}")
        out.append("ER  - ")
        out.append("")
    return "\n".join(out)


def _type_code(record: Record) -> str:
    kept = record.extra.get("TY") if read_from(record, "ris") else None
    if kept and _TYPES.get(kept[0].upper(), "other") == record.record_type:
        return kept[0].upper()
    return _TYPE_CODES.get(record.record_type, "GEN")
