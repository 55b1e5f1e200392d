"""Full-text PDFs, made here with fpdf2: text, DOI and title are found; broken ones are refused."""

from __future__ import annotations

import io
import random

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from reviewkit.errors import FormatError
from reviewkit.formats import detect_format, read_pdf, read_records

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TITLE = "Effects of café–based peer support on loneliness in older adults: a randomised trial"


def make_pdf(*, metadata_title: str | None = None, owner_password: str | None = None,
             user_password: str | None = None, with_text: bool = True) -> bytes:
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=FONT)
    pdf.add_page()
    if with_text:
        pdf.set_font("DejaVu", size=9)
        pdf.multi_cell(0, 5, "Journal of Community Health Nursing · Volume 12 · Issue 3",
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=20)
        pdf.multi_cell(0, 10, TITLE, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", size=10)
        body = ("Jane Smith, Ahmed Khan\nPublished: 3 March 2021\n"
                "https://doi.org/10.1234/JCHN.2021.0045\n"
                "Abstract  Background: loneliness is common among older adults who live alone.")
        pdf.multi_cell(0, 5, body, new_x="LMARGIN", new_y="NEXT")
        pdf.add_page()
        pdf.multi_cell(0, 5, "Methods and results continue on the second page.",
                       new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.rect(20, 20, 120, 160, style="F")  # a page that is only a picture, like a scan
    if metadata_title:
        pdf.set_title(metadata_title)
    if owner_password:
        pdf.set_encryption(owner_password=owner_password, user_password=user_password)
    return bytes(pdf.output())


def test_text_doi_title_and_year_are_found():
    data = make_pdf()
    assert detect_format(data, "paper.bin") == "pdf"
    [record] = read_records(data, filename="paper.pdf")
    assert record.title == TITLE
    assert record.doi == "10.1234/jchn.2021.0045"
    assert record.year == 2021
    assert record.record_type == "journal article"
    assert "second page" in record.full_text
    assert "  " not in record.full_text and "\n" not in record.full_text


@pytest.mark.parametrize(("metadata_title", "expected"), [
    ("Microsoft Word - draft3.docx", TITLE),
    ("untitled", TITLE),
    ("Café peer support and loneliness: trial report", "Café peer support and loneliness: "
                                                       "trial report"),
])
def test_metadata_title_is_used_only_when_it_looks_like_a_title(metadata_title, expected):
    [record] = read_pdf(make_pdf(metadata_title=metadata_title), filename="paper.pdf")
    assert record.title == expected


def test_pdf_protected_only_against_editing_still_opens():
    [record] = read_pdf(make_pdf(owner_password="owner"), filename="restricted.pdf")
    assert record.doi == "10.1234/jchn.2021.0045"


def _pypdf_encrypted() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf())))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BROKEN_PDFS = [
    ("fpdf_locked.pdf", lambda: make_pdf(owner_password="owner", user_password="secret"),
     "encrypted/password-protected; save an unprotected copy"),
    ("pypdf_locked.pdf", _pypdf_encrypted, "encrypted/password-protected"),
    ("scan.pdf", lambda: make_pdf(with_text=False), "no text to extract"),
    ("random.pdf", lambda: b"%PDF-1.4\n" + random.Random(7).randbytes(4000), "damaged"),
    ("cut.pdf", lambda: make_pdf()[:600], "damaged"),
    ("header_only.pdf", lambda: b"%PDF-1.4\n%%EOF\n", "damaged"),
]


@pytest.mark.parametrize(("name", "build", "words"), BROKEN_PDFS, ids=[b[0] for b in BROKEN_PDFS])
def test_unreadable_pdf_is_refused_by_name(name, build, words):
    with pytest.raises(FormatError) as caught:
        read_records(build(), filename=name)
    assert str(caught.value).startswith(f"{name}: ")
    assert words in str(caught.value)
