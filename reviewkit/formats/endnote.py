"""EndNote XML: the ``<xml><records><record>...`` file EndNote writes with File > Export."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from reviewkit.errors import FormatError
from reviewkit.formats.fields import (
    classify_standard_number,
    clean_record,
    record_type_from_words,
    take,
    take_all,
)
from reviewkit.formats.notes import ReadNotes
from reviewkit.records import Record, normalize_doi, parse_year

# Elements that repeat inside a named list: their values are keyed by the list's name, so that
# <secondary-authors><author> does not mix with <authors><author>.
_LIST_ITEMS = frozenset({"author", "url", "keyword", "date"})
# EndNote's bookkeeping, not part of the reference.
_IGNORED = frozenset({"database", "source-app", "key"})
_MEDLINE_DB = re.compile(r"medline|pubmed", re.IGNORECASE)


def read_endnote_xml(text: str, *, filename: str = "",
                     notes: ReadNotes | None = None) -> list[Record]:
    """Read every <record> of an EndNote XML export."""
    if "<!ENTITY" in text:
        # Entity declarations are how XML bombs work; EndNote never writes them.
        raise FormatError("the XML declares entities (<!ENTITY>), which reviewkit does not "
                          "accept in an EndNote export", file=filename)
    try:
        root = ET.fromstring(text)
    except UnicodeEncodeError:
        # Only text that never came from bytes can hold a lone surrogate; say so, not crash.
        raise FormatError("the XML holds characters that are not valid Unicode (lone "
                          "surrogates); re-save the file as UTF-8", file=filename) from None
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        complete = _records_before_the_break(text)
        if not complete:
            raise FormatError(f"the XML is malformed ({reason}, column {column + 1}); the file "
                              "may be cut short or edited by hand", file=filename,
                              line=line) from None
        notes = notes if notes is not None else ReadNotes()
        notes.add(f"the XML breaks here ({reason}, column {column + 1}): the {len(complete)} "
                  "records before it were read, nothing after it (the file may be cut short)",
                  line=line)
        return [_build_record(element) for element in complete]
    if root.tag == "records":
        elements = root.findall("record")
    else:
        elements = root.findall("records/record")
    if not elements:
        raise FormatError("the XML holds no EndNote records (no <records><record> elements)",
                          file=filename)
    return [_build_record(element) for element in elements]


def _records_before_the_break(text: str) -> list[ET.Element]:
    """Return the <record> elements that close before the XML goes wrong."""
    parser = ET.XMLPullParser(events=("end",))
    complete: list[ET.Element] = []
    try:
        for start in range(0, len(text), 65536):
            parser.feed(text[start:start + 65536])
            complete.extend(element for _, element in parser.read_events()
                            if element.tag == "record")
    except ET.ParseError:
        complete.extend(element for _, element in parser.read_events()
                        if element.tag == "record")
    return complete


def _text(element: ET.Element) -> str:
    return "".join(element.itertext())


def _gather(element: ET.Element, values: dict[str, list[str]], parent: str = "") -> None:
    """Collect the text of every leaf under ``element`` as ``{name: [values]}``, in document
    order.  A stack, not recursion: a file nested thousands of levels deep is only deep."""
    pending = [(child, parent) for child in reversed(element)]
    while pending:
        child, parent = pending.pop()
        tag = child.tag
        if tag == "style":
            continue
        if all(grandchild.tag == "style" for grandchild in child):
            key = parent if tag in _LIST_ITEMS and parent else tag
            values.setdefault(key, []).append(_text(child))
        else:
            pending.extend((grandchild, tag) for grandchild in reversed(child))


def _build_record(element: ET.Element) -> Record:
    values: dict[str, list[str]] = {}
    _gather(element, values)
    ref_type = element.find("ref-type")
    type_name = ref_type.get("name", "") if ref_type is not None else ""
    record = Record(record_type=_record_type(type_name))
    values.pop("ref-type", None)
    if type_name:
        values["ref-type"] = [type_name]  # EndNote's own word for the type, kept as an extra
    record.source_id = take(values, ("rec-number",))[1]
    for name in _IGNORED:
        values.pop(name, None)

    record.title = take(values, ("title",))[1]
    record.authors = take_all(values, ("authors",))
    year = take(values, ("year",))[1]
    record.year = parse_year(year)
    if year and record.year is None:
        values["year"] = [year]
    record.journal = take(values, ("full-title", "secondary-title", "abbr-1"))[1]
    record.volume = take(values, ("volume",))[1]
    record.issue = take(values, ("number", "issue"))[1]
    record.pages = take(values, ("pages",))[1]
    doi = take(values, ("electronic-resource-num",))[1]
    record.doi = normalize_doi(doi)
    if doi and not record.doi:
        values["electronic-resource-num"] = [doi]
    for number in take_all(values, ("isbn", "issn")):
        if classify_standard_number(number) == "isbn" and not record.isbn:
            record.isbn = number
        elif not record.issn:
            record.issn = number
        else:
            values.setdefault("isbn", []).append(number)
    record.abstract = take(values, ("abstract",))[1]
    record.keywords = take_all(values, ("keywords",))
    record.url = take(values, ("related-urls", "web-urls"))[1]
    record.fulltext_url = take(values, ("pdf-urls",))[1]
    record.publisher = take(values, ("publisher",))[1]
    record.place_published = take(values, ("pub-location",))[1]
    record.language = take(values, ("language",))[1]
    record.database = take(values, ("remote-database-name", "remote-database-provider"))[1]
    record.accession = take(values, ("accession-num",))[1]
    record.notes = take(values, ("notes",))[1]
    accession = record.accession.strip()
    if accession.isdigit() and _MEDLINE_DB.search(record.database):
        record.pmid = accession
    record.extra = values
    return clean_record(record)


def _record_type(name: str) -> str:
    lowered = name.lower()
    if lowered in ("electronic article", "magazine article", "newspaper article"):
        return "journal article"
    if lowered in ("conference proceedings",):
        return "conference paper"
    if lowered in ("generic", ""):
        return "other" if name else "journal article"
    return record_type_from_words(name)
