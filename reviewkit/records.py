"""Bibliographic records: the one shape every importer produces and every exporter reads."""

from __future__ import annotations

import dataclasses
import html
import re
import unicodedata
from dataclasses import dataclass, field

# Work types, in the words a reviewer would use.  Importers map their own type codes onto these.
RECORD_TYPES = (
    "journal article",
    "book",
    "book chapter",
    "report",
    "conference paper",
    "thesis",
    "web page",
    "dataset",
    "other",
)

# Fields a record carries, in the order exports and tables show them.
BIBLIOGRAPHIC_FIELDS = (
    "title",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "isbn",
    "issn",
    "abstract",
    "keywords",
    "url",
    "fulltext_url",
    "publisher",
    "place_published",
    "record_type",
    "language",
    "database",
    "accession",
    "notes",
)


@dataclass
class Record:
    """One bibliographic record as a database or reference manager exported it.

    ``authors`` and ``keywords`` are lists; every other field is a string ("" when absent)
    except ``year`` (``None`` when absent).  ``source_id`` is the record's own identifier in the
    file it came from (a CSV ``record_id`` column, an EndNote rec-number, a RIS ``ID``), and
    ``full_text`` holds text extracted from an attached PDF.  ``extra`` keeps any field the importer did not map, keyed by the file's own tag, so that an
    export can give it back.
    """

    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    isbn: str = ""
    issn: str = ""
    abstract: str = ""
    keywords: list[str] = field(default_factory=list)
    url: str = ""
    fulltext_url: str = ""
    publisher: str = ""
    place_published: str = ""
    record_type: str = "journal article"
    language: str = ""
    database: str = ""
    accession: str = ""
    notes: str = ""
    full_text: str = ""
    source_id: str = ""
    extra: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return the record as a plain dict (lists copied)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Record:
        """Build a record from a dict, ignoring keys that are not fields."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def filled_fields(self) -> int:
        """Count the bibliographic fields that hold a value (a completeness score)."""
        return sum(1 for name in BIBLIOGRAPHIC_FIELDS if getattr(self, name) not in ("", None, []))


_DOI_RE = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s+")
# Markup that databases leave in titles and abstracts (italics, super/subscripts, JATS and
# MathML elements).  Only these names count as tags, so "p < 0.05 and q > 1" stays as it is.
_TAG_RE = re.compile(
    r"</?(?:[a-z]+:)?(?:i|b|u|em|strong|sup|sub|sc|scp|inf|smallcaps|p|br|hr|span|div|a|font|"
    r"italic|bold|underline|title|sec|label|list|list-item|named-content|ext-link|xref|"
    r"math|mi|mo|mn|ms|mtext|mrow|msub|msup|msubsup|mfrac|msqrt|mstyle|semantics|annotation|"
    r"abstracttext|copyrightinformation)"
    r"(?:\s[^<>]{0,200})?\s*/?>",
    re.IGNORECASE,
)
_YEAR_RE = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")


# PubMed's structured abstract as Lens and others pass it on: <AbstractText Label="METHODS">.
_SECTION_LABEL_RE = re.compile(r'<AbstractText\s+Label="([^"<>]{1,60})"[^<>]{0,200}>',
                               re.IGNORECASE)


def clean_text(value: str | None) -> str:
    """Collapse whitespace, drop control characters and HTML tags, unescape entities."""
    if not value:
        return ""
    text = _SECTION_LABEL_RE.sub(r" \1: ", str(value))
    text = _TAG_RE.sub("", text)
    text = html.unescape(text)
    text = "".join(ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch)[0] != "C")
    return _SPACE_RE.sub(" ", text).strip()


def normalize_doi(value: str | None) -> str:
    """Return the bare, lower-case DOI found in ``value`` ("" when there is none).

    >>> normalize_doi("https://doi.org/10.1136/BMJ.m1234.")
    '10.1136/bmj.m1234'
    """
    if not value:
        return ""
    match = _DOI_RE.search(str(value))
    if not match:
        return ""
    return match.group(0).rstrip(".,;)]}>\"'").lower()


def parse_year(value: str | int | None) -> int | None:
    """Return the first plausible publication year in ``value``.

    >>> parse_year("2019/03/01/")
    2019
    """
    if value is None:
        return None
    if isinstance(value, int):
        return value if 1500 <= value <= 2100 else None
    match = _YEAR_RE.search(str(value))
    return int(match.group(1)) if match else None


def split_pages(pages: str) -> tuple[str, str]:
    """Split a page range into (first, last), expanding a short end page.

    >>> split_pages("221-38")
    ('221', '238')
    """
    text = clean_text(pages).replace("–", "-").replace("—", "-")
    if not text:
        return "", ""
    parts = [p.strip() for p in re.split(r"\s*-+\s*", text, maxsplit=1)]
    first = parts[0]
    last = parts[1] if len(parts) > 1 else ""
    if first.isdigit() and last.isdigit() and len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return first, last


def join_pages(first: str, last: str) -> str:
    """Join a start and end page into one range."""
    first, last = first.strip(), last.strip()
    if first and last and last != first:
        return f"{first}-{last}"
    return first or last
