"""The PRISMA-S search record: stored per import, edited, audited, carried by archives."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewkit.archive import export_review, import_review
from reviewkit.errors import NotFoundError, ReviewkitError
from reviewkit.importing import import_file, preview_file
from reviewkit.search_record import record_search, search_record, search_records
from reviewkit.store import Store

RIS = b"""TY  - JOUR
TI  - Asset-based community development and wellbeing
AU  - Green, A.
PY  - 2019
DO  - 10.1000/abcd.1
ER  -

TY  - JOUR
TI  - Neighbourhood networks in later life
AU  - Brown, B.
PY  - 2021
ER  -
"""


@pytest.fixture
def imported(store):
    review = store.create_review("Local approaches")
    batch = import_file(store, review, RIS, "medline-export.ris", actor="ana",
                        database_name="MEDLINE", search_date="2024-03-01",
                        search_query="communit* AND asset*")
    return review, batch


def test_an_import_is_reported_from_its_own_fields_until_described(store, imported):
    review, batch = imported
    found = search_record(store, batch.id)
    assert (found.recorded, found.method, found.database, found.date_searched,
            found.search_string) == (False, "database", "MEDLINE", "2024-03-01",
                                     "communit* AND asset*")
    assert found.record_count == 2 and found.filename == "medline-export.ris"


def test_record_search_stores_edits_and_audits(store, imported):
    review, batch = imported
    first = record_search(store, batch.id, actor="ana", platform="Ovid",
                          limits="English; 2000 to 2024", run_by="A. Librarian")
    assert first.recorded and first.platform == "Ovid" and first.database == "MEDLINE"
    assert first.updated_by == "ana"
    edited = record_search(store, batch.id, actor="ben", database="MEDLINE ALL",
                           search_string="  (communit* adj3 asset*).ti,ab.  ")
    assert edited.search_string == "(communit* adj3 asset*).ti,ab."
    assert edited.platform == "Ovid" and edited.limits == "English; 2000 to 2024"
    # the import's own fields follow, so PRISMA's counts per source use the new name
    again = store.list_batches(review.id)[0]
    assert (again.database_name, again.search_query) == ("MEDLINE ALL",
                                                         "(communit* adj3 asset*).ti,ab.")
    lines = [e for e in store.audit_entries(review.id) if e.action == "search_record.update"]
    assert [e.actor for e in lines] == ["ben", "ana"]
    assert lines[0].details["changes"]["database"] == {"old": "MEDLINE", "new": "MEDLINE ALL"}
    assert set(lines[0].details["changes"]) == {"database", "search_string"}
    # an edit that changes nothing writes nothing
    record_search(store, batch.id, actor="ben", platform="Ovid")
    assert len([e for e in store.audit_entries(review.id)
                if e.action == "search_record.update"]) == 2


def test_bad_fields_are_refused_and_nothing_changes(store, imported):
    review, batch = imported
    with pytest.raises(ReviewkitError, match="Unknown search method 'hand search'"):
        record_search(store, batch.id, method="hand search")
    with pytest.raises(ReviewkitError, match="Unknown search record field"):
        record_search(store, batch.id, query="x")
    with pytest.raises(ReviewkitError, match="NUL"):
        record_search(store, batch.id, notes="a\x00b")
    with pytest.raises(NotFoundError):
        record_search(store, batch.id + 99, notes="x")
    assert not search_record(store, batch.id).recorded


def test_citation_searching_is_a_method_and_import_can_carry_the_record(store, imported):
    review, _ = imported
    chased = import_file(store, review, RIS.replace(b"2019", b"2018"), "chased.ris", actor="ana",
                         search={"method": "Citation searching",
                                 "notes": "Backward: reference lists of 12 included studies"})
    records = search_records(store, review.id)
    assert [r.method for r in records] == ["database", "citation searching"]
    assert records[1].recorded and records[1].notes.startswith("Backward")
    assert records[1].import_id == chased.id
    with pytest.raises(ReviewkitError, match="Unknown search method"):
        import_file(store, review, RIS.replace(b"2019", b"2017"), "x.ris", actor="ana",
                    search={"method": "guess"})
    assert len(store.list_batches(review.id)) == 2  # the refused file stored nothing


def test_search_records_travel_in_a_review_archive(store, imported, tmp_path):
    review, batch = imported
    record_search(store, batch.id, actor="ana", platform="Ovid", limits="Humans")
    data = export_review(store, review.id, actor="ana")
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    moved = import_review(other, data, actor="ana")
    [copy] = search_records(other, moved.id)
    assert (copy.platform, copy.limits, copy.database, copy.recorded) == ("Ovid", "Humans",
                                                                          "MEDLINE", True)
    other.close()


def test_the_audit_says_what_was_recorded(store, imported):
    from reviewkit.audit import describe

    review, batch = imported
    record_search(store, batch.id, actor="ana", platform="Ovid", run_by="A. Librarian")
    entry = next(e for e in store.audit_entries(review.id) if e.action == "search_record.update")
    assert describe(entry) == ("ana recorded the search behind medline-export.ris "
                               "(platform, run by)")


DATA = Path(__file__).parent / "data" / "formats"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "formats"


@pytest.mark.parametrize("name, expected", [
    ("ovid_medline.ris", {"platform": "Ovid", "database": "MEDLINE(R) ALL",
                          "notes": "Database coverage stated in the export: 1946 to March 13, "
                                   "2024."}),
    ("ebsco_cinahl_latin1.ris", {"platform": "EBSCOhost",
                                 "database": "CINAHL Plus with Full Text"}),
    ("scopus.ris", {"date_searched": "14 March 2024 (export date)"}),
    ("pubmed.nbib", {}),
])
def test_the_file_pre_fills_what_it_states(name, expected):
    preview = preview_file((DATA / name).read_bytes(), name)
    assert preview.search_hints.fields == expected
    assert set(preview.search_hints.found_in) == set(expected)


@pytest.mark.parametrize("name, expected", [
    ("psycinfo-ebsco_ris_citesource_1.ris", {"platform": "EBSCOhost", "database": "APA PsycInfo"}),
    ("medline-ovid_ris_sysrev_1.ris", {
        "platform": "Ovid", "database": "MEDLINE(R)",
        "notes": "Ovid segments in the export: MEDLINE(R), MEDLINE(R) Daily Update."}),
    ("proquest_proquest-txt_metaknowledge_1.txt",
     {"platform": "ProQuest", "date_searched": "December 08 2015 (date of the export)"}),
    ("scopus_ris_citesource_1.ris", {"date_searched": "7 December 2022 (export date)"}),
    ("wos_wos-plain_revtools_1.ciw", {"platform": "Web of Science"}),
])
def test_real_exports_pre_fill_their_search_record(name, expected):
    if not (SHARED / name).exists():
        pytest.skip(f"the real exports are not here ({SHARED}); they live in the shared folder "
                    "beside the repository")
    preview = preview_file((SHARED / name).read_bytes(), name)
    assert preview.search_hints.fields == expected


def test_an_import_stores_the_pre_filled_record_and_the_caller_wins(store):
    review = store.create_review("Prefill")
    data = (DATA / "ovid_medline.ris").read_bytes()
    batch = import_file(store, review, data, "ovid_medline.ris", actor="ana",
                        search={"limits": "English language"})
    found = search_record(store, batch.id)
    assert (found.platform, found.database, found.limits) == ("Ovid", "MEDLINE(R) ALL",
                                                              "English language")
    assert batch.database_name == "MEDLINE(R) ALL"  # PRISMA counts it under the database
    other = import_file(store, review, (DATA / "scopus.ris").read_bytes(), "scopus.ris",
                        actor="ana", search_date="2024-03-13")
    assert search_record(store, other.id).date_searched == "2024-03-13"


def test_cli_records_searches_and_writes_the_appendix(tmp_path, monkeypatch, capsys):
    from docx import Document

    from reviewkit.cli import main

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    assert main(["import", str(DATA / "ovid_medline.ris"), "--review", "CLI review",
                 "--search-date", "2024-03-13", "--query", "exp Loneliness/ and communit*.mp.",
                 "--limits", "2000-current", "--run-by", "Information specialist"]) == 0
    assert main(["import", str(DATA / "scopus.ris"), "--review", "CLI review",
                 "--method", "hand searching"]) != 0  # an unknown method stores nothing
    capsys.readouterr()
    assert main(["search-record", "--review", "CLI review"]) == 0
    shown = capsys.readouterr().out
    assert "Platform or interface: Ovid" in shown and "Limits and filters: 2000-current" in shown
    import_id = int(shown.split()[1].rstrip(":"))
    assert main(["search-record", "--review", "CLI review", "--import-id", str(import_id),
                 "--set", "notes=Searched with the librarian"]) == 0
    md, docx = tmp_path / "appendix.md", tmp_path / "appendix.docx"
    assert main(["search-appendix", "--review", "CLI review", "--output", str(md)]) == 0
    assert main(["search-appendix", "--review", "CLI review", "--output", str(docx)]) == 0
    text = md.read_text()
    assert "```text\nexp Loneliness/ and communit*.mp.\n```" in text
    assert "Searched with the librarian" in text and "## 1\\. MEDLINE\\(R\\) ALL via Ovid" in text
    doc = Document(str(docx))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[:3] == ["Search appendix: CLI review", "Methods text", "Summary of searches"]
    assert "1. MEDLINE(R) ALL via Ovid" in headings
    assert "exp Loneliness/ and communit*.mp." in [p.text for p in doc.paragraphs]
    assert doc.tables[0].rows[1].cells[3].text == "Ovid"


def test_a_date_with_its_own_brackets_reads_plainly_in_the_methods_text():
    # Scopus exports pre-fill '28 January 2025 (export date)'; the methods text said
    # '(searched 28 January 2025 (export date))'
    from datetime import datetime

    from reviewkit.search_appendix import _source_phrase
    from reviewkit.search_record import SearchRecord

    found = SearchRecord(1, 1, "scopus.ris", 10, datetime(2025, 1, 28), database="Scopus",
                         date_searched="28 January 2025 (export date)")
    assert _source_phrase(found) == "Scopus (searched 28 January 2025, export date)"
