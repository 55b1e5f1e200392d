"""Tell which export format a file is in, from what it holds rather than what it is called."""

from __future__ import annotations

import csv
import io
import re
from pathlib import PurePath

from reviewkit.errors import FormatError
from reviewkit.formats.encoding import decode_bytes
from reviewkit.formats.proquest import looks_like_proquest
from reviewkit.formats.spreadsheet import spreadsheet_kind
from reviewkit.formats.tabular import sniff_delimiter, suggest_column_map
from reviewkit.formats.wos import looks_like_wos

# How many non-blank lines to look through for a format's signature before giving up.
_LINES_TO_SCAN = 60

_SIGNATURES = (
    ("ris", re.compile(r"TY  -(?: |$)")),
    ("medline", re.compile(r"PMID- ?\d")),
    ("bibtex", re.compile(r"\s*@\s*[A-Za-z]+\s*[{(]")),
    ("refer", re.compile(r"%[0TA] \S")),
)
_REFER_TAG = re.compile(r"%[0-9A-Z@~] \S")
_EXTENSIONS = {
    ".ris": "ris", ".bib": "bibtex", ".bibtex": "bibtex", ".nbib": "medline",
    ".medline": "medline", ".xml": "endnote_xml", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
    ".pdf": "pdf", ".ciw": "wos", ".isi": "wos",
    ".enw": "refer",
}


def is_pdf(data: bytes) -> bool:
    """Tell a PDF by its magic number, which may follow a little junk at the start."""
    return b"%PDF-" in data[:1024]


def detect_format(data: bytes, filename: str = "") -> str:
    """Name the format of an export (one of FORMATS), looking at its content first."""
    if is_pdf(data):
        return "pdf"
    kind = spreadsheet_kind(data)
    if kind:
        return kind
    return detect_text_format(decode_bytes(data, filename=filename), filename)


def detect_text_format(text: str, filename: str = "") -> str:
    """Name the format of already-decoded text; the file's extension only breaks ties."""
    lines = [line for line in text[:200_000].split("\n", 2000) if line.strip()][:_LINES_TO_SCAN]
    if not lines:
        raise FormatError("the file is empty", file=filename)
    by_extension = _EXTENSIONS.get(PurePath(filename).suffix.lower(), "")
    head = lines[0].lstrip()
    if head.startswith("<"):
        return _detect_xml(text, filename)
    if looks_like_wos(lines):
        return "wos"
    if looks_like_proquest(text):
        return "proquest"
    refer_lines = sum(1 for line in lines if _REFER_TAG.match(line))
    for line in lines:
        found = [name for name, signature in _SIGNATURES if signature.match(line)
                 if name != "refer" or refer_lines >= 2]  # one '%T x' may be a comment
        if found:
            return by_extension if by_extension in found else found[0]
    delimited, certain = _detect_delimited(lines)
    if delimited and certain:
        return delimited
    if by_extension and by_extension != "pdf":
        return by_extension  # let that format's reader say exactly what is wrong
    if delimited:
        return delimited
    raise FormatError(
        "could not recognise the file's format; reviewkit reads RIS, BibTeX, MEDLINE "
        "(PubMed .nbib), EndNote XML and tagged (.enw), Web of Science and ProQuest plain "
        "text, CSV, TSV, Excel and PDF",
        file=filename,
    )


def _detect_xml(text: str, filename: str) -> str:
    head = text[:5000]
    if "<records" in head or "<record>" in head:
        return "endnote_xml"
    if "<PubmedArticle" in head:
        raise FormatError(
            "this is PubMed XML, which reviewkit does not read; in PubMed choose "
            "'Send to' > 'Citation manager' to save a .nbib (MEDLINE) file instead",
            file=filename,
        )
    raise FormatError(
        "this XML file is not an EndNote XML export (it has no <records> element); in "
        "EndNote use File > Export with 'XML' as the type",
        file=filename,
    )


def _detect_delimited(lines: list[str]) -> tuple[str, bool]:
    """Return ('csv' or 'tsv' or '', certain) for a table whose first line is a header row.

    Certain means the next row has as many columns, or a column is recognisably the title.
    """
    delimiter = sniff_delimiter(lines[0])
    if delimiter not in lines[0]:
        return "", False
    rows = list(csv.reader(io.StringIO("\n".join(lines[:20])), delimiter=delimiter))
    header = rows[0]
    if len(header) < 2:
        return "", False
    certain = (len(rows) > 1 and len(rows[1]) == len(header)) or (
        "title" in suggest_column_map(header).values())
    return ("tsv" if delimiter == "\t" else "csv"), certain
