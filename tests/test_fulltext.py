"""Attaching full texts: one PDF, or a zip matched by DOI or title; hostile zips refused."""

from __future__ import annotations

import io
import zipfile

import pytest

from reviewkit.errors import FormatError
from reviewkit.fulltext import attach_pdf, attach_zip, safe_pdf_entries
from reviewkit.records import Record
from tests.test_importing import _pdf


@pytest.fixture
def review_with_records(store):
    review = store.create_review("Full texts")
    store.add_import(review.id, [
        Record(title="Community health champions and neighbourhood wellbeing: a mixed methods evaluation",
               doi="10.1000/champions.2019", year=2019),
        Record(title="Participatory budgeting and perceived influence over local decisions in Scotland",
               year=2020),
        Record(title="Green space, loneliness and older adults", year=2021),
    ], filename="s.ris", format="ris", sha256="e" * 64, size_bytes=1)
    return review


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_is_matched_by_doi_and_by_title(store, review_with_records):
    records = store.list_records(review_with_records.id)
    by_doi = _pdf("An article\n\nhttps://doi.org/10.1000/CHAMPIONS.2019\n\nText about health champions.")
    by_title = _pdf("Participatory budgeting and perceived influence over local decisions in Scotland\n\n"
                    "Residents voted on how to spend part of the council budget.")
    stranger = _pdf("A completely unrelated paper on the chemistry of glaciers\n\nIce and more ice.")
    results = attach_zip(store, records, _zip({"papers/one.pdf": by_doi, "two.pdf": by_title,
                                               "three.pdf": stranger, "notes.txt": b"ignore me"}),
                         actor="ana")
    outcome = {r.filename: (r.record_id, r.matched_by) for r in results}
    assert outcome["one.pdf"] == (records[0].id, "doi")
    assert outcome["two.pdf"] == (records[1].id, "title")
    assert outcome["three.pdf"] == (None, "")
    assert store.records_with_fulltext(review_with_records.id) == {records[0].id, records[1].id}
    assert "council budget" in store.get_record(records[1].id).record.full_text
    name, content = store.fulltext_file(records[1].id)
    assert name == "two.pdf" and content == by_title
    assert [e.action for e in store.audit_entries(review_with_records.id)].count("fulltext.attach") == 2


def test_single_pdf_replaces_the_earlier_one(store, review_with_records):
    rid = store.list_records(review_with_records.id)[2].id
    attach_pdf(store, rid, _pdf("First version of the paper about green space and the wellbeing of older residents"), "v1.pdf", actor="ana")
    attach_pdf(store, rid, _pdf("Second version of the paper about green space and the wellbeing of older residents"), "v2.pdf", actor="ana")
    assert store.fulltext_file(rid)[0] == "v2.pdf"
    assert "Second version" in store.get_record(rid).record.full_text


def test_encrypted_pdf_is_refused_and_nothing_attached(store, review_with_records):
    rid = store.list_records(review_with_records.id)[2].id
    with pytest.raises(FormatError, match="locked.pdf"):
        attach_pdf(store, rid, _pdf("A secret paper about neighbourhood resilience and local decisions", password="pw"), "locked.pdf", actor="ana")
    assert store.fulltext_file(rid) is None


def test_path_traversal_names_are_reduced_to_the_file_name():
    text = "A paper with enough words in it to count as a real text layer."
    entries = safe_pdf_entries(_zip({"../../etc/evil.pdf": _pdf(text), "/abs/path/ok.pdf": _pdf(text)}))
    assert sorted(name for name, _ in entries) == ["evil.pdf", "ok.pdf"]


def test_zip_bomb_is_refused():
    bomb = _zip({"huge.pdf": b"%PDF-1.4\n" + b"\0" * (80 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    with pytest.raises(FormatError, match="zip bomb|over 60 MB|suspiciously large"):
        safe_pdf_entries(bomb, filename="bomb.zip")


def test_not_a_zip_and_empty_zip():
    with pytest.raises(FormatError, match="not a readable zip"):
        safe_pdf_entries(b"PK but not really", filename="fake.zip")
    with pytest.raises(FormatError, match="no PDF"):
        safe_pdf_entries(_zip({"readme.txt": b"hello"}), filename="empty.zip")
