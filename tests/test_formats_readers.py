"""Each reader against real-shaped exports in tests/data/formats, one row per fact checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewkit.formats import detect_format, read_records

DATA = Path(__file__).parent / "data" / "formats"


def _read(name: str):
    return read_records((DATA / name).read_bytes(), filename=name)


FILES = [
    # (file, detected format, number of records)
    ("scopus.ris", "ris", 3),
    ("web_of_science.ris", "ris", 3),
    ("ovid_medline.ris", "ris", 3),
    ("ebsco_cinahl_latin1.ris", "ris", 2),
    ("zotero.bib", "bibtex", 4),
    ("google_scholar.bib", "bibtex", 4),
    ("pubmed.nbib", "medline", 3),
    ("endnote.xml", "endnote_xml", 3),
    ("scopus.csv", "csv", 3),
    ("spreadsheet_with_ids.csv", "csv", 4),
    ("web_of_science.tsv", "tsv", 3),
]


@pytest.mark.parametrize(("name", "format", "count"), FILES, ids=[f[0] for f in FILES])
def test_sample_is_detected_and_fully_read(name, format, count):
    data = (DATA / name).read_bytes()
    assert detect_format(data, name) == format
    assert detect_format(data, "renamed.txt") == format  # content decides, not the extension
    records = read_records(data, filename=name)
    assert len(records) == count
    assert all(record.title for record in records)


EXPECTED = [
    # Scopus RIS: UTF-8 with a BOM, Windows line endings, T2 journal, AU authors, AB abstract.
    ("scopus.ris", 0, "title",
     "Social prescribing for loneliness in older adults: A mixed-methods evaluation in three "
     "English regions"),
    ("scopus.ris", 0, "authors", ["Nguyen, T.H.", "O'Connor, M.", "Kowalski, P."]),
    ("scopus.ris", 0, "year", 2022),
    ("scopus.ris", 0, "journal", "Health and Social Care in the Community"),
    ("scopus.ris", 0, "pages", "e2104-e2116"),
    ("scopus.ris", 0, "doi", "10.1111/hsc.13650"),
    ("scopus.ris", 0, "database", "Scopus"),
    ("scopus.ris", 0, "issn", "09660410"),
    ("scopus.ris", 0, "keywords", ["loneliness", "older adults", "social prescribing"]),
    ("scopus.ris", 0, "extra.M3", ["Article"]),
    # ... A1 authors, DA year, N2 abstract
    ("scopus.ris", 1, "authors", ["Fischer, Ö.", "Lindqvist, E."]),
    ("scopus.ris", 1, "year", 2021),
    ("scopus.ris", 1, "abstract",
     "Carers of people with dementia often report isolation. This review synthesised 27 studies "
     "of peer support groups. Most found small improvements in carer wellbeing; evidence on "
     "burden was mixed."),
    ("scopus.ris", 2, "record_type", "conference paper"),
    ("scopus.ris", 2, "isbn", "9781643684123"),
    ("scopus.ris", 2, "doi", "10.3233/shti230241"),
    # Web of Science RIS: T2 or SO for the journal, AN accession, two ISSNs.
    ("web_of_science.ris", 0, "journal", "BMC PUBLIC HEALTH"),
    ("web_of_science.ris", 0, "accession", "WOS:000678912300004"),
    ("web_of_science.ris", 0, "source_id", "WOS:000678912300004"),
    ("web_of_science.ris", 0, "database", "Web of Science"),
    ("web_of_science.ris", 0, "extra.DA", ["JUL 22 2021"]),
    ("web_of_science.ris", 1, "journal", "AGE AND AGEING"),
    ("web_of_science.ris", 1, "pages", "620-626"),
    ("web_of_science.ris", 1, "issn", "0002-0729"),
    ("web_of_science.ris", 1, "extra.SN", ["1468-2834"]),
    ("web_of_science.ris", 2, "record_type", "book"),
    ("web_of_science.ris", 2, "isbn", "978-1-138-55555-2"),
    ("web_of_science.ris", 2, "place_published", "London"),
    # Ovid MEDLINE RIS: T1, A1, Y1, N2 over several lines, JF, short end page, two URs.
    ("ovid_medline.ris", 0, "title",
     "Nurse-led transitional care for older adults with heart failure: a randomized "
     "controlled trial."),
    ("ovid_medline.ris", 0, "authors", ["Haddad, Rania", "Abou-Saleh, Karim", "Mansour, Lina"]),
    ("ovid_medline.ris", 0, "year", 2022),
    ("ovid_medline.ris", 0, "journal", "Journal of Advanced Nursing"),
    ("ovid_medline.ris", 0, "pages", "455-467"),
    ("ovid_medline.ris", 0, "doi", "10.1111/jan.15012"),
    ("ovid_medline.ris", 0, "pmid", "35012345"),
    ("ovid_medline.ris", 0, "source_id", "35012345"),
    ("ovid_medline.ris", 0, "database", "Ovid MEDLINE(R) ALL"),
    ("ovid_medline.ris", 1, "title",
     "Telehealth exercise programmes for people with chronic obstructive pulmonary disease: a "
     "systematic review and meta-analysis."),
    ("ovid_medline.ris", 1, "keywords",
     ["Exercise Therapy/mt [Methods]", "Humans",
      "*Pulmonary Disease, Chronic Obstructive/rh [Rehabilitation]", "*Telemedicine"]),
    ("ovid_medline.ris", 2, "record_type", "book chapter"),
    ("ovid_medline.ris", 2, "journal", "Handbook of Ageing and Health"),
    # EBSCO CINAHL RIS in Latin-1: T1, JO, Y1 with month, many KW, DP, AN.
    ("ebsco_cinahl_latin1.ris", 0, "authors",
     ["Gonçalves, Beatriz", "Müller, Jürgen", "Sørensen, Anne"]),
    ("ebsco_cinahl_latin1.ris", 0, "journal", "Journal of Clinical Nursing"),
    ("ebsco_cinahl_latin1.ris", 0, "year", 2021),
    ("ebsco_cinahl_latin1.ris", 0, "issue", "19/20"),
    ("ebsco_cinahl_latin1.ris", 0, "accession", "155123456"),
    ("ebsco_cinahl_latin1.ris", 0, "database", "cin20"),
    ("ebsco_cinahl_latin1.ris", 0, "extra.DP", ["EBSCOhost"]),
    ("ebsco_cinahl_latin1.ris", 0, "extra.Y1", ["2021/09//"]),
    ("ebsco_cinahl_latin1.ris", 1, "title",
     "Café conversations: a community approach to dementia awareness"),
    ("ebsco_cinahl_latin1.ris", 1, "authors", ["Léger, Amélie"]),
    # Zotero BibTeX: braces protecting capitals, LaTeX accents, bare month, @book/@incollection.
    ("zotero.bib", 0, "title",
     "Loneliness and Social Isolation among Older Adults in Lebanon: a cross-sectional survey"),
    ("zotero.bib", 0, "authors", ["Haddad, Rania", "Abou-Saleh, Karim", "Schönfeld, Lena"]),
    ("zotero.bib", 0, "journal", "BMC Geriatrics"),
    ("zotero.bib", 0, "issue", "1"),
    ("zotero.bib", 0, "source_id", "haddad_loneliness_2022"),
    ("zotero.bib", 0, "keywords", ["Loneliness", "Older adults", "Social isolation"]),
    ("zotero.bib", 0, "extra.month", ["may"]),
    ("zotero.bib", 0, "abstract",
     "Background: Little is known about loneliness in later life in Lebanon. Methods: We "
     "surveyed 1 204 adults aged 65 and over. Results: 38% reported feeling lonely often or "
     "always."),
    ("zotero.bib", 1, "authors", ["World Health Organization"]),
    ("zotero.bib", 1, "record_type", "book"),
    ("zotero.bib", 1, "place_published", "Geneva"),
    ("zotero.bib", 2, "record_type", "book chapter"),
    ("zotero.bib", 2, "journal", "Frailty in Older Adults: A Practical Guide"),
    ("zotero.bib", 2, "authors", ["Nakamura, Kenji", "Fernández, Lucía"]),
    ("zotero.bib", 2, "pages", "45-62"),
    ("zotero.bib", 2, "doi", "10.1007/978-3-030-12345-6_4"),
    ("zotero.bib", 2, "extra.editor", ["Rivera, Ana"]),
    ("zotero.bib", 3, "title", "Social isolation & loneliness: evidence brief – 2021 update"),
    ("zotero.bib", 3, "authors", ["Tremblay, Marie-Ève", "O'Brien, Sean"]),
    ("zotero.bib", 3, "record_type", "report"),
    ("zotero.bib", 3, "publisher", "Public Health Agency of Canada"),
    # Google Scholar BibTeX: {\'\i}, @inproceedings, @misc with \url, @phdthesis.
    ("google_scholar.bib", 0, "authors", ["Smith, Jane", "O'Neill, Patrick", "García, María"]),
    ("google_scholar.bib", 0, "journal", "Age and ageing"),
    ("google_scholar.bib", 0, "pages", "345-352"),
    ("google_scholar.bib", 1, "record_type", "conference paper"),
    ("google_scholar.bib", 1, "title", "A chatbot for COVID-19 vaccine questions in Cantonese"),
    ("google_scholar.bib", 1, "journal",
     "Proceedings of the 2021 Conference on Empirical Methods in Natural Language Processing"),
    ("google_scholar.bib", 2, "record_type", "other"),
    ("google_scholar.bib", 2, "authors", ["Ahmed, Sara", "Brückner, Tobias"]),
    ("google_scholar.bib", 2, "extra.howpublished", ["https://osf.io/abcd1"]),
    ("google_scholar.bib", 3, "record_type", "thesis"),
    ("google_scholar.bib", 3, "title", "Ageing in place in rural Ireland"),
    ("google_scholar.bib", 3, "publisher", "University College Cork"),
    # PubMed .nbib: indented continuation lines, FAU over AU, LID [doi], MeSH and OT keywords.
    ("pubmed.nbib", 0, "title",
     "Home-based resistance training and physical function in frail older adults: a "
     "pragmatic randomized trial."),
    ("pubmed.nbib", 0, "authors", ["Lindgren, Maria", "Oyelaran, Kunle"]),
    ("pubmed.nbib", 0, "year", 2023),
    ("pubmed.nbib", 0, "journal", "Journal of the American Geriatrics Society"),
    ("pubmed.nbib", 0, "volume", "71"),
    ("pubmed.nbib", 0, "issue", "1"),
    ("pubmed.nbib", 0, "pages", "112-124"),
    ("pubmed.nbib", 0, "doi", "10.1111/jgs.18123"),
    ("pubmed.nbib", 0, "pmid", "36512345"),
    ("pubmed.nbib", 0, "source_id", "36512345"),
    ("pubmed.nbib", 0, "issn", "1532-5415"),
    ("pubmed.nbib", 0, "language", "eng"),
    ("pubmed.nbib", 0, "database", "PubMed"),
    ("pubmed.nbib", 0, "extra.PT", ["Journal Article", "Randomized Controlled Trial"]),
    ("pubmed.nbib", 0, "keywords",
     ["frailty", "resistance training", "Aged, 80 and over", "*Frailty/therapy", "Humans",
      "*Resistance Training"]),
    ("pubmed.nbib", 1, "authors", ["Ó Briain, Niamh", "Keane, Colm"]),
    ("pubmed.nbib", 1, "doi", "10.1186/s12889-022-12678-9"),
    ("pubmed.nbib", 2, "record_type", "book chapter"),
    ("pubmed.nbib", 2, "publisher", "StatPearls Publishing"),
    # EndNote XML: <style> runs inside titles, rec-number, ref-type names.
    ("endnote.xml", 0, "title",
     "Exercise for preventing falls in older people living in the community: an updated "
     "Cochrane review"),
    ("endnote.xml", 0, "authors", ["Sherrington, Catherine", "Tiedemann, Anne"]),
    ("endnote.xml", 0, "journal", "British Journal of Sports Medicine"),
    ("endnote.xml", 0, "year", 2020),
    ("endnote.xml", 0, "doi", "10.1136/bjsports-2019-101512"),
    ("endnote.xml", 0, "pmid", "31727631"),
    ("endnote.xml", 0, "issn", "0306-3674"),
    ("endnote.xml", 0, "source_id", "17"),
    ("endnote.xml", 0, "keywords", ["Accidental Falls/*prevention & control", "Exercise"]),
    ("endnote.xml", 0, "extra.ref-type", ["Journal Article"]),
    ("endnote.xml", 1, "record_type", "book chapter"),
    ("endnote.xml", 1, "extra.secondary-authors", ["Kumar, Ravi"]),
    ("endnote.xml", 1, "isbn", "978-981-12-0001-1"),
    ("endnote.xml", 2, "record_type", "report"),
    ("endnote.xml", 2, "authors", ["Public Health England"]),
    # Scopus CSV: full author names without Scopus ids, page start and end, EID, Source.
    ("scopus.csv", 0, "authors", ["Nguyen, Thi Hoa", "O'Connor, Mairead", "Kowalski, Piotr"]),
    ("scopus.csv", 0, "journal", "Health and Social Care in the Community"),
    ("scopus.csv", 0, "pages", "e2104-e2116"),
    ("scopus.csv", 0, "accession", "2-s2.0-85118263874"),
    ("scopus.csv", 0, "database", "Scopus"),
    ("scopus.csv", 0, "abstract",
     'Social prescribing connects people with non-clinical community support, such as '
     '"men\'s sheds" and walking groups.'),
    ("scopus.csv", 0, "extra.Authors", ["Nguyen T.H., O'Connor M., Kowalski P."]),
    ("scopus.csv", 0, "extra.Index Keywords", ["Aged; Female; Humans; Loneliness"]),
    ("scopus.csv", 1, "abstract",
     "Carers of people with dementia often report isolation. This review synthesised 27 "
     "studies."),
    ("scopus.csv", 1, "record_type", "journal article"),
    ("scopus.csv", 1, "extra.Document Type", ["Review"]),
    ("scopus.csv", 2, "record_type", "conference paper"),
    # A reviewer's spreadsheet: record_id kept as the source id, unknown columns kept.
    ("spreadsheet_with_ids.csv", 0, "source_id", "R001"),
    ("spreadsheet_with_ids.csv", 0, "doi", "10.1123/japa.2019-0123"),
    ("spreadsheet_with_ids.csv", 0, "extra.screening note", ["include at title stage"]),
    ("spreadsheet_with_ids.csv", 2, "title", 'Befriending by telephone: "it keeps me going"'),
    ("spreadsheet_with_ids.csv", 2, "authors", ["Adams, Ruth", "Clarke, Tom", "Singh, Priya"]),
    ("spreadsheet_with_ids.csv", 3, "source_id", "R004"),
    # Web of Science tab-delimited: two-letter headers, AF over AU, BP/EP pages.
    ("web_of_science.tsv", 0, "authors", ["Okafor, Chinwe", "Adeyemi, Tunde"]),
    ("web_of_science.tsv", 0, "journal", "BMC PUBLIC HEALTH"),
    ("web_of_science.tsv", 0, "pmid", "34289456"),
    ("web_of_science.tsv", 0, "keywords", ["hypertension", "community health workers"]),
    ("web_of_science.tsv", 0, "extra.ID", ["BLOOD-PRESSURE; CARE"]),
    ("web_of_science.tsv", 0, "database", "Web of Science"),
    ("web_of_science.tsv", 1, "pages", "620-626"),
    ("web_of_science.tsv", 2, "record_type", "book"),
    ("web_of_science.tsv", 2, "source_id", "3"),
]


@pytest.mark.parametrize(("name", "index", "field", "expected"), EXPECTED,
                         ids=[f"{e[0]}-{e[1]}-{e[2]}" for e in EXPECTED])
def test_sample_field_value(name, index, field, expected):
    record = _read(name)[index]
    if field.startswith("extra."):
        assert record.extra.get(field[len("extra."):]) == expected
    else:
        assert getattr(record, field) == expected


@pytest.mark.parametrize("name", [f[0] for f in FILES])
def test_every_record_is_clean(name):
    for record in _read(name):
        for value in (record.title, record.journal, record.abstract, *record.authors):
            assert value == " ".join(value.split()), value
        assert record.doi == record.doi.lower()
        assert record.year is None or isinstance(record.year, int)


def test_endnote_tagged_file_reads_lists_and_continuations():
    data = (DATA / "endnote_tagged.enw").read_bytes()
    assert detect_format(data, "export.txt") == "refer"
    # one '%A ...' line is a comment at the top of a BibTeX file, not a tagged record
    assert detect_format(b"%A list for the review\n@article{a, title={x}}\n", "r.txt") == "bibtex"
    article, chapter = read_records(data, filename="endnote_tagged.enw")
    assert article.title == ("Neighbourhood resilience and loneliness: a realist review of "
                             "local action")
    assert article.authors == ["Popay, Jennie", "Kaloudis, Hannah"]
    assert (article.year, article.journal, article.volume, article.pages) == (
        2023, "Health & Place", "80", "102-118")
    assert article.keywords == ["resilience", "loneliness", "community action"]
    assert article.abstract == "Background paragraph. Second line of the abstract."
    assert article.doi == "10.1016/j.healthplace.2023.102999"
    assert chapter.record_type == "book chapter"
    assert (chapter.journal, chapter.publisher, chapter.isbn) == (
        "Developing resilient communities", "Champs", "978-1-23456-789-7")


def test_excel_workbook_reads_like_a_csv_with_numbers_and_dates_as_text():
    import datetime
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append([])  # a blank first row, as hand-made sheets often have
    sheet.append(["Article Title", "Authors", "Publication Year", "Volume", "Date Added",
                  "Notes on screening"])
    sheet.append(["Health champions in Halton", "Smith, A.; Jones, B.", 2016, 12.0,
                  datetime.datetime(2024, 3, 1), "keep"])
    sheet.append(["Credit unions and financial inclusion", "Lee, C.", 2017, None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    assert detect_format(data, "results.xlsx") == "xlsx"
    first, second = read_records(data, filename="results.xlsx")
    assert (first.title, first.authors, first.year, first.volume) == (
        "Health champions in Halton", ["Smith, A.", "Jones, B."], 2016, "12")
    assert first.extra["Date Added"] == ["2024-03-01"]
    assert first.extra["Notes on screening"] == ["keep"]
    assert second.title == "Credit unions and financial inclusion" and second.volume == ""


VENDOR_HEADERS = [
    # (whose export, its header row, the fields that must be found)
    ("OpenAlex", ["id", "display_name", "authorships.author.display_name", "publication_year",
                  "primary_location.source.display_name", "doi", "ids.pmid", "type"],
     {"display_name": "title", "authorships.author.display_name": "authors",
      "publication_year": "year", "primary_location.source.display_name": "journal",
      "ids.pmid": "pmid", "id": "source_id"}),
    ("SpringerLink", ["Item Title", "Publication Title", "Journal Volume", "Journal Issue",
                      "Item DOI", "Authors", "Publication Year", "URL", "Content Type"],
     {"Item Title": "title", "Publication Title": "journal", "Journal Volume": "volume",
      "Item DOI": "doi", "Content Type": "record_type"}),
    ("Lens", ["Lens ID", "Title", "Publication Year", "Source Title", "ISSNs", "Author/s",
              "Issue Number", "Start Page", "End Page", "External URL", "PMID", "DOI"],
     {"Lens ID": "source_id", "Author/s": "authors", "ISSNs": "issn", "Issue Number": "issue",
      "Start Page": "pages", "End Page": "pages", "External URL": "url"}),
    ("IEEE Xplore", ["Document Title", "Authors", "Publication Title", "Publication Year",
                     "Start Page", "End Page", "ISBNs", "DOI", "Author Keywords"],
     {"Document Title": "title", "ISBNs": "isbn", "Author Keywords": "keywords"}),
    ("Embase", ["Title", "Author Names", "Source title", "Publication Year", "First Page",
                "Last Page", "Medline PMID", "Embase Accession ID", "DOI"],
     {"Author Names": "authors", "Medline PMID": "pmid", "Embase Accession ID": "accession",
      "First Page": "pages"}),
    ("Dimensions", ["Publication ID", "DOI", "Title", "Abstract", "Source title", "PubYear",
                    "Volume", "Issue", "Pagination", "Authors", "Dimensions URL"],
     {"Publication ID": "source_id", "PubYear": "year", "Pagination": "pages",
      "Dimensions URL": "url"}),
    ("Covidence", ["Title", "Authors", "Abstract", "Published Year", "Journal", "Volume",
                   "Accession Number", "DOI", "Covidence #"],
     {"Published Year": "year", "Covidence #": "source_id", "Accession Number": "accession"}),
    ("ProQuest", ["Title", "Authors", "pubtitle", "year", "StoreId", "documentURL"],
     {"pubtitle": "journal", "StoreId": "accession", "documentURL": "url"}),
    ("EBSCOhost", ["Title", "Author", "Publication Date", "Source", "Subject Terms"],
     {"Author": "authors", "Subject Terms": "keywords"}),
]


@pytest.mark.parametrize(("vendor", "headers", "expected"), VENDOR_HEADERS,
                         ids=[v[0] for v in VENDOR_HEADERS])
def test_vendor_csv_columns_are_matched_to_fields(vendor, headers, expected):
    from reviewkit.formats import suggest_column_map

    mapping = suggest_column_map(headers)
    assert {h: mapping[h] for h in expected} == expected
