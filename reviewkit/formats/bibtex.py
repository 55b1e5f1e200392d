"""BibTeX (and biblatex) from Zotero, JabRef, Google Scholar and the like: read it and write it.

bibtexparser 2 splits the file into entries; this module turns LaTeX markup into plain text
(``{\\"o}`` becomes ö), splits author lists into "Last, First" names, maps entry types and fields
onto a Record, and reports any entry bibtexparser could not read as a FormatError.
"""

from __future__ import annotations

import itertools
import re

import bibtexparser
from bibtexparser import model
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from pylatexenc.latex2text import LatexNodes2Text

from reviewkit.errors import FormatError
from reviewkit.formats.fields import (
    FORMAT_KEY,
    clean_record,
    is_bare_year,
    read_from,
    take,
    take_all,
)
from reviewkit.formats.notes import ReadNotes
from reviewkit.records import Record, join_pages, normalize_doi, parse_year, split_pages

# Fields holding identifiers, numbers or links: LaTeX decoding would damage them ('~', '_').
_RAW_FIELDS = frozenset({
    "doi", "url", "pmid", "pmcid", "isbn", "issn", "eprint", "eprinttype", "file", "pages",
    "year", "date", "month", "volume", "number", "issue", "urldate", "timestamp", "biburl",
    "bibsource", "crossref", "langid", "unique-id",
})
_LATEX_MARKUP = re.compile(r"[\\{}$~%&]|--|``|''")
_COMMANDS = re.compile(r"[\\$~]")
_BARE_SPECIAL = re.compile(r"(?<!\\)([%&#])")
_RAW_ESCAPE = re.compile(r"\\([_%&#$])")
_URL_COMMAND = re.compile(r"\\url\{([^{}]*)\}")
_DOI_URL = re.compile(r"doi\.org/", re.IGNORECASE)
_NAME_MARKUP = re.compile(r"[\\{}$~%&]|--|``|''")
_FIELD_KEY = re.compile(r"[a-z][a-z0-9_:.+-]*")
_ENTRY_KEY = re.compile(r"[^\s,{}()=#%\"'\\]+")
_ENTRY_HEAD = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s]*)")
_FIELD_ASSIGNMENT = re.compile(r"\s*,?\s*[A-Za-z][\w-]*\s*=")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

_DECODER = LatexNodes2Text()

# Entry types and the work type each means.
_TYPES = {
    "article": "journal article",
    "book": "book", "booklet": "book", "mvbook": "book", "collection": "book",
    "proceedings": "book",
    "incollection": "book chapter", "inbook": "book chapter", "bookinbook": "book chapter",
    "inproceedings": "conference paper", "conference": "conference paper",
    "techreport": "report", "report": "report",
    "phdthesis": "thesis", "mastersthesis": "thesis", "thesis": "thesis",
    "online": "web page", "www": "web page", "electronic": "web page",
    "dataset": "dataset", "data": "dataset",
}
_TYPE_NAMES = {
    "journal article": "article", "book": "book", "book chapter": "incollection",
    "conference paper": "inproceedings", "report": "techreport", "thesis": "phdthesis",
    "web page": "online", "dataset": "dataset", "other": "misc",
}
# Where the writer puts the container title and the publisher, by work type.
_CONTAINER_FIELD = {"book chapter": "booktitle", "conference paper": "booktitle"}
_PUBLISHER_FIELD = {"report": "institution", "thesis": "school"}


def read_bibtex(text: str, *, filename: str = "",
                notes: ReadNotes | None = None) -> list[Record]:
    """Read every entry of a BibTeX file; an entry that cannot be read is skipped and noted."""
    notes = notes if notes is not None else ReadNotes()
    library = bibtexparser.parse_string(text)
    records: list[Record] = []
    for block in library.blocks:
        line = block.start_line + 1
        if isinstance(block, model.DuplicateBlockKeyBlock):
            # Two entries with the same key are two references; keep both.
            block = block.ignore_error_block
        if isinstance(block, model.DuplicateFieldKeyBlock):
            keys = ", ".join(sorted(block.duplicate_keys))
            notes.add(f"field given twice in one entry ('{keys}'): the first value is the "
                      "record's, the others are kept as extra fields", line=line)
            block = block.ignore_error_block
        if isinstance(block, model.Entry):
            records.append(_build_record(block))
        elif isinstance(block, model.ParsingFailedBlock):
            notes.add(_failure(block), line=line)
        elif isinstance(block, model.ImplicitComment) and _FIELD_ASSIGNMENT.match(block.comment):
            notes.add("field text outside any entry ignored: a stray '}' probably closed the "
                      "entry above early", line=line, example=block.comment)
    if not records:
        problems = "; ".join(notes.lines())
        raise FormatError("the file holds no BibTeX entries (nothing like '@article{key, ...}')"
                          + (f": {problems}" if problems else ""), file=filename)
    return records


def _failure(block: model.ParsingFailedBlock) -> str:
    head = _ENTRY_HEAD.match(block.raw or "")
    name = f"the entry '{head.group(1)}'" if head and head.group(1) else "an entry"
    reason = getattr(block.error, "abort_reason", "") or str(block.error)
    reason = f" ({reason.strip().rstrip('.')})" if reason.strip() else ""
    return (f"{name} could not be read{reason} and was skipped; check for an unbalanced "
            "'{' or '}' or a missing comma")


def decode_latex(value: str) -> str:
    """Turn LaTeX markup into plain text: '{\\"o}' to 'ö', '\\&' to '&', braces dropped."""
    if not _LATEX_MARKUP.search(value):
        return value
    if not _COMMANDS.search(_RAW_ESCAPE.sub("", value)):
        # No command, maths or tie beyond escaped characters such as \&: braces, escapes and
        # dashes need no LaTeX parser (the parser is by far the slowest step on a large file).
        # Ligatures first, while braces still separate them: '-{}-' is two hyphens in LaTeX.
        plain = _RAW_ESCAPE.sub(r"\1", value)
        for markup, char in (("---", "\u2014"), ("--", "\u2013"), ("``", "\u201c"), ("''", "\u201d")):
            plain = plain.replace(markup, char)
        return plain.replace("{", "").replace("}", "")
    if "\\url{" in value:
        # A URL inside \url{} is literal text, not LaTeX.
        parts = _URL_COMMAND.split(value)
        return "".join(part if odd else decode_latex(part)
                       for part, odd in zip(parts, itertools.cycle((False, True))))
    # Exports often leave % and & bare, meaning the characters themselves, whereas LaTeX would
    # read a bare % as the start of a comment.
    value = _BARE_SPECIAL.sub(r"\\\1", value)
    try:
        return _DECODER.latex_to_text(value)
    except Exception:  # pylatexenc gives up on some malformed markup; keep the words
        return value.replace("{", "").replace("}", "")


def _field_values(entry: model.Entry) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for field in entry.fields:
        key = field.key.lower()
        value = field.value if isinstance(field.value, str) else str(field.value)
        if key in _RAW_FIELDS:
            value = _RAW_ESCAPE.sub(r"\1", value).replace("{", "").replace("}", "")
        elif key not in ("author", "editor"):
            value = decode_latex(value)
        values.setdefault(key, []).append(value)
    return values


def _names(value: str) -> list[str]:
    names = []
    for name in split_multiple_persons_names(value):
        last, comma, first = name.partition(",")
        if comma and last.strip() and first.strip() and "," not in first \
                and not _NAME_MARKUP.search(name):
            # 'von Last, First' needs no parsing to be written as 'von Last, First'.
            names.append(f"{' '.join(last.split())}, {' '.join(first.split())}")
            continue
        parts = parse_single_name_into_parts(name, strict=False)
        names.append(decode_latex(parts.merge_last_name_first))
    return names


def _build_record(entry: model.Entry) -> Record:
    entry_type = entry.entry_type.lower()
    record_type = _TYPES.get(entry_type, "other")
    record = Record(record_type=record_type, source_id=entry.key)
    values = _field_values(entry)
    if _TYPE_NAMES[record_type] != entry_type:
        values["ENTRYTYPE"] = [entry_type]

    record.title = take(values, ("title",))[1]
    record.authors = [name for value in take_all(values, ("author",)) for name in _names(value)]
    tag, date = take(values, ("year", "date"))
    if date:
        record.year = parse_year(date)
        if record.year is None or (tag != "year" and not is_bare_year(date)):
            values.setdefault(tag, []).insert(0, date)
    record.journal = take(values, ("journal", "journaltitle", "booktitle"))[1]
    record.volume = take(values, ("volume",))[1]
    record.issue = take(values, ("number", "issue"))[1]
    record.pages = take(values, ("pages",))[1]
    doi = take(values, ("doi",))[1]
    record.doi = normalize_doi(doi)
    if doi and not record.doi:
        values.setdefault("doi", []).insert(0, doi)
    if not doi:
        record.doi = next((normalize_doi(url) for url in values.get("url", ())
                           if _DOI_URL.search(url)), "")
    record.pmid = take(values, ("pmid",))[1]
    record.isbn = take(values, ("isbn",))[1]
    record.issn = take(values, ("issn",))[1]
    record.abstract = take(values, ("abstract",))[1]
    record.keywords = [word for value in take_all(values, ("keywords",))
                       for word in _split_keywords(value)]
    record.url = take(values, ("url",))[1]
    record.publisher = take(values, ("publisher", "institution", "school", "organization"))[1]
    record.place_published = take(values, ("address", "location"))[1]
    record.language = take(values, ("language",))[1]
    record.notes = take(values, ("note",))[1]
    values[FORMAT_KEY] = ["bibtex"]
    record.extra = values
    return clean_record(record)


def _split_keywords(value: str) -> list[str]:
    separator = ";" if ";" in value else ","
    return [word.strip() for word in value.split(separator) if word.strip()]


def encode_latex(value: str) -> str:
    """Escape the characters BibTeX and LaTeX treat specially, so decode_latex gives them back."""
    out = []
    for char in value:
        if char == "\\":
            out.append(r"\textbackslash{}")
        elif char == "~":
            out.append(r"\textasciitilde{}")
        elif char in "{}%&$#_":
            out.append("\\" + char)
        else:
            out.append(char)
    text = "".join(out)
    # '--', doubled quotes, '!`' and '?`' (the inverted marks) are ligatures in LaTeX; an
    # empty group keeps them literal.
    return re.sub(r"([-`'])(?=\1)|([!?])(?=`)", lambda m: m.group(0) + "{}", text)


def write_bibtex(records: list[Record]) -> str:
    """Write records as BibTeX entries, giving back the fields the reader kept in ``extra``."""
    used_keys: set[str] = set()
    entries = []
    for record in records:
        key = _entry_key(record, used_keys)
        fields: list[tuple[str, str, bool]] = []  # (name, value, is LaTeX text)
        if record.authors:
            fields.append(("author", " and ".join(_author(a) for a in record.authors), False))
        fields.append(("title", record.title, True))
        fields.append((_CONTAINER_FIELD.get(record.record_type, "journal"), record.journal, True))
        fields.append(("year", str(record.year) if record.year is not None else "", False))
        fields.append(("volume", record.volume, False))
        fields.append(("number", record.issue, False))
        first, last = split_pages(record.pages) if record.pages else ("", "")
        fields.append(("pages", join_pages(first, last).replace("-", "--", 1), False))
        fields.append(("doi", record.doi, False))
        fields.append(("pmid", record.pmid, False))
        fields.append(("isbn", record.isbn, False))
        fields.append(("issn", record.issn, False))
        fields.append((_PUBLISHER_FIELD.get(record.record_type, "publisher"), record.publisher,
                       True))
        fields.append(("address", record.place_published, True))
        fields.append(("abstract", record.abstract, True))
        separator = "; " if any("," in word for word in record.keywords) else ", "
        fields.append(("keywords", separator.join(record.keywords), True))
        fields.append(("url", record.url, False))
        fields.append(("language", record.language, True))
        fields.append(("note", record.notes, True))
        written = {name for name, value, _ in fields if value}
        extras = record.extra.items() if read_from(record, "bibtex") else ()
        for name, tag_values in extras:
            if _FIELD_KEY.fullmatch(name) and name not in written and tag_values:
                written.add(name)
                fields.append((name, tag_values[0], name not in _RAW_FIELDS))
        lines = [f"@{_entry_type(record)}{{{key},"]
        for name, value, is_text in fields:
            value = " ".join(value.split())
            if not value:
                continue
            if name == "month" and value.lower() in _MONTHS:
                lines.append(f"  {name} = {value.lower()},")
            elif name == "author":
                lines.append(f"  {name} = {{{value}}},")
            else:
                value = encode_latex(value) if is_text else value.replace("{", "").replace("}", "")
                lines.append(f"  {name} = {{{value}}},")
        lines.append("}")
        entries.append("\n".join(lines))
    return "\n\n".join(entries) + "\n"


def _author(name: str) -> str:
    # A name without a comma is written whole in braces so that BibTeX does not reorder an
    # organisation ('World Health Organization') or an already-abbreviated 'Smith JA'.
    if "," in name:
        return encode_latex(name)
    return "{" + encode_latex(name) + "}"


def _entry_type(record: Record) -> str:
    kept = record.extra.get("ENTRYTYPE") if read_from(record, "bibtex") else None
    if kept and _TYPES.get(kept[0], "other") == record.record_type:
        return kept[0]
    return _TYPE_NAMES.get(record.record_type, "misc")


def _entry_key(record: Record, used: set[str]) -> str:
    key = record.source_id
    if not _ENTRY_KEY.fullmatch(key or ""):
        surname = record.authors[0].split(",")[0] if record.authors else "anon"
        word = next((w for w in record.title.split() if len(w) > 3), "untitled")
        key = re.sub(r"[^A-Za-z0-9]", "", f"{surname}{record.year or ''}{word}").lower() or "ref"
    candidate, suffix = key, 1
    while candidate in used:
        suffix += 1
        candidate = f"{key}-{suffix}"
    used.add(candidate)
    return candidate
