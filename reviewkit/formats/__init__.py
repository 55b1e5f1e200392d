"""Read bibliographic exports into Records and write Records back out.

One module per format (``ris``, ``bibtex``, ``medline``, ``endnote``, ``tabular``, ``pdf``),
each with ``read_*`` (text in, records out) and, where reviewkit exports that format,
``write_*``.  This module adds the byte-level entry points: :func:`read_records` decodes,
detects and dispatches; :func:`write_records` encodes.  Every problem with a file is a
FormatError that names the file and the record or line; a read returns all records or none.
"""

from __future__ import annotations

from reviewkit.errors import FormatError
from reviewkit.formats.bibtex import read_bibtex, write_bibtex
from reviewkit.formats.detection import detect_format, detect_text_format, is_pdf
from reviewkit.formats.encoding import decode_bytes
from reviewkit.formats.endnote import read_endnote_xml
from reviewkit.formats.medline import read_medline
from reviewkit.formats.notes import ReadNotes
from reviewkit.formats.pdf import read_pdf
from reviewkit.formats.proquest import read_proquest
from reviewkit.formats.refer import read_refer
from reviewkit.formats.ris import read_ris, write_ris
from reviewkit.formats.spreadsheet import read_spreadsheet, spreadsheet_kind
from reviewkit.formats.tabular import read_csv, suggest_column_map, write_csv
from reviewkit.formats.wos import read_wos
from reviewkit.records import Record

FORMATS = ("ris", "bibtex", "medline", "endnote_xml", "csv", "tsv", "pdf", "wos", "proquest", "refer", "xlsx",
           "xls")
EXPORT_FORMATS = ("ris", "bibtex", "csv")

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "ReadNotes",
    "decode_bytes",
    "detect_format",
    "read_bibtex",
    "read_csv",
    "read_endnote_xml",
    "read_medline",
    "read_pdf",
    "read_proquest",
    "read_records",
    "read_refer",
    "read_spreadsheet",
    "read_ris",
    "read_wos",
    "suggest_column_map",
    "write_bibtex",
    "write_csv",
    "write_records",
    "write_ris",
]

_TEXT_READERS = {
    "ris": read_ris,
    "bibtex": read_bibtex,
    "medline": read_medline,
    "endnote_xml": read_endnote_xml,
    "wos": read_wos,
    "proquest": read_proquest,
    "refer": read_refer,
}


def read_records(data: bytes, *, filename: str = "", format: str | None = None,
                 column_map: dict[str, str] | None = None,
                 notes: ReadNotes | None = None) -> list[Record]:
    """Read every record in an export file; ``format=None`` detects the format from the bytes.

    What the reader had to skip or repair is added to ``notes``; a file is refused only when
    nothing bibliographic can be read from it.
    """
    notes = notes if notes is not None else ReadNotes()
    if format is not None and format not in FORMATS:
        raise FormatError(f"unknown format '{format}'; choose one of {', '.join(FORMATS)}",
                          file=filename)
    if format is None:
        format = spreadsheet_kind(data) or None
    if format == "pdf" or (format is None and is_pdf(data)):
        records = read_pdf(data, filename=filename)
    elif format in ("xlsx", "xls"):
        records = read_spreadsheet(data, filename=filename, kind=format, column_map=column_map,
                                   notes=notes)
    else:
        text = decode_bytes(data, filename=filename)
        format = format or detect_text_format(text, filename)
        if format == "pdf":
            records = read_pdf(data, filename=filename)
        elif format in ("csv", "tsv"):
            records = read_csv(text, filename=filename, column_map=column_map,
                               delimiter="\t" if format == "tsv" else None, notes=notes)
        else:
            records = _TEXT_READERS[format](text, filename=filename, notes=notes)
    if not records:
        raise FormatError("the file holds no records", file=filename)
    _note_untitled(records, notes)
    return records


def _note_untitled(records: list[Record], notes: ReadNotes) -> None:
    for number, record in enumerate(records, 1):
        if not record.title:
            notes.add("record without a title (kept: screen it by its other fields)",
                      record=number)


def write_records(records: list[Record], format: str) -> bytes:
    """Write records as a file in one of EXPORT_FORMATS (CSV with a BOM, so Excel reads UTF-8)."""
    if format == "ris":
        return write_ris(records).replace("\n", "\r\n").encode("utf-8")
    if format == "bibtex":
        return write_bibtex(records).encode("utf-8")
    if format == "csv":
        return write_csv(records).encode("utf-8-sig")
    raise FormatError(f"cannot write '{format}'; choose one of {', '.join(EXPORT_FORMATS)}")
