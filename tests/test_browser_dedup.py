"""End to end in headless Chromium: find duplicates in the demo review and decide a pair, with
the keyboard alone (tests/keyboard.py)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import screenshot, settled
from tests.keyboard import Keys

pytestmark = pytest.mark.browser


def _metric(page, label: str) -> int:
    metric = page.get_by_test_id("stMetric").filter(has_text=label)
    metric.wait_for()
    return int(re.search(r"(\d+)\s*$", metric.inner_text()).group(1))


def test_review_possible_duplicates_with_keys_and_undo(page, app_url):
    page.goto(f"{app_url}/deduplicate")
    page.get_by_role("heading", name="Find duplicates").wait_for()
    keys = Keys(page)  # the keyboard alone: Tab to a control, then Enter or a shortcut
    keys.press("Find duplicates")
    page.get_by_text("merged automatically as duplicates").wait_for(timeout=120_000)
    # the merged groups, read before Tab walks through the table (the focus then moves its
    # view to a cell at the right, out of the way of the first columns' headers)
    grid = page.get_by_test_id("stDataFrame").locator("[role=grid]").first
    grid.wait_for(state="attached")
    every = int(grid.get_attribute("aria-rowcount"))
    assert grid.locator("[role=columnheader]", has_text="Why merged").count() == 1
    removed = _metric(page, "Duplicates removed")
    waiting = _metric(page, "Possible duplicates to check")
    assert removed > 0 and waiting > 0

    page.get_by_role("heading", name="Is this the same study?").wait_for()
    page.get_by_text("Record A").first.wait_for()
    screenshot(page, "dedup-pair")
    settled(page)  # a shortcut pressed mid-run can be lost
    page.keyboard.press("s")  # same study
    page.wait_for_function(
        "n => [...document.querySelectorAll('[data-testid=stMetric]')].some("
        "m => m.innerText.includes('Duplicates removed') && m.innerText.trim().endsWith(String(n)))",
        arg=removed + 1)
    settled(page)
    assert _metric(page, "Possible duplicates to check") == waiting - 1

    keys.press("Undo last decision")
    page.wait_for_function(
        "n => [...document.querySelectorAll('[data-testid=stMetric]')].some("
        "m => m.innerText.includes('Possible duplicates to check') && m.innerText.trim().endsWith(String(n)))",
        arg=waiting)
    settled(page)
    assert _metric(page, "Duplicates removed") == removed

    keys.press("Different studies")
    page.wait_for_function(
        "n => [...document.querySelectorAll('[data-testid=stMetric]')].some("
        "m => m.innerText.includes('Possible duplicates to check') && m.innerText.trim().endsWith(String(n)))",
        arg=waiting - 1)
    settled(page)
    assert _metric(page, "Duplicates removed") == removed

    # Merged groups say why they were merged and can be filtered by that rule.
    page.get_by_role("heading", name="Merged groups").wait_for()
    keys.reach("Show groups merged by")
    page.keyboard.press("ArrowDown")  # open the list
    options = page.get_by_role("option")
    options.first.wait_for()
    rules = [text.strip() for text in options.all_inner_texts()]
    assert "same identifier and similar title" in rules
    page.keyboard.press("Escape")
    keys.choose_many("Show groups merged by", ["same identifier and similar title"])
    page.wait_for_function(
        "n => { const g = document.querySelector('[data-testid=stDataFrame] [role=grid]');"
        " return g && Number(g.getAttribute('aria-rowcount')) < n; }", arg=every)
    settled(page)
    screenshot(page, "dedup-filter")
    keys.check_focus()
