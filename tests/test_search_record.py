"""The PRISMA-S search record: stored per import, edited, audited, carried by archives."""

from __future__ import annotations

import pytest

from reviewkit.archive import export_review, import_review
from reviewkit.errors import NotFoundError, ReviewkitError
from reviewkit.importing import import_file
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
