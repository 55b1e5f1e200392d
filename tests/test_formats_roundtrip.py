"""Writing what was read gives the same records back: for real exports and for random records."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reviewkit.formats import (
    read_bibtex,
    read_csv,
    read_records,
    read_ris,
    write_bibtex,
    write_csv,
    write_records,
    write_ris,
)
from reviewkit.formats.fields import clean
from reviewkit.records import RECORD_TYPES, Record

DATA = Path(__file__).parent / "data" / "formats"

SAME_FORMAT = [
    ("scopus.ris", "ris"),
    ("web_of_science.ris", "ris"),
    ("ovid_medline.ris", "ris"),
    ("ebsco_cinahl_latin1.ris", "ris"),
    ("zotero.bib", "bibtex"),
    ("google_scholar.bib", "bibtex"),
    ("scopus.csv", "csv"),
    ("spreadsheet_with_ids.csv", "csv"),
    ("web_of_science.tsv", "csv"),
]


@pytest.mark.parametrize(("name", "format"), SAME_FORMAT, ids=[f"{n}->{f}" for n, f in SAME_FORMAT])
def test_read_write_read_gives_equal_records(name, format):
    first = read_records((DATA / name).read_bytes(), filename=name)
    written = write_records(first, format)
    again = read_records(written, filename=f"again.{format}")
    assert again == first


@pytest.mark.parametrize("name", [n for n in (p.name for p in DATA.iterdir())])
@pytest.mark.parametrize("format", ["ris", "bibtex", "csv"])
def test_every_sample_exports_to_every_format_keeping_the_core(name, format):
    first = read_records((DATA / name).read_bytes(), filename=name)
    again = read_records(write_records(first, format), filename=f"export.{format}")
    for field in ("title", "authors", "year", "journal", "volume", "issue", "pages", "doi",
                  "abstract", "keywords", "record_type"):
        assert [getattr(r, field) for r in again] == [getattr(r, field) for r in first], field


def test_export_does_not_leak_another_formats_tags():
    # MEDLINE's AU (short names) and IS (ISSN) mean other things in RIS.
    pubmed = read_records((DATA / "pubmed.nbib").read_bytes(), filename="pubmed.nbib")
    ris = write_ris(pubmed)
    assert "AU  - Lindgren M\n" not in ris and "IS  - 0002-8614" not in ris
    assert read_ris(ris)[0].authors == ["Lindgren, Maria", "Oyelaran, Kunle"]
    endnote = read_records((DATA / "endnote.xml").read_bytes(), filename="endnote.xml")
    assert "ref-type" not in write_bibtex(endnote)


def test_csv_starts_with_a_bom_and_the_agreed_columns():
    records = read_records((DATA / "scopus.ris").read_bytes(), filename="scopus.ris")
    data = write_records(records, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    header = data[3:].decode("utf-8").split("\r\n", 1)[0]
    assert header.startswith("record_id,title,authors,year,journal,volume,issue,pages,doi,abstract")
    rows = read_csv(data[3:].decode("utf-8"))
    # Scopus RIS records carry no id of their own, so the row number stands in.
    assert [r.source_id for r in rows] == ["1", "2", "3"]


def test_csv_keeps_source_ids_as_record_ids():
    records = read_records((DATA / "endnote.xml").read_bytes(), filename="endnote.xml")
    lines = write_csv(records).splitlines()
    assert [line.split(",", 1)[0] for line in lines[1:]] == ["17", "18", "21"]


def test_ris_output_is_one_tag_per_line_between_ty_and_er():
    records = read_records((DATA / "ovid_medline.ris").read_bytes(), filename="ovid.ris")
    text = write_ris(records)
    blocks = [b.strip("\n") for b in text.split("\n\n") if b.strip()]
    assert len(blocks) == 3
    for block in blocks:
        lines = block.split("\n")
        assert lines[0].startswith("TY  - ") and lines[-1] == "ER  - "
        assert all(line[2:6] == "  - " for line in lines)
    assert "SP  - 455\nEP  - 467" in text
    assert write_records(records, "ris").count(b"\r\n") == text.count("\n")


def test_bibtex_output_escapes_latex_specials_and_braces_organisations():
    record = Record(title="50% of A & B_C {sic}", authors=["World Health Organization",
                                                          "Smith, Jane"], year=2020)
    text = write_bibtex([record])
    assert r"50\% of A \& B\_C \{sic\}" in text
    assert "author = {{World Health Organization} and Smith, Jane}" in text
    back = read_bibtex(text)[0]
    assert (back.title, back.authors) == (record.title, record.authors)


# --- property tests -------------------------------------------------------------------------

_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Co", "Cn")), max_size=60)
_plain = st.text(alphabet=string.ascii_letters + string.digits + " .,:;'()-/?!", max_size=40)


def _clean_text():
    """Text that reading would leave as it is (the fixed points of clean)."""
    return _text.map(clean).filter(lambda value: clean(value) == value)


@st.composite
def records(draw, *, name_text=None):
    if name_text is None:
        name_text = _clean_text()
    first_page = draw(st.integers(1, 5000))
    pages = draw(st.sampled_from(["", str(first_page), f"{first_page}-{first_page + 9}",
                                  f"e{first_page}"]))
    suffix = draw(st.text(alphabet=string.ascii_lowercase + string.digits + "._-/", min_size=1,
                          max_size=20))
    doi = f"10.{draw(st.integers(1000, 99999))}/x{suffix}"
    assume(doi == doi.rstrip(".,;)]}>\"'"))
    authors = draw(st.lists(name_text.filter(lambda n: n and ";" not in n), max_size=4))
    return Record(
        title=draw(_clean_text().filter(bool)),
        authors=authors,
        year=draw(st.none() | st.integers(1800, 2099)),
        journal=draw(_clean_text()),
        volume=draw(st.sampled_from(["", "12", "3A"])),
        issue=draw(st.sampled_from(["", "1", "19/20"])),
        pages=pages,
        doi=draw(st.sampled_from(["", doi])),
        abstract=draw(_clean_text()),
        keywords=draw(st.lists(_clean_text().filter(lambda k: k and ";" not in k and "," not in k),
                               max_size=3)),
        record_type=draw(st.sampled_from(RECORD_TYPES)),
        source_id=draw(st.sampled_from(["", "rec1", "42"])),
    )


_CORE = ("title", "authors", "year", "journal", "volume", "issue", "pages", "doi", "abstract",
         "keywords", "record_type")


def _core(record: Record) -> tuple:
    return tuple(getattr(record, field) for field in _CORE)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=4))
def test_random_records_round_trip_through_ris(original):
    first = read_ris(write_ris(original))
    assert [_core(r) for r in first] == [_core(r) for r in original]
    assert read_ris(write_ris(first)) == first


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), min_size=1, max_size=4))
def test_random_records_round_trip_through_csv(original):
    first = read_csv(write_csv(original))
    assert [_core(r) for r in first] == [_core(r) for r in original]
    assert [r.source_id for r in first] == [r.source_id or str(i)
                                             for i, r in enumerate(original, 1)]
    assert read_csv(write_csv(first)) == first


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(name_text=_plain.map(clean)), min_size=1, max_size=3))
def test_random_records_round_trip_through_bibtex(original):
    first = read_bibtex(write_bibtex(original))
    assert read_bibtex(write_bibtex(first)) == first
    for before, after in zip(original, first):
        assert (after.title, after.year, after.doi, after.pages) == (
            before.title, before.year, before.doi, before.pages)


@pytest.mark.parametrize("title", ["!`{", "?`Que?", "Why?`not`", "a--b", "``quoted''"])
def test_latex_ligatures_in_a_title_come_back_as_written(title):
    # '!`' and '?`' are LaTeX's inverted marks (found by the random round trip above once,
    # a title '!`{' read back as '¡{'); '--' and doubled quotes are ligatures too
    (back,) = read_bibtex(write_bibtex([Record(title=title, year=2020)]))
    assert back.title == title
