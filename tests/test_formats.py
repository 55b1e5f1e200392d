"""The byte-level entry points of reviewkit.formats: decoding, detection, dispatch, column maps."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import reviewkit.formats as formats
from reviewkit.errors import FormatError
from reviewkit.formats import (
    EXPORT_FORMATS,
    FORMATS,
    decode_bytes,
    detect_format,
    read_records,
    suggest_column_map,
    write_records,
)
from reviewkit.formats.fields import clean
from reviewkit.records import Record, clean_text

RIS = "TY  - JOUR\nTI  - Café society and loneliness\nAU  - Ó Briain, S.\nPY  - 2019\nER  - \n"


def test_public_api_is_declared_and_present():
    assert set(formats.__all__) >= {
        "FORMATS", "EXPORT_FORMATS", "decode_bytes", "detect_format", "read_records",
        "write_records", "read_ris", "write_ris", "read_bibtex", "write_bibtex", "read_medline",
        "read_endnote_xml", "read_csv", "write_csv", "suggest_column_map", "read_pdf"}
    assert all(hasattr(formats, name) for name in formats.__all__)
    assert FORMATS == ("ris", "bibtex", "medline", "endnote_xml", "csv", "tsv", "pdf", "wos",
                       "proquest", "refer", "xlsx", "xls")
    assert EXPORT_FORMATS == ("ris", "bibtex", "csv")


ENCODINGS = [
    ("utf-8", RIS.encode("utf-8")),
    ("utf-8 with BOM", codecs.BOM_UTF8 + RIS.encode("utf-8")),
    ("utf-16 LE with BOM", codecs.BOM_UTF16_LE + RIS.encode("utf-16-le")),
    ("utf-16 BE with BOM", codecs.BOM_UTF16_BE + RIS.encode("utf-16-be")),
    ("windows line ends", RIS.replace("\n", "\r\n").encode("utf-8")),
    ("old mac line ends", RIS.replace("\n", "\r").encode("utf-8")),
    ("latin-1", RIS.encode("latin-1")),
    ("cp1252", RIS.replace("Café", "Café – ").encode("cp1252")),
]


@pytest.mark.parametrize(("label", "data"), ENCODINGS, ids=[e[0] for e in ENCODINGS])
def test_decode_bytes_handles_the_encodings_exports_come_in(label, data):
    text = decode_bytes(data, filename="x.ris")
    assert "\r" not in text and not text.startswith("\ufeff")
    assert "Café" in text and "Ó Briain" in text
    assert read_records(data, filename="x.ris")[0].authors == ["Ó Briain, S."]


def test_decode_bytes_refuses_utf16_without_bom_plainly():
    with pytest.raises(FormatError, match="UTF-16 text without a byte-order mark"):
        decode_bytes(RIS.encode("utf-16-le"), filename="x.ris")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_decode_bytes_only_ever_raises_format_error(data):
    try:
        text = decode_bytes(data, filename="random.bin")
    except FormatError as error:
        assert error.file == "random.bin"
    else:
        assert "\r" not in text and text.strip()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_read_records_on_any_text_returns_records_or_raises_format_error(text):
    try:
        records = read_records(text.encode("utf-8"), filename="any.txt")
    except FormatError:
        return
    assert records and all(isinstance(r, Record) for r in records)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=120))
def test_fast_clean_agrees_with_clean_text(value):
    assert clean(value) == clean_text(value)


@pytest.mark.parametrize(("raw", "clean_value"), [
    ("Effect on <i>loneliness</i> in CO<sub>2</sub>-rich air", "Effect on loneliness in CO2-rich air"),
    ("<jats:p>Residents <jats:italic>led</jats:italic> it.</jats:p>", "Residents led it."),
    ('<span class="x">Asset</span> mapping<br/>', "Asset mapping"),
    # comparisons and other angle brackets are text, not markup
    ("wellbeing improved (p < 0.05 and q > 1)", "wellbeing improved (p < 0.05 and q > 1)"),
    ("age <65 vs >=65 years", "age <65 vs >=65 years"),
    ("<script>alert(1)</script> title", "<script>alert(1)</script> title"),
])
def test_clean_text_drops_markup_but_keeps_angle_brackets_that_are_text(raw, clean_value):
    assert clean_text(raw) == clean_value
    assert clean(raw) == clean_value


DETECT = [
    (b"%PDF-1.7\n...", "paper.bin", "pdf"),
    (b'<?xml version="1.0"?><xml><records><record/></records></xml>', "lib.txt", "endnote_xml"),
    (b"<xml><records><record></record></records></xml>", "", "endnote_xml"),
    (b"Provider: Example\n\nTY  - JOUR\nER  - \n", "", "ris"),
    (b"PMID- 12345\nTI  - x\n", "", "medline"),
    (b"% Encoding: UTF-8\n\n@Article{key2020,\n title={x}}\n", "", "bibtex"),
    (b"title,year\nA,2020\n", "", "csv"),
    (b"Title;Authors;Year\nA;B;2020\n", "", "csv"),
    (b"TI\tAU\tPY\nA\tB\t2020\n", "", "tsv"),
    (b"TI\tAU\tPY\nA\tB\t2020\n", "export.csv", "tsv"),  # content beats the extension
    (b"% a note, with a comma\n", "refs.bib", "bibtex"),  # extension breaks the tie
]


@pytest.mark.parametrize(("data", "filename", "expected"), DETECT)
def test_detect_format_reads_content_first(data, filename, expected):
    assert detect_format(data, filename) == expected


def test_detect_format_names_the_file_it_cannot_place():
    with pytest.raises(FormatError, match=r"^mystery: could not recognise"):
        detect_format(b"just some words\n", "mystery")


COLUMN_MAPS = [
    (["Authors", "Author full names", "Title", "Year", "Source title", "Page start", "Page end",
      "DOI", "Source", "EID"],
     {"Authors": "", "Author full names": "authors", "Title": "title", "Year": "year",
      "Source title": "journal", "Page start": "pages", "Page end": "pages", "DOI": "doi",
      "Source": "database", "EID": "accession"}),
    (["Article Title", "Author Full Names", "Publication Year", "Source Title", "Start Page",
      "End Page", "DOI", "Pubmed Id", "UT (Unique WOS ID)"],
     {"Article Title": "title", "Author Full Names": "authors", "Publication Year": "year",
      "Source Title": "journal", "Start Page": "pages", "End Page": "pages", "DOI": "doi",
      "Pubmed Id": "pmid", "UT (Unique WOS ID)": "accession"}),
    (["PT", "AU", "AF", "TI", "SO", "PY", "DI", "ID", "UT"],
     {"PT": "record_type", "AU": "", "AF": "authors", "TI": "title", "SO": "journal",
      "PY": "year", "DI": "doi", "ID": "", "UT": "accession"}),
    (["Key", "Item Type", "Publication Year", "Author", "Title", "Publication Title",
      "Abstract Note", "Manual Tags"],
     {"Key": "source_id", "Item Type": "record_type", "Publication Year": "year",
      "Author": "authors", "Title": "title", "Publication Title": "journal",
      "Abstract Note": "abstract", "Manual Tags": "keywords"}),
    (["record_id", "title", "Journal", "Source", "notes on screening"],
     {"record_id": "source_id", "title": "title", "Journal": "journal", "Source": "",
      "notes on screening": ""}),
]


@pytest.mark.parametrize(("headers", "expected"), COLUMN_MAPS)
def test_suggest_column_map_knows_the_big_exports(headers, expected):
    assert suggest_column_map(headers) == expected


def test_column_map_from_the_person_importing_wins():
    data = b"Ref,Paper,Writers,When\ns1,Health champions,\"Smith, A.; Jones, B.\",2016\n"
    mapping = {"Ref": "source_id", "Paper": "title", "Writers": "authors", "When": "year"}
    record = read_records(data, filename="sheet.csv", column_map=mapping)[0]
    assert (record.source_id, record.title, record.year) == ("s1", "Health champions", 2016)
    assert record.authors == ["Smith, A.", "Jones, B."]


def test_tsv_and_semicolon_csv_are_read():
    tsv = b"Title\tAuthors\tYear\nA study\tSmith, J.; Lee, K.\t2020\n"
    semicolon = b"Title;Authors;Year\nA study;Smith, J.;2020\n"
    assert read_records(tsv, filename="a.tsv")[0].authors == ["Smith, J.", "Lee, K."]
    assert read_records(semicolon, filename="b.csv")[0].year == 2020


def test_write_records_refuses_a_format_it_cannot_write():
    with pytest.raises(FormatError, match="cannot write 'medline'"):
        write_records([Record(title="x")], "medline")


@given(st.text(alphabet="abc XYZ{}-`'%&.,0123\\\\_$#", max_size=40))
def test_bibtex_fast_path_agrees_with_the_latex_decoder(text):
    """Plain braces and dashes skip the (slow) LaTeX parser but must read the same."""
    from reviewkit.formats import bibtex

    assume(text.count("{") == text.count("}"))
    assume(not bibtex._COMMANDS.search(bibtex._RAW_ESCAPE.sub("", text)))
    slow = bibtex._DECODER.latex_to_text(bibtex._BARE_SPECIAL.sub(r"\\\1", text))
    assert bibtex.decode_latex(text) == slow
