"""A new user's own review through this round's additions, in headless Chromium at 1366x768.

Create a review whose name and question hold Markdown, with criteria and an own reason; import
two real exports, completing the search record (PRISMA-S) of one on the Import page; screen
three records by keyboard; switch to rapid-review screening in the Screen settings (choices
read in words); download the ASReview labelled CSV and the Zotero RIS from Records; try
citation chasing with no full text attached; download the search appendix; read the methods
text on the PRISMA page. All with the keyboard alone, every focus stop checked.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest

from reviewkit.ui.records_page import EXPORTS as RECORD_EXPORTS
from tests.conftest import decide_by_key, running_app, screenshot, settled
from tests.keyboard import Keys

pytestmark = pytest.mark.browser

FORMATS = Path("/work/shared/data/formats")
# Scopus RIS (10 records, an export date in its notes) and EBSCOhost RIS (4 records, DP field)
EXPORTS = ("scopus_ris_asysd_1.ris", "academic-search-premier_ris_synthesisr_1.ris")
NAME = "Parks *and* wellbeing [draft]"
QUERY = 'TITLE-ABS-KEY("urban park*" AND wellbeing)'
OWN_REASON = "Not about parks"
FORMATS_OFFERED = list(RECORD_EXPORTS)  # the Records page's download formats, in order


@pytest.fixture(scope="module")
def new_app(tmp_path_factory):
    """The real app on an empty database (no demo review)."""
    missing = [name for name in EXPORTS if not (FORMATS / name).exists()]
    if missing:
        pytest.skip(f"the real exports {', '.join(missing)} are absent from {FORMATS}")
    with running_app(tmp_path_factory.mktemp("new-review"),
                     env={"REVIEWKIT_NO_DEMO": "1"}) as url:
        yield url


def _records_download(keys: Keys, label: str, now: str) -> bytes:
    """Choose the format ``label`` (radio buttons: Tab reaches the chosen one, ``now``, and the
    arrows move the choice), prepare the file and download it."""
    keys.reach(now, testid="stRadio")
    for _ in range(FORMATS_OFFERED.index(label) - FORMATS_OFFERED.index(now)):
        keys.tab.keyboard.press("ArrowRight")
    settled(keys.tab)
    keys.press("Prepare download")
    settled(keys.tab)
    return keys.download(f"Download {label}")


def test_a_new_review_with_search_records_rapid_mode_and_downloads(browser, new_app):
    """All of it with the keyboard alone: Tab, Enter, Space, arrows, typing, shortcut keys."""
    url = new_app
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    keys = Keys(page)

    page.goto(url)
    page.get_by_role("heading", name="Overview").wait_for(timeout=120_000)
    settled(page)
    keys.type("Name of the review", NAME)
    keys.type("Review question", "Do **urban parks** improve wellbeing?")
    keys.type("Inclusion criteria (one per line)", "Adults\nUrban green space")
    keys.type("Reasons for excluding (one per line)", "\n" + OWN_REASON, replace=False)
    keys.press("Create review")
    # the name is shown as typed, never as Markdown
    page.get_by_role("heading", name=NAME, exact=True).wait_for()
    settled(page)

    keys.go("Import", "Import search results")
    keys.upload("Upload", [FORMATS / n for n in EXPORTS])
    page.get_by_role("button", name="Import 2 file(s)").wait_for(timeout=120_000)
    settled(page)
    scopus = hashlib.sha256((FORMATS / EXPORTS[0]).read_bytes()).hexdigest()[:16]
    ebsco = hashlib.sha256((FORMATS / EXPORTS[1]).read_bytes()).hexdigest()[:16]
    # pre-filled from the files: Scopus's export date, EBSCOhost's platform
    assert "28 January 2025" in page.locator(f".st-key-date-{scopus} input").input_value()
    assert page.locator(f".st-key-platform-{ebsco} input").input_value() == "EBSCOhost"
    keys.type("Limits and filters", "English; 2000 onwards", key=f"limits-{scopus}")
    keys.type("Searched by", "Ana Librarian", key=f"runby-{scopus}")
    keys.type("Search string", QUERY, key=f"q-{scopus}")
    page.keyboard.press("Tab")  # leaving the box sends what was typed
    settled(page)
    keys.press("Import 2 file(s)")
    page.get_by_text("The review now holds 14 records").wait_for(timeout=120_000)
    screenshot(page, "new-review-import")

    # citation chasing with nothing attached says what to do first
    keys.go("Import", "Import search results")
    keys.press("Citation chasing: works cited by the attached full texts")  # opens with Enter
    settled(page)
    keys.press("Read the reference lists")
    page.get_by_text("No full texts are attached to this review's records yet").wait_for()
    # the search appendix carries the search as typed
    keys.press("Search records of the 2 imports, and the search appendix")
    settled(page)
    appendix = keys.download("Download the search appendix (Markdown)").decode("utf-8")
    assert "Ana Librarian" in appendix and "English; 2000 onwards" in appendix
    assert "urban park" in appendix and "EBSCOhost" in appendix

    keys.go("Screen")
    page.get_by_text("You have screened 0 of 14").wait_for(timeout=120_000)
    screenshot(page, "new-review-screen")
    for name in ("Include", "Exclude"):
        box = page.get_by_role("button", name=name).first.bounding_box()
        assert box["y"] + box["height"] <= 768, f"{name} is below the fold at 1366x768"
    decide_by_key(page, "i")
    keys.choose("Reason for excluding", OWN_REASON)
    decide_by_key(page, "e")
    decide_by_key(page, "e")
    page.get_by_text("You have screened 3 of 14").wait_for()

    # rapid-review screening, chosen in words in the lead's settings
    keys.press("Settings")
    settled(page)
    # after the reruns of screening, each choice still reads in words (blinding said
    # 'Choose an option' once its Automatic had been shown)
    for key, words in (("screening_model", "Words, linear SVM (tfidf_svm)"),
                       ("blind", "Automatic")):
        box = page.locator(f".st-key-screen_1_{key}")
        shown = box.inner_text() + " ".join(box.locator("input").evaluate_all(
            "inputs => inputs.map(i => i.value || i.placeholder)"))
        assert words in shown, shown
    keys.choose("Screening mode", "Rapid: calibrate, then one reviewer with checks")
    page.get_by_text("Rapid review, calibration round 1").wait_for(timeout=120_000)
    page.keyboard.press("Escape")  # the settings close

    keys.go("Records", "Records")
    labelled = list(csv.DictReader(io.StringIO(_records_download(
        keys, "ASReview (labelled CSV)", now=FORMATS_OFFERED[0]).decode("utf-8-sig"))))
    assert len(labelled) == 14
    assert sorted(r["label_included"] for r in labelled if r["label_included"]) == ["0", "0", "1"]
    zotero = _records_download(keys, "Zotero (RIS, decisions and codes as tags)",
                               now="ASReview (labelled CSV)")
    assert zotero.count(b"TY  - ") == 14 and OWN_REASON.encode() in zotero

    keys.go("PRISMA diagram", "PRISMA 2020 flow diagram")
    methods = page.get_by_test_id("stText").filter(has_text="We searched").inner_text()
    assert "Scopus (searched 28 January 2025, export date)" in methods
    assert "Academic Search Premier via EBSCOhost" in methods
    screenshot(page, "new-review-prisma")
    keys.check_focus()
    context.close()
