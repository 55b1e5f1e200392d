"""Shared field vocabulary of the readers: picking tagged values, naming work types, cleaning.

Every reader gathers a record's values as ``{tag: [values]}`` in file order, then hands them to
:func:`take` to fill the Record fields from the tags it knows; whatever is left over becomes
``Record.extra``, so that a writer of the same format can give it back.
"""

from __future__ import annotations

import re

from reviewkit.records import (
    RECORD_TYPES,
    Record,
    clean_text,
    join_pages,
    normalize_doi,
    parse_year,
    split_pages,
)

# Characters for which clean_text does more than collapse whitespace: the start of a tag or an
# entity, and control characters (which it drops, where collapsing would make them a space).
_NEEDS_FULL_CLEAN = re.compile(r"[<&\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# The extra key naming the format a record was read from.  A writer gives back only the extras
# of records read from its own format: a MEDLINE 'AU' or 'IS' means something else in RIS.
FORMAT_KEY = "_format"

_SIMPLE_RANGE = re.compile(r"(\d+)-(\d+)")

TEXT_FIELDS = (
    "title", "journal", "volume", "issue", "pmid", "isbn", "issn", "abstract", "url",
    "fulltext_url", "publisher", "place_published", "language", "database", "accession",
    "notes", "source_id",
)


def clean(value: str | None) -> str:
    """Return ``clean_text(value)``, taking a quick path for text that needs only spacing fixed.

    Importing 100,000 records cleans millions of values; most are plain, and for those
    collapsing whitespace gives exactly what clean_text gives.
    """
    if not value:
        return ""
    if (value.isprintable() and "  " not in value and "<" not in value and "&" not in value
            and value[0] != " " and value[-1] != " "):
        return value  # already clean: no markup, controls, or doubled or outer spaces
    if _NEEDS_FULL_CLEAN.search(value) is None:
        # str.split() and the regex \s agree on what whitespace is.
        collapsed = " ".join(value.split())
        if collapsed.isprintable():
            return collapsed
    return clean_text(value)


def clean_pages(value: str) -> str:
    """Write a page range one way: '221-38' and '221--238' both become '221-238'."""
    value = clean(value)
    if not value:
        return ""
    match = _SIMPLE_RANGE.fullmatch(value)
    if match and len(match.group(2)) >= len(match.group(1)) and match.group(1) != match.group(2):
        return value
    return join_pages(*split_pages(value))


def clean_record(record: Record) -> Record:
    """Clean every field of ``record`` in place and return it."""
    for name in TEXT_FIELDS:
        value = getattr(record, name)
        if value:
            setattr(record, name, clean(value))
    record.authors = _clean_list(record.authors)
    record.keywords = _clean_list(record.keywords)
    record.pages = clean_pages(record.pages)
    record.pmid = _bare_pmid(record.pmid)
    record.doi = normalize_doi(record.doi)
    record.year = parse_year(record.year)
    if record.record_type not in RECORD_TYPES:
        record.record_type = record_type_from_words(record.record_type)
    extra: dict[str, list[str]] = {}
    for tag, values in record.extra.items():
        kept = _clean_list(values)
        if kept:
            # A CSV header or BibTeX field name can carry control characters too; a name
            # left empty by cleaning still needs a key.
            key = tag if tag.isprintable() else (clean(tag) or "unnamed field")
            extra.setdefault(key, []).extend(kept)
    record.extra = extra
    return record


# A PubMed id written as a link or with its label: 'https://pubmed.ncbi.nlm.nih.gov/35434524/',
# 'PMID: 35434524'.  'NA' is what R writes for a missing value.
_PMID_IN = re.compile(r"(?:.*pubmed\D*|pmid:?\s*)(\d{1,9})/?", re.IGNORECASE)


def _bare_pmid(value: str) -> str:
    if value.isdigit() or not value:
        return value
    if value.upper() == "NA":
        return ""
    match = _PMID_IN.fullmatch(value)
    return match.group(1) if match else value


def _clean_list(values: list[str]) -> list[str]:
    cleaned = []
    for value in values:
        value = clean(value)
        if value:
            cleaned.append(value)
    return cleaned


class Continuation:
    """Lines that go on with the value above them, joined once when the value is complete.

    Adding each line to the growing string would copy it per line, which is quadratic in the
    length of a long abstract; call :meth:`flush` before the value's list changes or is read.
    """

    def __init__(self) -> None:
        self._target: list[str] | None = None
        self._parts: list[str] = []

    def add(self, target: list[str], text: str) -> None:
        """Let ``text`` go on with the last value of ``target``."""
        if target is not self._target:
            self.flush()
            self._target = target
        self._parts.append(text)

    def flush(self) -> None:
        """Join the lines gathered so far onto their value."""
        if self._parts and self._target:
            first = self._target[-1]
            self._target[-1] = " ".join([first, *self._parts] if first else self._parts)
        self._parts.clear()
        self._target = None


def split_unique(cells: list[str], separators: str = ";") -> list[str]:
    """Split each cell at any of ``separators`` and keep each word once (ignoring case)."""
    pattern = "[" + re.escape(separators) + "]"
    seen: set[str] = set()
    words = []
    for cell in cells:
        for word in re.split(pattern, cell):
            word = word.strip()
            if word and word.lower() not in seen:
                seen.add(word.lower())
                words.append(word)
    return words


def take(values: dict[str, list[str]], tags: tuple[str, ...]) -> tuple[str, str]:
    """Remove and return ``(tag, value)`` for the first tag in ``tags`` that holds a value.

    Later values of that tag stay in ``values`` (they will become extras).  Returns
    ``("", "")`` when none of the tags is present.
    """
    for tag in tags:
        found = values.get(tag)
        while found:
            value = found.pop(0)
            if not found:
                del values[tag]
            if value.strip():
                return tag, value
    return "", ""


def take_all(values: dict[str, list[str]], tags: tuple[str, ...]) -> list[str]:
    """Remove and return every value of every tag in ``tags``, in tag order."""
    taken: list[str] = []
    for tag in tags:
        taken.extend(values.pop(tag, []))
    return taken


_BARE_YEAR = re.compile(r"\s*\d{4}[/\s]*")
_ISSN = re.compile(r"\d{4}-?\d{3}[\dXx]")


def is_bare_year(value: str) -> bool:
    """Tell a date that says only its year ('2019', '2019///') from a fuller one."""
    return _BARE_YEAR.fullmatch(value) is not None


def classify_standard_number(value: str) -> str:
    """Say whether a RIS or EndNote standard number is an 'issn' or an 'isbn'."""
    compact = value.strip().split(" ")[0]
    if _ISSN.fullmatch(compact):
        return "issn"
    digits = re.sub(r"[^0-9Xx]", "", compact)
    return "isbn" if len(digits) in (10, 13) else "issn"


# Words found in the type fields of exports, checked in this order, and the work type they mean.
_TYPE_WORDS = (
    ("chapter", "book chapter"),
    ("section", "book chapter"),
    ("incollection", "book chapter"),
    ("inbook", "book chapter"),
    ("conference", "conference paper"),
    ("proceeding", "conference paper"),
    ("congress", "conference paper"),
    ("symposium", "conference paper"),
    ("thesis", "thesis"),
    ("dissertation", "thesis"),
    ("report", "report"),
    ("government document", "report"),
    ("working paper", "report"),
    ("book", "book"),
    ("web", "web page"),
    ("online", "web page"),
    ("blog", "web page"),
    ("data", "dataset"),
    ("article", "journal article"),
    ("review", "journal article"),
    ("journal", "journal article"),
    ("letter", "journal article"),
    ("editorial", "journal article"),
    ("comment", "journal article"),
    ("erratum", "journal article"),
    ("note", "journal article"),
    ("trial", "journal article"),
    ("survey", "journal article"),
)


def record_type_from_words(value: str) -> str:
    """Map a free-text document type ('Article', 'Book Chapter', 'Conference Paper') to ours."""
    words = clean(value).lower()
    if not words:
        return "journal article"
    if words in RECORD_TYPES:
        return words
    for word, record_type in _TYPE_WORDS:
        if word in words:
            return record_type
    return "other"


def read_from(record: Record, format: str) -> bool:
    """Tell whether ``record`` was read from a ``format`` file, so its extras are that format's."""
    return format in record.extra.get(FORMAT_KEY, ())


def database_from_accession(accession: str) -> str:
    """Name the database an accession number belongs to, when its shape says so."""
    if accession.startswith("WOS:"):
        return "Web of Science"
    if accession.startswith("2-s2.0-"):
        return "Scopus"
    return ""
