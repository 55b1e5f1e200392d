"""A new user's own review through this round's additions, in headless Chromium at 1366x768.

Create a review whose name and question hold Markdown, with criteria and an own reason; import
two real exports, completing the search record (PRISMA-S) of one on the Import page; screen
three records by keyboard; switch to rapid-review screening in the Screen settings (choices
read in words); download the ASReview labelled CSV and the Zotero RIS from Records; try
citation chasing with no full text attached; download the search appendix; read the methods
text on the PRISMA page.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest

from tests.conftest import (
    decide_by_key,
    download_by_click,
    open_page,
    running_app,
    screenshot,
    settled,
)

pytestmark = pytest.mark.browser

FORMATS = Path("/work/shared/data/formats")
# Scopus RIS (10 records, an export date in its notes) and EBSCOhost RIS (4 records, DP field)
EXPORTS = ("scopus_ris_asysd_1.ris", "academic-search-premier_ris_synthesisr_1.ris")
NAME = "Parks *and* wellbeing [draft]"
QUERY = 'TITLE-ABS-KEY("urban park*" AND wellbeing)'
OWN_REASON = "Not about parks"


@pytest.fixture(scope="module")
def new_app(tmp_path_factory):
    """The real app on an empty database (no demo review)."""
    missing = [name for name in EXPORTS if not (FORMATS / name).exists()]
    if missing:
        pytest.skip(f"the real exports {', '.join(missing)} are absent from {FORMATS}")
    with running_app(tmp_path_factory.mktemp("new-review"),
                     env={"REVIEWKIT_NO_DEMO": "1"}) as url:
        yield url


def _download(page, button: str) -> bytes:
    # by its accessible name: a screen reader hears the label, not the icon's name
    return download_by_click(page, page.get_by_role("button", name=button))


def _records_download(page, label: str) -> bytes:
    page.get_by_role("radio", name=label).check(force=True)
    settled(page)
    page.get_by_role("button", name="Prepare download").click()
    settled(page)
    return _download(page, f"Download {label}")


def _choose(page, selector: str, option: str) -> None:
    field = page.locator(f"{selector} input").first
    field.scroll_into_view_if_needed()
    field.click()
    page.get_by_role("option", name=option).click()
    settled(page)


def test_a_new_review_with_search_records_rapid_mode_and_downloads(browser, new_app):
    url = new_app
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)

    page.goto(url)
    page.get_by_role("heading", name="Overview").wait_for(timeout=120_000)
    settled(page)
    form = page.get_by_test_id("stForm").first
    form.get_by_role("textbox", name="Name of the review *", exact=True).fill(NAME)
    form.get_by_role("textbox", name="Review question", exact=True).fill(
        "Do **urban parks** improve wellbeing?")
    form.get_by_role("textbox", name="Inclusion criteria (one per line)", exact=True).fill(
        "Adults\nUrban green space")
    reasons = form.get_by_role("textbox", name="Reasons for excluding (one per line)",
                               exact=True)
    reasons.fill(reasons.input_value() + "\n" + OWN_REASON)
    form.get_by_role("button", name="Create review").click()
    # the name is shown as typed, never as Markdown
    page.get_by_role("heading", name=NAME, exact=True).wait_for()
    settled(page)

    open_page(page, "Import", "Import search results")
    page.locator("input[type=file]").set_input_files([str(FORMATS / n) for n in EXPORTS])
    page.get_by_role("button", name="Import 2 file(s)").wait_for(timeout=120_000)
    settled(page)
    scopus = hashlib.sha256((FORMATS / EXPORTS[0]).read_bytes()).hexdigest()[:16]
    ebsco = hashlib.sha256((FORMATS / EXPORTS[1]).read_bytes()).hexdigest()[:16]
    # pre-filled from the files: Scopus's export date, EBSCOhost's platform
    assert "28 January 2025" in page.locator(f".st-key-date-{scopus} input").input_value()
    assert page.locator(f".st-key-platform-{ebsco} input").input_value() == "EBSCOhost"
    page.locator(f".st-key-q-{scopus} textarea").fill(QUERY)
    page.locator(f".st-key-limits-{scopus} input").fill("English; 2000 onwards")
    page.locator(f".st-key-runby-{scopus} input").fill("Ana Librarian")
    page.locator(f".st-key-runby-{scopus} input").press("Tab")
    settled(page)
    page.get_by_role("button", name="Import 2 file(s)").click()
    page.get_by_text("The review now holds 14 records").wait_for(timeout=120_000)
    screenshot(page, "new-review-import")

    # citation chasing with nothing attached says what to do first
    open_page(page, "Import", "Import search results")
    page.get_by_text("Citation chasing: works cited by the attached full texts").click()
    settled(page)
    page.get_by_role("button", name="Read the reference lists").click()
    page.get_by_text("No full texts are attached to this review's records yet").wait_for()
    # the search appendix carries the search as typed
    page.get_by_text("Search records of the 2 imports, and the search appendix").click()
    settled(page)
    appendix = _download(page, "Download the search appendix (Markdown)").decode("utf-8")
    assert "Ana Librarian" in appendix and "English; 2000 onwards" in appendix
    assert "urban park" in appendix and "EBSCOhost" in appendix

    open_page(page, "Screen", "Screen")
    page.get_by_text("You have screened 0 of 14").wait_for(timeout=120_000)
    screenshot(page, "new-review-screen")
    for name in ("Include", "Exclude"):
        box = page.get_by_role("button", name=name).first.bounding_box()
        assert box["y"] + box["height"] <= 768, f"{name} is below the fold at 1366x768"
    decide_by_key(page, "i")
    page.locator(".st-key-screen_reason").click()
    page.get_by_role("option", name=OWN_REASON, exact=True).click()
    settled(page)
    decide_by_key(page, "e")
    decide_by_key(page, "e")
    page.get_by_text("You have screened 3 of 14").wait_for()

    # rapid-review screening, chosen in words in the lead's settings
    page.get_by_role("button", name="Settings").click()
    settled(page)
    # after the reruns of screening, each choice still reads in words (blinding said
    # 'Choose an option' once its Automatic had been shown)
    for key, words in (("screening_model", "Words, linear SVM (tfidf_svm)"),
                       ("blind", "Automatic")):
        box = page.locator(f".st-key-screen_1_{key}")
        shown = box.inner_text() + " ".join(box.locator("input").evaluate_all(
            "inputs => inputs.map(i => i.value || i.placeholder)"))
        assert words in shown, shown
    _choose(page, ".st-key-screen_1_screening_mode",
            "Rapid: calibrate, then one reviewer with checks")
    page.get_by_text("Rapid review, calibration round 1").wait_for(timeout=120_000)

    open_page(page, "Records", "Records")
    labelled = list(csv.DictReader(io.StringIO(
        _records_download(page, "ASReview (labelled CSV)").decode("utf-8-sig"))))
    assert len(labelled) == 14
    assert sorted(r["label_included"] for r in labelled if r["label_included"]) == ["0", "0", "1"]
    zotero = _records_download(page, "Zotero (RIS, decisions and codes as tags)")
    assert zotero.count(b"TY  - ") == 14 and OWN_REASON.encode() in zotero

    open_page(page, "PRISMA diagram", "PRISMA 2020 flow diagram")
    methods = page.get_by_test_id("stText").filter(has_text="We searched").inner_text()
    assert "Scopus (searched 28 January 2025, export date)" in methods
    assert "Academic Search Premier via EBSCOhost" in methods
    screenshot(page, "new-review-prisma")
    context.close()
