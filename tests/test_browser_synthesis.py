"""End to end in headless Chromium, with the keyboard alone: rate the certainty of a cell, then
see the evidence map recoloured and the brief's wording change, in the same running app."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ARTIFACTS, running_app, screenshot, settled
from tests.keyboard import Keys
from tests.templates import copy_demo_database

pytestmark = pytest.mark.browser

CELL = "approach=community_governance&outcome=family_social_networks"  # unrated in the demo
HIGH = "We are confident (high certainty)"


@pytest.fixture(scope="module")
def own_app(tmp_path_factory):
    """An app of this module's own: the journey changes the demo review."""
    datadir = tmp_path_factory.mktemp("synth-app")
    copy_demo_database(datadir / "reviewkit.sqlite")
    with running_app(datadir) as url:
        yield url


def _legend_by_certainty(tab, url: str) -> set[str]:
    tab.goto(f"{url}/evidence-map?{CELL}")
    tab.get_by_text("filled cells").wait_for(timeout=120_000)
    settled(tab)
    keys = Keys(tab)
    keys.reach("Design", testid="stRadio")  # the colouring: a radio group, arrows choose
    for _ in range(4):
        if tab.get_by_role("radio", name="Certainty", checked=True).count():
            break
        tab.keyboard.press("ArrowRight")
        settled(tab)
    tab.get_by_role("radio", name="Certainty", checked=True).wait_for()
    keys.check_focus()
    tab.locator(".legendtext", has_text="Certainty not yet rated").first.wait_for()
    settled(tab)
    return {t.strip() for t in tab.locator(".legendtext").all_text_contents()}


def test_rate_a_cell_then_the_map_and_brief_change(browser, own_app):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    try:
        before = _legend_by_certainty(tab, own_app)
        assert "Low certainty" in before and "High certainty" not in before
        tab.get_by_text("Certainty not yet rated.").first.wait_for()

        tab.goto(f"{own_app}/synthesis?{CELL}")
        tab.get_by_role("heading", name="Synthesis and certainty").wait_for(timeout=120_000)
        tab.get_by_text(re.compile(r"found improvement")).first.wait_for()
        settled(tab)
        keys = Keys(tab)  # the keyboard alone: Tab, arrows between tabs, typing, Enter
        keys.reach("Synthesis", role="tab")
        for _ in range(2):
            if tab.get_by_role("tab", name="Certainty", selected=True).count():
                break
            tab.keyboard.press("ArrowRight")
        tab.get_by_role("tab", name="Certainty", selected=True).wait_for()
        tab.get_by_text("Certainty not yet rated.").first.wait_for()
        keys.type("The finding rated", "Wider family and social networks")
        keys.press("Save the rating")
        tab.get_by_text(f"Saved: {HIGH}.").wait_for()
        screenshot(tab, "synthesis-certainty")

        after = _legend_by_certainty(tab, own_app)
        assert "High certainty" in after
        tab.get_by_text(re.compile(re.escape(HIGH))).first.wait_for()

        tab.goto(f"{own_app}/evidence-by-approach?approach=community_governance")
        tab.get_by_text("What the studies found", exact=True).wait_for(timeout=120_000)
        tab.get_by_text(re.compile(re.escape(HIGH))).first.wait_for()
        settled(tab)
        ARTIFACTS.mkdir(exist_ok=True)
        brief = ARTIFACTS / "brief-community-governance.md"
        brief.write_bytes(Keys(tab).download("Download the brief (Markdown)"))
        keys.check_focus()
        text = brief.read_text(encoding="utf-8").replace("\\", "")
        assert HIGH in text and "Certainty not yet rated." in text
    finally:
        context.close()
