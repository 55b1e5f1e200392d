"""Broken files: each is refused whole, with a message naming the file, where, and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewkit.errors import FormatError
from reviewkit.formats import read_records

DATA = Path(__file__).parent / "data" / "formats"

TWO_RIS = (
    "TY  - JOUR\n"          # 1
    "AU  - Popay, J.\n"     # 2
    "TI  - Neighbourhood system resilience\n"
    "PY  - 2023\n"
    "ER  - \n"              # 5
    "\n"
    "TY  - JOUR\n"          # 7
    "TI  - Developing resilient communities\n"
    "PY  - 2018\n"
    "ER  - \n"              # 10
)

BROKEN = [
    # (file name, bytes, words the message must hold, line, record)
    ("scopus.ris", TWO_RIS.rsplit("ER  -", 1)[0].encode(),
     ["no 'ER  -' end tag", "cut short"], 7, 2),
    ("no_end.ris", TWO_RIS.replace("ER  - \n\nTY", "\nTY", 1).encode(),
     ["began on line 1", "no 'ER  -' end tag"], 6, 1),
    ("after_ty.ris", b"TY  - JOUR\nSmith, John\nTI  - x\nER  - \n",
     ["not a RIS tag line", "'TY'"], 2, 1),
    ("spacing.ris", b"TY  - JOUR\nTI  - A title\nAU - Smith, John\nER  - \n",
     ["looks like a 'AU' tag", "two spaces"], 3, 1),
    ("orphan.ris", b"AU  - Smith, John\nTY  - JOUR\nER  - \n",
     ["'AU'", "before the first record", "TY"], 1, None),
    ("between.ris", TWO_RIS.replace("\n\nTY", "\nstray words\nTY", 1).encode(),
     ["between records", "stray words"], 6, None),
    ("empty_records.ris", b"Provider: Example\nDatabase: Nothing\n",
     ["no RIS records"], None, None),
    ("unbalanced.bib",
     b"@article{ok2020,\n  title = {Fine},\n}\n\n@article{popay2023,\n"
     b"  title = {Neighbourhood {resilience},\n  year = 2023\n}\n",
     ["'popay2023'", "unbalanced"], 5, 2),
    ("twice.bib", b"@article{a1,\n  title = {One},\n  title = {Two},\n}\n",
     ["'a1'", "'title' more than once"], 1, 1),
    ("stray_brace.bib", b"@article{a1,\n  title = {One}},\n  year = {2020},\n}\n",
     ["outside any entry", "stray '}'"], 2, 1),
    ("comments.bib", b"% Only a comment, no entries\n", ["no BibTeX entries"], None, None),
    ("pubmed.nbib", b"PMID- 123\nTI  - A title\nthis line is junk\n",
     ["neither a MEDLINE tag line", "junk"], 3, 1),
    ("malformed.xml",
     b'<?xml version="1.0"?>\n<xml><records><record>\n<titles><title>A</title>\n</record>\n',
     ["XML is malformed", "mismatched tag"], 4, None),
    ("bomb.xml",
     b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><records></records></xml>',
     ["entities"], None, None),
    ("empty_library.xml", b'<?xml version="1.0"?><xml><records></records></xml>',
     ["no EndNote records"], None, None),
    ("pubmed.xml", b'<?xml version="1.0"?>\n<PubmedArticleSet><PubmedArticle/></PubmedArticleSet>',
     ["PubMed XML", ".nbib"], None, None),
    ("no_title.csv", b"Name,Year\nSmith,2020\n", ["no column holds titles", "'Name'"], 1, None),
    ("ragged.csv", b"title,year\nOne,2020\nTwo,2021,extra,cells\nThree,2022\n",
     ["4 fields", "header row has 2"], 3, 2),
    ("quote.csv", b'title,year\nOne,2020\n"Two, never closed,2021\nThree,2022\n',
     ["never closed"], 3, 2),
    ("header_only.csv", b"title,authors,year\n", ["no records"], None, None),
    ("empty.ris", b"", ["the file is empty"], None, None),
    ("blank.csv", b"  \r\n \n\t", ["the file is empty"], None, None),
    ("bom_only.ris", b"\xef\xbb\xbf\r\n", ["the file is empty"], None, None),
    ("binary.ris", bytes(range(256)) * 20, ["binary"], None, None),
    ("utf16.ris", TWO_RIS.encode("utf-16-le"), ["UTF-16", "byte-order mark", "UTF-8"], None, None),
    ("sheet.csv", b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), ["ZIP", "CSV"], None, None),
    ("bad_bom.ris", b"\xef\xbb\xbfTY  - JOUR\n\xff\xfe\xfd\n", ["UTF-8", "re-save"], 2, None),
    ("notes", b"These are my notes about the search\nand nothing else\n",
     ["could not recognise"], None, None),
    ("savedrecs.txt", b"FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Smith, J\nER\nEF\n",
     ["Web of Science plain-text", "RIS"], None, None),
]


@pytest.mark.parametrize(("name", "data", "words", "line", "record"), BROKEN,
                         ids=[case[0] for case in BROKEN])
def test_broken_file_is_refused_saying_where_and_why(name, data, words, line, record):
    with pytest.raises(FormatError) as caught:
        read_records(data, filename=name)
    error = caught.value
    message = str(error)
    assert message.startswith(f"{name}, ") or message.startswith(f"{name}: ")
    for word in words:
        assert word in message
    assert error.file == name
    assert error.line == line
    assert error.record == record


def test_message_reads_file_record_line_then_reason():
    data = TWO_RIS.rsplit("ER  -", 1)[0].encode()
    with pytest.raises(FormatError) as caught:
        read_records(data, filename="scopus.ris")
    assert str(caught.value) == ("scopus.ris, record 2, line 7: the record has no 'ER  -' end tag "
                                 "(the file may be cut short)")


def test_truncated_real_export_names_its_last_record():
    text = (DATA / "scopus.ris").read_bytes()
    cut = text[: text.rindex(b"ER  -")]
    with pytest.raises(FormatError, match=r"scopus\.ris, record 3, line \d+: .*cut short"):
        read_records(cut, filename="scopus.ris")


def test_unknown_format_name_is_refused():
    with pytest.raises(FormatError, match="unknown format 'word'"):
        read_records(TWO_RIS.encode(), filename="a.ris", format="word")


def test_column_map_naming_a_missing_field_is_refused():
    with pytest.raises(FormatError, match="'Paper' to 'headline'"):
        read_records(b"Paper,Year\nA,2020\n", filename="a.csv", column_map={"Paper": "headline"})


def test_forced_format_that_does_not_fit_says_so():
    with pytest.raises(FormatError, match=r"a\.ris.*no RIS records"):
        read_records(b"@article{a, title={x}}\n", filename="a.ris", format="ris")
