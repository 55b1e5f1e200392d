"""Cells for spreadsheets: every CSV and XLSX file reviewkit writes goes through here.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula, so a record titled ``=HYPERLINK("http://x", "click")`` would
become a live link, or worse, in whoever opens the export. Text cells that start like that get
a leading apostrophe in CSV (which Excel and LibreOffice show as plain text) and are stored as
quoted text in XLSX; :func:`read_cell` takes the apostrophe off again when reviewkit reads its
own exports back. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_cell(value):
    """Return ``value`` as a spreadsheet may safely hold it (text that starts like a formula
    gets a leading apostrophe; numbers and None pass unchanged).

    >>> export_cell('=HYPERLINK("http://x")'), export_cell("Loneliness"), export_cell(-3)
    ('\\'=HYPERLINK("http://x")', 'Loneliness', -3)
    """
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + value  # a text that already starts "'=" gets one more, to read back whole
    return value


def read_cell(value: str) -> str:
    """Undo :func:`export_cell` for a cell read back from a CSV reviewkit wrote."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS):
        return value[1:]
    return value


class CellWriter:
    """A ``csv.writer`` whose every cell passes through :func:`export_cell`."""

    def __init__(self, handle, **options):
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([export_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def cell_writer(handle, **options) -> CellWriter:
    """Open a CSV writer on ``handle`` (options as for ``csv.writer``) that neutralises formulas."""
    return CellWriter(handle, **options)


def csv_bytes(header: Sequence, rows: Iterable[Iterable], *, bom: bool = False,
              lineterminator: str = "\r\n") -> bytes:
    """Write a header and rows as CSV in UTF-8 (with a BOM for Excel when ``bom``)."""
    buffer = io.StringIO(newline="")
    writer = cell_writer(buffer, lineterminator=lineterminator)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")


def xlsx_bytes(sheets: dict[str, tuple[Sequence, Iterable[Iterable]]]) -> bytes:
    """Write ``{sheet name: (header, rows)}`` as an XLSX workbook; text is never a formula."""
    from openpyxl import Workbook
    from openpyxl.utils.exceptions import IllegalCharacterError

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, (header, rows) in sheets.items():
        sheet = workbook.create_sheet(title=name[:31])
        for line, row in enumerate((header, *rows), start=1):
            for column, value in enumerate(row, start=1):
                cell = sheet.cell(line, column)
                if not isinstance(value, str):
                    cell.value = value
                    continue
                try:
                    cell.value = value
                except IllegalCharacterError:
                    cell.value = "".join(ch for ch in value if ch >= " " or ch in "\t\n\r")
                # Stored as text and shown as typed: never evaluated, even once edited.
                cell.data_type = "s"
                cell.quotePrefix = value.startswith(FORMULA_STARTS)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
