"""The downloads for other tools and the citation-chasing step, under Streamlit's AppTest."""

from __future__ import annotations

import hashlib
import json
import os

from reviewkit.formats.eppi import check_eppi
from tests.test_ui import _page, fresh_database  # noqa: F401 (the fixture applies here too)

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def test_records_page_offers_asreview_and_zotero_files():
    at = _page("records_page").run()
    assert not at.exception, at.exception
    at.radio(key="records_format").set_value("ASReview (labelled CSV)").run()
    next(b for b in at.button if b.label == "Prepare download").click().run()
    assert not at.exception, at.exception
    data = at.session_state["export"][1]
    assert data.startswith(b"record_id,title,abstract,authors,year,journal,doi,keywords,url,"
                           b"label_included")
    assert b",1\r\n" in data and b",0\r\n" in data  # the demo review's decisions as labels
    assert [b.label for b in at.get("download_button")] == ["Download ASReview (labelled CSV)"]
    at.radio(key="records_format").set_value("Zotero (RIS, decisions and codes as tags)").run()
    next(b for b in at.button if b.label == "Prepare download").click().run()
    assert b"KW  - reviewkit:" in at.session_state["export"][1]


def test_evidence_map_page_offers_the_eppi_json():
    at = _page("evidence_map_page").run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "Prepare EPPI-Mapper file (JSON)").click().run()
    assert not at.exception, at.exception
    data = json.loads(at.session_state["map_eppi"][1])
    assert check_eppi(data) == [] and data["References"]
    assert "Download EPPI JSON" in [b.label for b in at.get("download_button")]


def test_import_page_lists_the_works_cited_by_an_attached_full_text():
    from fpdf import FPDF

    from reviewkit.store import Store

    store = Store(os.environ["REVIEWKIT_DATABASE_URL"])
    review = store.list_reviews()[0]
    kept = [s for s in store.list_records(review.id) if s.duplicate_of is None]
    known = next(s.record for s in kept if len(s.record.title) > 40)
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=FONT)
    pdf.set_font("DejaVu", size=10)
    pdf.add_page()
    pdf.multi_cell(0, 5, "Introduction. Text of the paper. " * 20, new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 8, "References", new_x="LMARGIN", new_y="NEXT")
    for n, text in enumerate([f"Someone A. {known.title}. Some Journal {known.year or 2015};1:1-9.",
                              "Ostrom E. Crossing the great divide: coproduction, synergy, and "
                              "development. World Dev 1996;24(6):1073-87.",
                              "Pike L, Obi R. Allotments and neighbourliness on two housing "
                              "estates. Urban Gard Q 2011;3:14-20."], 1):
        pdf.multi_cell(0, 5, f"{n}. {text}", new_x="LMARGIN", new_y="NEXT")
    data = bytes(pdf.output())
    store.add_fulltext(kept[0].id, filename="paper.pdf", sha256=hashlib.sha256(data).hexdigest(),
                       content=data, text="")
    at = _page("import_page").run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "Read the reference lists").click().run()
    assert not at.exception, at.exception
    result = at.session_state["chase"][1]
    # the first two are in the demo review (Ostrom's paper is on its reference lists)
    assert result.references == 3 and result.matched == 2
    assert [c.work.title for c in result.candidates] == [
        "Allotments and neighbourliness on two housing estates"]
    assert any("3 references read from 1 full text:" in m.value for m in at.markdown)
