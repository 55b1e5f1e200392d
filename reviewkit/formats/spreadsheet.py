"""Excel workbooks: .xlsx through openpyxl, and the legacy .xls Web of Science still saves
through xlrd.  The first sheet is read as a table with a header row, exactly like a CSV."""

from __future__ import annotations

import datetime
import io
import zipfile

from reviewkit.errors import FormatError
from reviewkit.formats.notes import ReadNotes
from reviewkit.formats.tabular import read_rows
from reviewkit.records import Record

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Cells read past the last one that holds anything are not worth a row each.
_MAX_COLUMNS = 2000


def spreadsheet_kind(data: bytes) -> str:
    """Return 'xlsx' or 'xls' when ``data`` is an Excel workbook, else ''."""
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, ValueError, OSError):
            return ""
        return "xlsx" if any(name.startswith("xl/") for name in names) else ""
    if data.startswith(_OLE_MAGIC) and b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in data:
        return "xls"
    return ""


def sheet_rows(data: bytes, *, filename: str = "", kind: str = "") -> tuple[list[str], list]:
    """Return the header and the ``(row number, cells)`` rows of a workbook's first sheet."""
    kind = kind or spreadsheet_kind(data)
    try:
        rows = _xlsx_rows(data) if kind == "xlsx" else _xls_rows(data)
    except FormatError:
        raise
    except Exception as exc:  # both libraries raise many kinds of error on a damaged file
        raise FormatError(f"the Excel workbook cannot be opened ({type(exc).__name__}: "
                          f"{str(exc)[:120]}); re-save it in Excel or export it as CSV",
                          file=filename) from None
    for index, (_number, cells) in enumerate(rows):
        if any(cell.strip() for cell in cells):
            return cells, rows[index + 1:]
    raise FormatError("the first sheet of the workbook is empty", file=filename)


def read_spreadsheet(data: bytes, *, filename: str = "", kind: str = "",
                     column_map: dict[str, str] | None = None,
                     notes: ReadNotes | None = None) -> list[Record]:
    """Read the first sheet of an .xlsx or .xls workbook, one record per row."""
    header, rows = sheet_rows(data, filename=filename, kind=kind)
    return read_rows(header, rows, filename=filename, column_map=column_map, notes=notes)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return [(number, [_cell_text(v) for v in row[:_MAX_COLUMNS]])
                for number, row in enumerate(sheet.iter_rows(values_only=True), 1)]
    finally:
        book.close()


def _xls_rows(data: bytes) -> list[tuple[int, list[str]]]:
    import xlrd

    book = xlrd.open_workbook(file_contents=data, on_demand=True)
    try:
        sheet = book.sheet_by_index(0)
        rows = []
        for index in range(sheet.nrows):
            cells = []
            for kind, value in zip(sheet.row_types(index)[:_MAX_COLUMNS],
                                   sheet.row_values(index)[:_MAX_COLUMNS]):
                if kind == xlrd.XL_CELL_DATE:
                    value = xlrd.xldate.xldate_as_datetime(value, book.datemode)
                cells.append(_cell_text(value))
            rows.append((index + 1, cells))
        return rows
    finally:
        book.release_resources()
