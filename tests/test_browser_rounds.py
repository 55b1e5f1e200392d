"""End to end in headless Chromium: a screened review gets an update round of overlapping
records; deduplication keeps the earlier decisions, only the new records are offered for
screening, and the PRISMA page draws the diagram for updated reviews with both rounds.

The app runs on its own copy of the demo review (the round would change what the other
browser tests see)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import running_app, screenshot, settled
from tests.keyboard import Keys
from tests.templates import copy_demo_database

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
# A re-run search: five records the demo already holds (from its Scopus export) and the three
# records of a real-shaped Scopus export it does not.
EARLIER = ROOT / "corpora" / "demo" / "scopus_export.ris"
NEW = ROOT / "tests" / "data" / "formats" / "scopus.ris"
NEW_TITLES = ("Social prescribing for loneliness in older adults: A mixed-methods evaluation "
              "in three English regions",
              "Peer support groups for carers of people living with dementia: a systematic "
              "review",
              "Co-designing a kaupapa Māori digital health service with rural whānau")


def _rerun_export(tmp_path: Path) -> Path:
    earlier = EARLIER.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    first_five = "".join(part + "ER  -\n" for part in re.split(r"^ER  -[ ]*\n", earlier,
                                                                flags=re.M)[1:6])
    path = tmp_path / "scopus-rerun-2025.ris"
    path.write_text(first_five + "\n" + NEW.read_text(encoding="utf-8-sig").replace("\r\n", "\n"),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def living_url(tmp_path_factory):
    datadir = tmp_path_factory.mktemp("living-app")
    copy_demo_database(datadir / "reviewkit.sqlite")
    with running_app(datadir) as url:
        yield url


@pytest.fixture
def tab(browser, living_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(60_000)
    yield opened
    context.close()


def _diagram_in_words(tab) -> str:
    Keys(tab).press("The diagram in words")  # an expander: Enter opens it
    listing = tab.get_by_test_id("stExpander").filter(has_text="The diagram in words")
    expect(listing).to_contain_text("Included")
    return listing.inner_text()


def test_an_update_round_screens_only_the_new_records(tab, living_url, tmp_path):
    tab.goto(f"{living_url}/prisma")
    before = _diagram_in_words(tab)
    included = int(re.search(r"Studies included in review \(n = (\d+)\)", before).group(1))
    assert included > 0, "the demo review should arrive with included studies"

    # start the round and import the re-run search, with its search record
    tab.goto(f"{living_url}/import")
    tab.get_by_role("heading", name="Import search results").wait_for()
    settled(tab)
    keys = Keys(tab)  # the keyboard alone from here (tests/keyboard.py)
    keys.press("Keep the review up to date: start an update round")
    keys.type("Name of the round", "March 2025")
    keys.press("Start an update round", testid="stBaseButton")
    tab.get_by_text("Update 1: March 2025 started").wait_for()
    keys.upload("Upload", _rerun_export(tmp_path))
    tab.get_by_text("RIS file with").wait_for()
    assert "8 records" in tab.get_by_text("RIS file with").inner_text()
    tab.get_by_text("The search behind this file").wait_for()
    settled(tab)
    keys.type("Platform or interface", "Scopus (Elsevier)")
    keys.type("Date searched", "2025-03-01")
    keys.press("Import 1 file(s)")
    tab.get_by_text("8 records imported from Scopus").wait_for()

    tab.goto(f"{living_url}/deduplicate")
    keys.press("Find duplicates")
    tab.get_by_text(re.compile(r"merged automatically as duplicates")).wait_for(timeout=120_000)

    # only the two new records are offered, one after the other
    tab.goto(f"{living_url}/screen")
    tab.get_by_text("records are new in Update 1: March 2025").wait_for(timeout=120_000)
    expect(tab.get_by_text(re.compile(r"3 records are new in Update 1.*3 are still for you"))) \
        .to_be_visible()
    seen = []
    for _ in NEW_TITLES:
        settled(tab)
        title = tab.locator("h3").first.inner_text()
        seen.append(title)
        keys.press("Exclude")
        tab.wait_for_function(
            "t => document.querySelector('h3') === null || "
            "document.querySelector('h3').innerText !== t", arg=title, timeout=60_000)
    assert sorted(seen) == sorted(NEW_TITLES)
    expect(tab.get_by_text(re.compile(r"3 records are new in Update 1.*0 are still for you"))) \
        .to_be_visible()
    screenshot(tab, "update-round-screen")

    # PRISMA 2020 for updated reviews: the previous version and the new round
    tab.goto(f"{living_url}/prisma")
    tab.get_by_text("Update 1: March 2025: the flow diagram for updated reviews").wait_for()
    words = _diagram_in_words(tab)
    assert f"previous version of the; review (n = {included}); New records identified (n = 8)" \
        in words
    assert "Duplicate records removed (n = 5)" in words
    assert f"Total studies included in review (n = {included})" in words
    screenshot(tab, "prisma-updated-review")
    keys.check_focus()
