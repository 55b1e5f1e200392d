"""End to end in headless Chromium: one person extracts a study, a second verifies it, then it
is appraised with MMAT and the traffic-light chart shows it.

Two app servers share one database, each acting as a different person (accounts off: the
person is ``REVIEWKIT_USER``), as two team members on their own machines would.
"""

from __future__ import annotations

import re

import pytest

from reviewkit import appraisal, extraction
from reviewkit.store import Store
from tests.conftest import running_app, screenshot, settled
from tests.keyboard import Keys
from tests.templates import copy_demo_database

pytestmark = pytest.mark.browser

EXTRACTOR, VERIFIER = "erin-extracts", "vic-verifies"


@pytest.fixture(scope="module")
def two_apps(tmp_path_factory):
    datadir = tmp_path_factory.mktemp("extract-app")
    url = copy_demo_database(datadir / "reviewkit.sqlite")
    with running_app(datadir, env={"REVIEWKIT_USER": EXTRACTOR}) as first, \
            running_app(datadir, env={"REVIEWKIT_USER": VERIFIER}) as second:
        yield url, first, second


def test_extract_verify_then_appraise_and_see_the_chart(browser, two_apps):
    url, first, second = two_apps
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    try:
        tab.goto(f"{first}/extract")
        tab.get_by_role("heading", name="Extract").wait_for(timeout=120_000)
        settled(tab)
        keys = Keys(tab)  # the keyboard alone: Tab, typing, Enter, Space and arrows
        keys.type("Setting and place", "Nine neighbourhoods, <b>North West</b>")
        keys.type("Number of participants", "3000")
        keys.press("Save my values")
        tab.get_by_text("Saved (2 values changed).").wait_for()
        settled(tab)
        keys.press("Mark my extraction done")
        tab.get_by_text("Marked done: a second person can now check it.").wait_for()

        tab.goto(f"{second}/extract")
        tab.get_by_role("heading", name="Extract").wait_for(timeout=120_000)
        settled(tab)
        keys.check_focus()
        keys = Keys(tab)  # the second person, on their own app
        keys.press("Verify this study")
        tab.get_by_text("Verified.", exact=True).wait_for()
        settled(tab)
        # the value is shown as typed, never as HTML
        tab.get_by_text("Values the study ends with").wait_for()
        tab.get_by_test_id("stDataFrame").first.wait_for()
        screenshot(tab, "extract-verified")

        tab.goto(f"{second}/appraise")
        tab.get_by_role("heading", name="Appraise").wait_for(timeout=120_000)
        settled(tab)
        groups = tab.get_by_test_id("stForm").get_by_test_id("stRadio")
        assert groups.count() == 7  # two screening questions, five for the design
        for _ in range(7):  # each question's first answer, chosen with Space
            keys.reach("+ Yes", onward=True)
            tab.keyboard.press(" ")
        for _ in range(2):  # the last one's third answer: arrows move and choose
            tab.keyboard.press("ArrowRight")
        keys.press("Save the appraisal")
        tab.get_by_text(re.compile(r"Saved: met 4 of 5 MMAT criteria\.")).wait_for()
        settled(tab)
        keys.reach("Appraise a study", role="tab")
        tab.keyboard.press("ArrowRight")
        tab.get_by_role("tab", name="Summary and chart", selected=True).wait_for()
        tab.get_by_test_id("stImage").first.wait_for()
        screenshot(tab, "appraise-chart")
        keys.check_focus()
    finally:
        context.close()
    store = Store(url)
    try:
        review = store.get_review("Developing resilient communities (demo)")
        done = {rid: s for rid, s in extraction.study_extractions(store, review).items()
                if EXTRACTOR in s.extractors}
        [(record_id, study)] = done.items()
        assert study.status == "verified" and study.verified_by == [VERIFIER]
        assert study.final[("setting", "")] == "Nine neighbourhoods, <b>North West</b>"
        quality = appraisal.study_quality(store, review.id)[record_id]
        assert quality.label == "met 4 of 5 MMAT criteria" and quality.appraisers == (VERIFIER,)
    finally:
        store.close()
