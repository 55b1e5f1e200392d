"""End to end in headless Chromium: the Clusters page's map, topics and the studies in one."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import screenshot, settled
from tests.keyboard import Keys

pytestmark = pytest.mark.browser


def test_clusters_map_topics_and_the_studies_in_a_chosen_topic(page, app_url):
    page.goto(f"{app_url}/clusters")
    # the first visit embeds the studies (the bundled model loads once): allow for it
    summary = page.get_by_text(re.compile(r"^\d+ studies in \d+ topics"))
    summary.wait_for(timeout=180_000)
    studies, topics = (int(n) for n in re.findall(r"\d+", summary.inner_text())[:2])
    assert topics >= 2

    # the map: one trace of points per topic
    page.locator(".scatterlayer .trace .points path").first.wait_for()
    assert page.locator(".scatterlayer .trace").count() == topics
    # the topics table
    page.get_by_role("heading", name="Topics").wait_for()
    tables = page.get_by_test_id("stDataFrame")
    tables.nth(1).wait_for()
    assert tables.nth(0).locator("[role=grid]").get_attribute("aria-rowcount") == str(topics + 1)

    # choose the second topic: its studies are listed
    picker = page.get_by_test_id("stSelectbox").filter(has_text="Show the studies in")
    box = picker.get_by_role("combobox")
    option = page.get_by_role("option").filter(has_text=re.compile(r"^Topic 2: "))
    keys = Keys(page)  # the keyboard alone: Tab to the drop-down, type, Enter
    keys.reach("Show the studies in")
    page.keyboard.type("Topic 2: ")
    option.wait_for()
    size = int(re.search(r"\((\d+)\)$", option.inner_text()).group(1))
    page.keyboard.press("Enter")
    # locators, not element handles: a rerun may mount the table afresh, and these re-query
    expect(box).to_have_value(re.compile(r"^Topic 2: "), timeout=60_000)
    grid = tables.nth(1).locator("[role=grid]")  # the canvas grid's a11y twin
    expect(grid).to_have_attribute("aria-rowcount", str(size + 1), timeout=60_000)
    assert 0 < size < studies

    keys.check_focus()
    # a click on a point of another topic chooses that topic instead (the mouse's way; the
    # drop-down is the keyboard's). Scroll back up first, as a person would: the focus left
    # the map under the app's fixed header, where a click would land on the header
    settled(page)
    page.mouse.move(700, 500)
    page.mouse.wheel(0, -3000)
    page.wait_for_function("() => document.querySelector('[data-testid=stMain]').scrollTop === 0")
    page.locator(".scatterlayer .trace").nth(0).locator(".points path").first.click(force=True)
    expect(box).to_have_value(re.compile(r"^Topic 1: "), timeout=60_000)
    screenshot(page, "clusters")
