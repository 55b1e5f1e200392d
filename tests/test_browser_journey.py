"""A researcher's own review, end to end in headless Chromium, starting from nothing.

Create a review with criteria, reasons and highlight words; import three real exports of
different formats; deduplicate; screen 20 records by keyboard (one reason picked with the
mouse, then E); exclude a report at full text with a reason; read the PRISMA diagram; download
the included studies with their decisions as CSV and RIS; import that RIS into a second review
and find the decisions there.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.conftest import (
    choose_option,
    click_until,
    decide_by_key,
    open_page,
    record_title,
    running_app,
    screenshot,
    settled,
    wait_for_next_record,
)

pytestmark = pytest.mark.browser

FORMATS = Path("/work/shared/data/formats")
# a RIS, a PubMed .nbib and a BibTeX file: 10 + 80 + 3 records
EXPORTS = ("scopus_ris_asysd_1.ris", "pubmed_medline_reflib_1.nbib",
           "scopus_bibtex_synthesisr_1.bib")
OWN_REASON = "Not about blue light"


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory):
    """The real app on an empty database (no demo review)."""
    missing = [name for name in EXPORTS if not (FORMATS / name).exists()]
    if missing:
        pytest.skip(f"the real exports {', '.join(missing)} are absent from {FORMATS}")
    with running_app(tmp_path_factory.mktemp("journey"), env={"REVIEWKIT_NO_DEMO": "1"}) as url:
        yield url


def _create_review(page, url: str, name: str, *, settings: bool) -> None:
    page.goto(url)  # the main page is the Overview
    page.get_by_role("heading", name="Overview").wait_for(timeout=120_000)
    settled(page)
    expander = page.get_by_test_id("stExpander").filter(has_text="Start a new review")
    expander.wait_for()
    settled(page)
    field = page.get_by_label("Name of the review *")
    try:
        field.wait_for(timeout=5_000)
    except PlaywrightTimeout:  # the form is folded away once a review exists
        expander.get_by_text("Start a new review").click()
        field.wait_for()
    form = page.get_by_test_id("stForm").filter(has=field)
    form.get_by_role("textbox", name="Name of the review *", exact=True).fill(name)
    if settings:
        form.get_by_role("textbox", name="Review question", exact=True).fill("Does blue light affect sleep or mood?")
        form.get_by_role("textbox", name="Inclusion criteria (one per line)", exact=True).fill(
            "People of any age\nExposure to blue light")
        form.get_by_role("textbox", name="Exclusion criteria (one per line)", exact=True).fill("Animal studies")
        reasons = form.get_by_role("textbox", name="Reasons for excluding (one per line)", exact=True)
        reasons.fill(reasons.input_value() + "\n" + OWN_REASON)
        form.get_by_role("textbox", name="Words to highlight as relevant (one per line)", exact=True).fill("blue light\nsleep")
        form.get_by_role("textbox", name="Words to highlight as irrelevant (one per line)", exact=True).fill("mice\nrats")
    click_until(page, form.get_by_role("button", name="Create review"),
                page.get_by_role("heading", name=name))
    page.get_by_text("Next: import your search results").wait_for()
    settled(page)


def _pick_reason_then(page, reason: str, key: str) -> None:
    """Choose a reason with the mouse, as a person would, and press ``key`` at once, before
    the page has settled: the record moves on (a key pressed in the moment before the page
    took the focus back from the drop-down was lost every time, 8 of 8 tries)."""
    settled(page)
    before = record_title(page)
    choose_option(page, "screen_reason", reason, settle=False)
    page.keyboard.press(key)
    wait_for_next_record(page, before)


def _download(page, label: str) -> bytes:
    page.get_by_role("radio", name=label).check(force=True)
    settled(page)
    page.get_by_role("button", name="Prepare download").click()
    settled(page)
    with page.expect_download() as info:
        page.get_by_role("button", name=f"Download {label}").click()
    return Path(info.value.path()).read_bytes()


def _included_with_decisions(page) -> list[dict]:
    """Filter the Records page to the studies included at full text; download them as CSV."""
    for key, option in (("records_stage", "Full text"), ("records_decision", "Included")):
        choose_option(page, key, option)
    page.get_by_text("1 records match").wait_for()
    return list(csv.DictReader(io.StringIO(
        _download(page, "CSV with decisions").decode("utf-8-sig"))))


def test_a_new_review_from_real_exports_to_decisions_taken_away(browser, fresh_app, tmp_path):
    url = fresh_app
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)

    _create_review(page, url, "Blue light and sleep", settings=True)

    page.goto(f"{url}/import")
    page.get_by_role("heading", name="Import search results").wait_for()
    page.locator("input[type=file]").set_input_files([str(FORMATS / n) for n in EXPORTS])
    page.get_by_role("button", name="Import 3 file(s)").click()
    page.get_by_text("The review now holds 93 records").wait_for(timeout=120_000)
    page.get_by_role("link", name="Next: Deduplicate").click()

    page.get_by_role("heading", name="Find duplicates").wait_for()
    settled(page)
    page.get_by_role("button", name="Find duplicates").click()
    page.get_by_text("merged automatically as duplicates").wait_for(timeout=120_000)

    page.goto(f"{url}/screen")
    line = page.get_by_test_id("stProgress").filter(has_text="You have screened")
    line.wait_for(timeout=120_000)
    assert re.search(r"You have screened 0 of \d+", line.inner_text())
    page.get_by_text("Does blue light affect sleep or mood?").wait_for()
    # the decision buttons and the progress line are in view on a 1366x768 laptop
    for name in ("Include", "Exclude"):
        box = page.get_by_role("button", name=name).first.bounding_box()
        assert box["y"] + box["height"] <= 768, f"{name} is below the fold at 1366x768"
    assert line.bounding_box()["y"] < 768
    screenshot(page, "journey-screen")

    _pick_reason_then(page, OWN_REASON, "e")  # E straight after a mouse choice
    for n in range(19):
        decide_by_key(page, "i" if n < 4 else "e")
    settled(page)
    expect_line = page.get_by_test_id("stProgress").filter(has_text="You have screened 20 of")
    expect_line.wait_for()

    # full text: one report excluded with a reason, one included
    page.locator(".st-key-screen_stage").get_by_text("Full text").click()
    page.get_by_text("Reason for excluding (required)").wait_for()
    settled(page)
    page.get_by_role("button", name="Exclude").first.click()
    page.get_by_text("Choose a reason before excluding at full text").wait_for()
    _pick_reason_then(page, "Wrong outcome", "e")
    decide_by_key(page, "i")

    page.goto(f"{url}/prisma")
    page.get_by_role("heading", name="PRISMA 2020 flow diagram").wait_for()
    settled(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download SVG").click()
    svg = Path(info.value.path()).read_text(encoding="utf-8")
    assert "Wrong outcome" in svg and "Scopus" in svg

    page.goto(f"{url}/records")
    page.get_by_role("heading", name="Records").wait_for()
    settled(page)
    rows = _included_with_decisions(page)
    assert len(rows) == 1
    assert (rows[0]["stage"], rows[0]["decision"], rows[0]["title_abstract_decision"]) == \
        ("full_text", "include", "include")
    ris = _download(page, "RIS with decisions")
    assert b"ASReview_relevant" in ris and b"reviewkit-decisions:" in ris
    included_title = rows[0]["title"]
    assert included_title

    # the RIS goes into a second review with its decisions
    _create_review(page, url, "Blue light, second look", settings=False)
    ris_path = tmp_path / "included-with-decisions.ris"
    ris_path.write_bytes(ris)
    # move by the sidebar: opening an address afresh would start a new session, which
    # opens the first review in the list
    open_page(page, "Import", "Import search results")
    page.locator("input[type=file]").set_input_files(str(ris_path))
    page.get_by_role("button", name="Import 1 file(s)").click()
    page.get_by_text("with 2 screening decisions from its notes").wait_for(timeout=120_000)
    open_page(page, "Records", "Records")
    page.get_by_text("1 records match").wait_for()
    again = _included_with_decisions(page)
    assert [(r["title"], r["stage"], r["decision"]) for r in again] == \
        [(included_title, "full_text", "include")]
    screenshot(page, "journey-second-review")
    context.close()
