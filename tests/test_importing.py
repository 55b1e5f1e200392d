"""Importing into a review: bad files get a clear message and leave the database as it was."""

from __future__ import annotations

import io

import pytest

from reviewkit import formats
from reviewkit.errors import DuplicateImportError, FormatError
from reviewkit.formats import read_records
from reviewkit.importing import export_records, import_file, preview_file

GOOD_RIS = (
    "TY  - JOUR\r\nAU  - Popay, J.\r\nAU  - Kaloudis, H.\r\nTI  - Neighbourhood system resilience\r\n"
    "T2  - Health & Place\r\nPY  - 2023\r\nDO  - 10.1000/nsr.1\r\nER  - \r\n\r\n"
    "TY  - JOUR\r\nAU  - Ubido, J.\r\nTI  - Developing resilient communities\r\nPY  - 2018\r\nER  - \r\n"
)


def _pdf(text: str, *, password: str | None = None) -> bytes:
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", fname="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    pdf.set_font("DejaVu", size=16)
    pdf.multi_cell(0, 10, text)
    data = bytes(pdf.output())
    if password:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
        writer.encrypt(password)
        out = io.BytesIO()
        writer.write(out)
        data = out.getvalue()
    return data


BROKEN = [
    ("no_records.ris", b"Provider: Example\r\nDatabase: nothing exported\r\n",
     r"no_records\.ris.*no RIS records"),
    ("unbalanced.bib", b"@article{popay2023,\n  title = {Neighbourhood {resilience},\n  year = 2023\n}\n",
     r"unbalanced\.bib"),
    ("empty.ris", b"", r"empty\.ris.*empty"),
    ("blank.csv", b"  \r\n \n", r"blank\.csv.*empty"),
    ("utf16.ris", GOOD_RIS.encode("utf-16-le"), r"utf16\.ris"),
    ("binary.ris", bytes(range(256)) * 20, r"binary\.ris"),
    ("malformed.xml", b'<?xml version="1.0"?><xml><records><record><titles>', r"malformed\.xml.*line"),
    ("notes.txt", b"These are my notes about the search, not an export.\n", r"notes\.txt"),
]


@pytest.fixture
def review(store):
    return store.create_review("Import tests")


def _snapshot(store, review):
    return (store.count_records(review.id), len(store.list_batches(review.id)),
            len(store.audit_entries()))


@pytest.mark.parametrize(("name", "data", "pattern"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_file_is_refused_with_its_name_and_nothing_stored(store, review, name, data, pattern):
    import_file(store, review, GOOD_RIS.encode(), "good.ris", actor="ana")
    before = _snapshot(store, review)
    with pytest.raises(FormatError, match=pattern):
        import_file(store, review, data, name, actor="ana")
    assert _snapshot(store, review) == before


def test_encrypted_pdf_gets_a_clear_message(store, review):
    data = _pdf("A protected article", password="secret")
    with pytest.raises(FormatError, match=r"locked\.pdf.*(encrypted|password)"):
        import_file(store, review, data, "locked.pdf", actor="ana")
    assert store.count_records(review.id) == 0


def test_readable_pdf_keeps_text_doi_and_title(store, review):
    data = _pdf("Community champions and neighbourhood resilience\n\n"
                "doi: 10.1186/s12889-020-09999-9\n\nBody text about residents and local decisions.")
    batch = import_file(store, review, data, "article.pdf", actor="ana")
    assert batch.format == "pdf" and batch.record_count == 1
    stored = store.list_records(review.id)[0]
    full = store.get_record(stored.id).record
    assert full.doi == "10.1186/s12889-020-09999-9"
    assert "Community champions" in full.title
    assert "local decisions" in full.full_text


def test_file_over_the_limit_is_refused_before_reading(store, review):
    big = (GOOD_RIS * 20000).encode()  # about 5 MB
    with pytest.raises(FormatError, match=r"big\.ris.*over the 1 MB import limit"):
        import_file(store, review, big, "big.ris", actor="ana", max_mb=1)
    assert store.count_records(review.id) == 0


def test_fifty_megabyte_upload_is_refused_by_default(store, review):
    huge = b"TY  - JOUR\nTI  - x\nER  - \n" * (50 * 1024 * 1024 // 24 + 1)
    assert len(huge) > 50 * 1024 * 1024
    with pytest.raises(FormatError, match=r"huge\.ris.*import limit"):
        import_file(store, review, huge, "huge.ris", actor="ana")
    assert _snapshot(store, review)[:2] == (0, 0)


def test_same_file_twice_is_noticed(store, review):
    import_file(store, review, GOOD_RIS.encode(), "scopus.ris", actor="ana")
    with pytest.raises(DuplicateImportError, match=r"again\.ris.*already imported.*scopus\.ris"):
        import_file(store, review, GOOD_RIS.encode(), "again.ris", actor="ben")
    assert store.count_records(review.id) == 2


def test_encodings_and_line_endings_give_the_same_records():
    variants = {
        "utf8": GOOD_RIS.replace("Kaloudis", "Kalöudis").encode("utf-8"),
        "bom": b"\xef\xbb\xbf" + GOOD_RIS.replace("Kaloudis", "Kalöudis").encode("utf-8"),
        "latin1": GOOD_RIS.replace("Kaloudis", "Kalöudis").encode("latin-1"),
        "lf": GOOD_RIS.replace("Kaloudis", "Kalöudis").replace("\r\n", "\n").encode("utf-8"),
    }
    parsed = {k: read_records(v, filename=f"{k}.ris") for k, v in variants.items()}
    for records in parsed.values():
        assert [r.title for r in records] == ["Neighbourhood system resilience", "Developing resilient communities"]
        assert records[0].authors == ["Popay, J.", "Kalöudis, H."]
        assert records[0].doi == "10.1000/nsr.1"


def test_csv_column_mapping_is_used(store, review):
    data = (b"ID,Paper,Writers,When,Where published\n"
            b"s1,Health champions in Halton,\"Smith, A.; Jones, B.\",2016,Perspectives in Public Health\n"
            b"s2,Credit unions and financial inclusion,\"Lee, C.\",2017,\n")
    mapping = {"ID": "source_id", "Paper": "title", "Writers": "authors", "When": "year",
               "Where published": "journal"}
    preview = preview_file(data, "sheet.csv", column_map=mapping)
    assert preview.format == "csv" and preview.count == 2
    assert preview.headers == ["ID", "Paper", "Writers", "When", "Where published"]
    import_file(store, review, data, "sheet.csv", actor="ana", column_map=mapping)
    first = store.list_records(review.id)[0].record
    assert (first.source_id, first.title, first.year) == ("s1", "Health champions in Halton", 2016)
    assert first.authors == ["Smith, A.", "Jones, B."]


@pytest.mark.parametrize("fmt", ["ris", "bibtex", "csv"])
def test_export_round_trips_what_was_imported(store, review, fmt):
    import_file(store, review, GOOD_RIS.encode(), "scopus.ris", actor="ana")
    exported = export_records(store, review, fmt)
    again = read_records(exported, filename=f"export.{fmt}")
    originals = [s.record for s in store.list_records(review.id)]
    for field in ("title", "authors", "year", "journal", "doi"):
        assert [getattr(r, field) for r in again] == [getattr(r, field) for r in originals], field


def test_csv_export_opens_in_excel():
    from reviewkit.formats import write_records
    from reviewkit.records import Record

    data = write_records([Record(title="Café culture, \"quoted\"", authors=["Ó Briain, S."], year=2019)], "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    header = data[3:].decode("utf-8").splitlines()[0]
    assert header.startswith("record_id,title,authors,year,journal,volume,issue,pages,doi,abstract")


def test_semicolon_csv_from_european_excel_maps_its_columns():
    data = "Title;Authors;Year\r\nHealth champions in Halton;Smith, A.;2016\r\n".encode("cp1252")
    preview = preview_file(data, "excel.csv")
    assert preview.headers == ["Title", "Authors", "Year"]
    assert preview.column_map["Title"] == "title"
    assert (preview.records[0].title, preview.records[0].year) == ("Health champions in Halton", 2016)


def test_odd_lines_are_noted_and_the_rest_stored_in_one_import(store, review):
    odd = GOOD_RIS.replace("ER  - \r\n\r\nTY", "ER  - \r\nRecord #2 of 2\r\nTY", 1)
    cut = odd.rsplit("ER  -", 1)[0]  # and the file ends before the last 'ER' line
    preview = preview_file(cut.encode(), "cochrane.ris")
    assert preview.count == 2
    assert [str(n) for n in preview.notes.lines()] == [
        "line 9: text between records ignored (e.g. 'Record #2 of 2')",
        "line 10: the last record has no 'ER  -' end tag (the file may be cut short); it was "
        "read as far as it goes"]
    notes = formats.ReadNotes()
    batch = import_file(store, review, cut.encode(), "cochrane.ris", actor="ana", notes=notes)
    assert batch.record_count == 2 and notes.lines() == preview.notes.lines()
    with pytest.raises(DuplicateImportError):
        import_file(store, review, cut.encode(), "cochrane.ris", actor="ana")


def test_value_too_long_for_a_bounded_column_moves_to_the_extra_fields(store, review):
    data = ("title,pmid,volume\nA fine paper,123,12\nA shifted row," + "9" * 40 + ","
            + "7" * 300 + "\n").encode()
    preview = preview_file(data, "shifted.csv")
    assert preview.notes.lines() == [
        "record 2: pmid longer than 32 characters (the columns may be shifted): kept among the "
        "record's extra fields (e.g. '" + "9" * 40 + "')"]
    import_file(store, review, data, "shifted.csv", actor="ana")
    stored = {s.record.title: s.record for s in store.list_records(review.id)}
    assert stored["A shifted row"].pmid == "" and stored["A shifted row"].extra["pmid"] == ["9" * 40]
    assert stored["A shifted row"].volume == "7" * 300  # a text column: no limit to hit
