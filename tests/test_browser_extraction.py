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
        tab.get_by_role("textbox", name="Setting and place").fill("Nine neighbourhoods, <b>North West</b>")
        tab.get_by_role("textbox", name="Number of participants").fill("3000")
        tab.get_by_role("button", name="Save my values").click()
        tab.get_by_text("Saved (2 values changed).").wait_for()
        settled(tab)
        tab.get_by_role("button", name="Mark my extraction done").click()
        tab.get_by_text("Marked done: a second person can now check it.").wait_for()

        tab.goto(f"{second}/extract")
        tab.get_by_role("heading", name="Extract").wait_for(timeout=120_000)
        settled(tab)
        tab.get_by_role("button", name="Verify this study").click()
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
        for number in range(7):
            groups.nth(number).get_by_text("+ Yes").click()
        groups.nth(6).get_by_text("? Can't tell").click()
        tab.get_by_role("button", name="Save the appraisal").click()
        tab.get_by_text(re.compile(r"Saved: met 4 of 5 MMAT criteria\.")).wait_for()
        settled(tab)
        tab.get_by_role("tab", name="Summary and chart").click()
        tab.get_by_test_id("stImage").first.wait_for()
        screenshot(tab, "appraise-chart")
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
