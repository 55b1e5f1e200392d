"""End to end in headless Chromium: screen with the keyboard, undo, and settle a conflict."""

from __future__ import annotations

import re

import pytest

from tests.conftest import screenshot

pytestmark = pytest.mark.browser


def _screened(page) -> int:
    metric = page.get_by_test_id("stMetric").filter(has_text="Screened by you")
    metric.wait_for()
    return int(re.search(r"(\d+)\s*/", metric.inner_text()).group(1))


def _title(page) -> str:
    return page.locator("h3").first.inner_text()


def test_screen_with_keys_and_undo(page, app_url):
    page.goto(f"{app_url}/screen")
    page.get_by_text("Screened by you").wait_for(timeout=120_000)
    page.locator("h3").first.wait_for()
    screenshot(page, "screen")
    before, first_title = _screened(page), _title(page)
    page.get_by_text("Question.").wait_for()  # the question stays on screen

    page.locator("h1").first.click()  # keep focus away from text boxes
    page.keyboard.press("e")
    page.wait_for_function(
        "t => document.querySelector('h3') && document.querySelector('h3').innerText !== t",
        arg=first_title, timeout=60_000)
    assert _screened(page) == before + 1
    second_title = _title(page)
    assert second_title != first_title

    page.locator("h1").first.click()
    page.keyboard.press("u")
    page.wait_for_function("t => document.querySelector('h3').innerText === t", arg=first_title,
                           timeout=60_000)
    assert _screened(page) == before

    page.locator("h1").first.click()
    page.keyboard.press("i")
    page.wait_for_function("t => document.querySelector('h3').innerText !== t", arg=first_title,
                           timeout=60_000)
    assert _screened(page) == before + 1


def test_conflicts_view_settles_a_disagreement(page, app_url):
    page.goto(f"{app_url}/conflicts")
    page.get_by_text("Agreement between reviewers").wait_for(timeout=120_000)
    page.get_by_text("kappa").first.wait_for()
    heading = page.get_by_role("heading", name=re.compile(r"Waiting for a decision \(\d+\)"))
    heading.wait_for()
    waiting = int(re.search(r"\((\d+)\)", heading.inner_text()).group(1))
    assert waiting >= 1
    screenshot(page, "conflicts")
    page.get_by_role("button", name="Settle as include").first.click()
    page.get_by_role("heading", name=f"Waiting for a decision ({waiting - 1})").wait_for()
