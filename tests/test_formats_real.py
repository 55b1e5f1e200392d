"""Every real export in ../shared/data/formats/ (68 files from public projects' test suites):
each is read with the number of records its manifest counted, and the records have titles.

The files are not in the repository (their records belong to the databases); a clone without
../shared/ skips these tests and says why.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from reviewkit.formats import ReadNotes, detect_format
from reviewkit.importing import preview_file

FORMATS_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "formats"
MANIFEST = FORMATS_DIR / "MANIFEST.csv"

# The manifest's name for each format, and reviewkit's.
OUR_FORMAT = {"ris": "ris", "bibtex": "bibtex", "medline": "medline", "endnote-xml": "endnote_xml",
              "csv": "csv", "wos-plain": "wos", "wos-tab": "tsv", "xls": "xls",
              "proquest-txt": "proquest"}


def _manifest() -> list[dict[str, str]]:
    if not MANIFEST.exists():
        return []
    with open(MANIFEST, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


ROWS = _manifest()
needs_files = pytest.mark.skipif(
    not ROWS, reason=f"the real exports are not here ({FORMATS_DIR}); they live in the shared "
                     "folder beside the repository, not in it")


@needs_files
@pytest.mark.parametrize("row", ROWS, ids=[row["file_name"] for row in ROWS])
def test_real_export_is_read_whole_with_titles(row):
    data = (FORMATS_DIR / row["file_name"]).read_bytes()
    preview = preview_file(data, row["file_name"])
    want = int(row["record_count"])
    assert preview.count == want, preview.notes.lines()
    titled = [record for record in preview.records if record.title.strip()]
    assert len(titled) == want, [n for n, r in enumerate(preview.records, 1) if not r.title]
    assert preview.format == OUR_FORMAT[row["format"]]


@needs_files
def test_the_manifest_covers_every_file_and_every_format():
    named = {row["file_name"] for row in ROWS}
    present = {p.name for p in FORMATS_DIR.iterdir()} - {"MANIFEST.csv", "README.md"}
    assert named == present
    assert {row["format"] for row in ROWS} == set(OUR_FORMAT)
    assert sum(int(row["record_count"]) for row in ROWS) == 5962


REPAIRS = [
    # (file, words of a note the reader must give, a line it must name)
    ("cochrane-central_ris_favipiravir_1.ris", "text between records ignored", 60),
    ("cab-abstracts-ovid_ris_synthesisr_1.ris", "text between records ignored", 36),
    ("agris-via-endnote_ris_citesource_1.ris", "read as one more 'KW' value", 6),
    ("scopus_csv_litstudy_1.csv", "another funding text", 4),
    ("scopus_bibtex_synthesisr_1.bib", "given twice in one entry ('funding_details')", 2),
    ("springerlink_csv_litstudy_1.csv", "author names written together", 2),
]


@needs_files
@pytest.mark.parametrize(("name", "words", "line"), REPAIRS, ids=[r[0] for r in REPAIRS])
def test_what_was_repaired_in_a_real_export_is_noted_with_its_line(name, words, line):
    notes: ReadNotes = preview_file((FORMATS_DIR / name).read_bytes(), name).notes
    found = [text for text in notes.lines() if words in text]
    assert found, notes.lines()
    assert f" {line}" in found[0].split(":")[0], found[0]


@needs_files
def test_misnamed_web_of_science_file_is_told_by_its_content():
    data = (FORMATS_DIR / "wos_wos-plain_rispy_1.ris").read_bytes()
    assert detect_format(data, "wos_wos-plain_rispy_1.ris") == "wos"


@needs_files
def test_web_of_science_fields_land_in_the_right_places():
    preview = preview_file((FORMATS_DIR / "wos_wos-plain_synthesisr_1.ciw").read_bytes(), "x.ciw")
    first = preview.records[0]
    assert first.title == ("Soil fauna diversity at different stages of reed restoration in a "
                           "lakeshore wetland at Lake Taihu, China")
    assert first.authors[:2] == ["Li, Wei", "Dou, Zhiguo"]
    assert (first.year, first.journal, first.volume, first.issue) == (
        2020, "ECOSYSTEM HEALTH AND SUSTAINABILITY", "6", "1")
    assert first.doi == "10.1080/20964129.2020.1722034"
    assert first.abstract.startswith("Introduction: Wetland soil fauna support material cycling")
    assert first.accession.startswith("WOS:") and first.database == "Web of Science"


@needs_files
def test_scopus_row_with_a_headerless_funding_text_keeps_its_later_columns():
    preview = preview_file((FORMATS_DIR / "scopus_csv_litstudy_1.csv").read_bytes(), "s.csv")
    shifted = preview.records[2]  # line 4 of the file: one field more than the header
    assert shifted.language == "English"
    assert shifted.pmid == "35064163"
    assert shifted.accession == "2-s2.0-85123480963"
    assert shifted.record_type == "journal article"


@needs_files
def test_web_of_science_xls_and_tab_delimited_agree():
    xls = preview_file((FORMATS_DIR / "wos_xls_confounder-review_1.xls").read_bytes(), "s.xls")
    assert xls.records[0].year is not None and xls.records[0].authors
    tab = preview_file((FORMATS_DIR / "wos_wos-tab_wosfile_1.txt").read_bytes(), "t.txt")
    utf8 = preview_file((FORMATS_DIR / "wos_wos-tab_wosfile_2.txt").read_bytes(), "u.txt")
    assert [r.title for r in tab.records] == [r.title for r in utf8.records]


@needs_files
def test_structured_abstract_markup_from_lens_becomes_section_labels():
    preview = preview_file((FORMATS_DIR / "lens_ris_citesource_1.ris").read_bytes(), "l.ris")
    abstracts = [record.abstract for record in preview.records]
    assert not any("AbstractText" in text or "CopyrightInformation" in text for text in abstracts)
    assert sum("METHODS: " in text for text in abstracts) >= 3
