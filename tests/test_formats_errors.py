"""Broken files: a file with nothing bibliographic in it is refused, with a message naming the
file, where, and what is wrong; any other file is read as far as it can be, and every line
ignored, tag moved or value repaired is noted with its line number."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewkit.errors import FormatError
from reviewkit.formats import ReadNotes, read_records

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

REFUSED = [
    # (file name, bytes, words the message must hold, line, record)
    ("empty_records.ris", b"Provider: Example\nDatabase: Nothing\n",
     ["no RIS records"], None, None),
    ("only_broken.bib",
     b"@article{popay2023,\n  title = {Neighbourhood {resilience},\n  year = 2023\n}\n",
     ["no BibTeX entries", "'popay2023' could not be read"], None, None),
    ("comments.bib", b"% Only a comment, no entries\n", ["no BibTeX entries"], None, None),
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
    ("colours.csv", b"Name,Colour\nSmith,red\n", ["no column holds anything", "'Name'"], 1,
     None),
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
    ("empty_wos.txt", b"FN Clarivate Analytics Web of Science\nVR 1.0\nEF\n",
     ["no Web of Science records"], None, None),
]


@pytest.mark.parametrize(("name", "data", "words", "line", "record"), REFUSED,
                         ids=[case[0] for case in REFUSED])
def test_file_with_nothing_bibliographic_is_refused_saying_where_and_why(name, data, words,
                                                                         line, record):
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


LENIENT = [
    # (file name, bytes, records read, words of the note, line the note names)
    ("scopus.ris", TWO_RIS.rsplit("ER  -", 1)[0].encode(), 2, "cut short", 7),
    ("no_end.ris", TWO_RIS.replace("ER  - \n\nTY", "\nTY", 1).encode(), 2,
     "without an 'ER  -' end tag", 1),
    ("after_ty.ris", b"TY  - JOUR\nSmith, John\nTI  - x\nER  - \n", 1,
     "right after a 'TY' line ignored", 2),
    ("spacing.ris", b"TY  - JOUR\nTI  - A title\nAU - Smith, John\nER  - \n", 1,
     "spaced wrongly, read as 'AU'", 3),
    ("orphan.ris", b"AU  - Smith, John\nTY  - JOUR\nTI  - x\nER  - \n", 1,
     "before the first 'TY' line ignored", 1),
    ("between.ris", TWO_RIS.replace("\n\nTY", "\nstray words\nTY", 1).encode(), 2,
     "text between records ignored", 6),
    ("after_er.ris", TWO_RIS.replace("ER  - \n\n", "ER  - \nUR  - https://x.org/1\n", 1).encode(),
     2, "after a record's 'ER' line added to that record", 6),
    ("unbalanced.bib",
     b"@article{ok2020,\n  title = {Fine},\n}\n\n@article{popay2023,\n"
     b"  title = {Neighbourhood {resilience},\n  year = 2023\n}\n", 1,
     "'popay2023' could not be read", 5),
    ("twice.bib", b"@article{a1,\n  title = {One},\n  title = {Two},\n}\n", 1,
     "given twice in one entry ('title')", 1),
    ("stray_brace.bib", b"@article{a1,\n  title = {One}},\n  year = {2020},\n}\n", 1,
     "outside any entry ignored", 2),
    ("pubmed.nbib", b"PMID- 123\nTI  - A title\nthis line is junk\n", 1,
     "neither a 'TAG - value' line nor indented", 3),
    ("no_title.csv", b"Name,Year\nSmith,2020\n", 1, "no column holds titles", 1),
    ("ragged.csv", b"title,year\nOne,2020\nTwo,2021,extra,cells\nThree,2022\n", 3,
     "more fields than the header", 3),
    ("short.csv", b"title,year,doi\nOne,2020\nTwo,2021,10.1/x\n", 2,
     "fewer fields than the header", 2),
    ("quote.csv", b'title,year\nOne,2020\n"Two, never closed,2021\nThree,2022\n', 3,
     "never closed", 3),
    ("after_quote.csv", b'title,year\n"One"x,2020\n"multi\nline",2021\nThree,2022\n', 3,
     "expected after", 2),
    ("cut.xml", b'<?xml version="1.0"?>\n<xml><records>\n<record><titles><title>A</title>'
     b'</titles></record>\n<record><titles><title>B</title></titles></record>\n'
     b"<record><titles><title>C", 2, "the 2 records before it were read", 5),
    ("glued.txt", b"FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Smith, J\nTI A\n"
     b"ER\n\nPT J\nAUJones, K\nTI B\nER\nEF\n", 2, "without a space after it", 9),
]


@pytest.mark.parametrize(("name", "data", "count", "words", "line"), LENIENT,
                         ids=[case[0] for case in LENIENT])
def test_odd_file_is_read_and_what_was_odd_is_noted_with_its_line(name, data, count, words,
                                                                   line):
    notes = ReadNotes()
    records = read_records(data, filename=name, notes=notes)
    assert len(records) == count
    matching = [text for text in notes.lines() if words in text]
    assert matching, notes.lines()
    assert re.search(rf"\blines? (\d+, )*{line}\b", matching[0]), matching[0]


def test_lenient_reads_keep_what_was_repaired():
    ris = read_records(b"TY  - JOUR\nTI  - A title\nAU - Smith, John\nER  - \n")
    assert ris[0].authors == ["Smith, John"]
    bib = read_records(b"@article{a1,\n  title = {One},\n  title = {Two},\n}\n")
    assert bib[0].title == "One" and bib[0].extra["title"] == ["Two"]
    table = read_records(b"title,year\nOne,2020\nTwo,2021,extra,cells\n", filename="r.csv")
    assert table[1].extra == {"column 3": ["extra"], "column 4": ["cells"]}
    after = read_records(TWO_RIS.replace("ER  - \n\n", "ER  - \nUR  - https://x.org/1\n", 1)
                         .encode())
    assert after[0].url == "https://x.org/1" and not after[1].url


def test_a_table_with_many_broken_quotes_stops_retrying_and_says_so():
    data = ("title,year\n" + '"Broken,2020\n' * 50 + "Last,2024\n").encode()
    notes = ReadNotes()
    records = read_records(data, filename="quotes.csv", notes=notes)
    assert len(records) == 20  # read again on their own line, then the rest left unread
    assert any("after 20 such rows the rest of the file was left unread" in line
               and line.startswith("line 22") for line in notes.lines())


def test_notes_stay_short_however_many_lines_are_odd():
    data = ("TY  - JOUR\nTI  - A\nER  - \n" + "junk between records\n" * 5000
            + "TY  - JOUR\nTI  - B\nER  - \n").encode()
    notes = ReadNotes()
    assert len(read_records(data, filename="junk.ris", notes=notes)) == 2
    [line] = notes.lines()
    assert line.startswith("lines 4, 5, 6, 7, 8, 9, 10, 11 and 4,992 more: text between records")
    assert len(notes) == 5000


def test_message_reads_file_record_line_then_reason():
    error = FormatError("the record is broken", file="scopus.ris", record=2, line=7)
    assert str(error) == "scopus.ris, record 2, line 7: the record is broken"


def test_truncated_real_export_keeps_its_last_record_and_says_where_it_starts():
    text = (DATA / "scopus.ris").read_bytes()
    cut = text[: text.rindex(b"ER  -")]
    notes = ReadNotes()
    records = read_records(cut, filename="scopus.ris", notes=notes)
    assert len(records) == 3 and records[2].title
    assert any("cut short" in line for line in notes.lines())


def test_unknown_format_name_is_refused():
    with pytest.raises(FormatError, match="unknown format 'word'"):
        read_records(TWO_RIS.encode(), filename="a.ris", format="word")


def test_column_map_naming_a_missing_field_is_refused():
    with pytest.raises(FormatError, match="'Paper' to 'headline'"):
        read_records(b"Paper,Year\nA,2020\n", filename="a.csv", column_map={"Paper": "headline"})


def test_forced_format_that_does_not_fit_says_so():
    with pytest.raises(FormatError, match=r"a\.ris.*no RIS records"):
        read_records(b"@article{a, title={x}}\n", filename="a.ris", format="ris")
