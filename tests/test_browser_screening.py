"""End to end in headless Chromium, with the keyboard alone: screen with the keys, undo, and
settle a conflict (tests/keyboard.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import screenshot, settled
from tests.keyboard import Keys

pytestmark = pytest.mark.browser


def _screened(page) -> int:
    line = page.get_by_test_id("stProgress").filter(has_text="You have screened")
    line.wait_for()
    return int(re.search(r"You have screened ([\d,]+) of", line.inner_text()).group(1)
               .replace(",", ""))


def _title(page) -> str:
    return page.locator("h3").first.inner_text()


def _press(page, key: str, button: str) -> None:
    """Press a screening shortcut once the run has settled and its button is on screen."""
    settled(page)
    page.get_by_role("button", name=button).first.wait_for()
    page.keyboard.press(key)


def _expect_screened(page, count: int) -> None:
    line = page.get_by_test_id("stProgress").filter(has_text="You have screened")
    expect(line).to_contain_text(re.compile(rf"You have screened {count:,} of"), timeout=60_000)


def test_screen_with_keys_and_undo(page, app_url):
    page.goto(f"{app_url}/screen")
    page.get_by_text("You have screened").wait_for(timeout=120_000)
    page.locator("h3").first.wait_for()
    screenshot(page, "screen")
    before, first_title = _screened(page), _title(page)
    page.get_by_text("Question.").wait_for()  # the question stays on screen

    _press(page, "e", "Exclude")
    page.wait_for_function(
        "t => document.querySelector('h3') && document.querySelector('h3').innerText !== t",
        arg=first_title, timeout=60_000)
    _expect_screened(page, before + 1)
    assert _title(page) != first_title

    _press(page, "u", "Undo")
    page.wait_for_function(
        "t => document.querySelector('h3') && document.querySelector('h3').innerText === t",
        arg=first_title, timeout=60_000)
    _expect_screened(page, before)

    _press(page, "i", "Include")
    page.wait_for_function(
        "t => document.querySelector('h3') && document.querySelector('h3').innerText !== t",
        arg=first_title, timeout=60_000)
    _expect_screened(page, before + 1)


def test_conflicts_view_settles_a_disagreement(page, app_url):
    page.goto(f"{app_url}/conflicts")
    page.get_by_text("Agreement between reviewers").wait_for(timeout=120_000)
    page.get_by_text("kappa").first.wait_for()
    heading = page.get_by_role("heading", name=re.compile(r"Reviewers disagree \(\d+\)"))
    heading.wait_for()
    waiting = int(re.search(r"\((\d+)\)", heading.inner_text()).group(1))
    assert waiting >= 1
    screenshot(page, "conflicts")
    keys = Keys(page)
    keys.press("Settle as include")
    page.get_by_role("heading", name=f"Reviewers disagree ({waiting - 1})").wait_for()
    keys.check_focus()
