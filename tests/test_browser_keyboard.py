"""Journeys with the keyboard alone (WCAG 2.2 AA 2.1.1, 2.4.7, 2.4.11, 2.5.8).

A researcher starts a review, imports a real export through the file dialogue, finds
duplicates, screens with keys, excludes a report at full text with a reason and takes the
PRISMA diagram away; a peer researcher logs in and sends a story with consent, and the admin
checks it, changes it, puts it in the library and builds the public site. Only Tab,
Enter, Space, Escape, arrows, shortcut keys and typing: nothing is clicked and nothing is
focused by script (tests/keyboard.py). Every focus stop on the way is checked: ring visible, in view,
not covered, at least 24×24 px. The commissioner's journey (a question to a Word brief) is in
test_browser_accessibility.py.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from reviewkit import accounts
from reviewkit.store import Store
from tests.conftest import record_title, running_app, screenshot, settled, wait_for_next_record
from tests.keyboard import Keys
from tests.templates import copy_demo_database

pytestmark = pytest.mark.browser

FORMATS = Path("/work/shared/data/formats")
EXPORT = "scopus_ris_asysd_1.ris"  # 10 records, as Scopus writes RIS
PETE = "pete-password-1"


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory):
    if not (FORMATS / EXPORT).exists():
        pytest.skip(f"the real export {EXPORT} is absent from {FORMATS}")
    with running_app(tmp_path_factory.mktemp("keys"), env={"REVIEWKIT_NO_DEMO": "1"}) as url:
        yield url


def _tab(browser, width: int = 1366, height: int = 768):
    context = browser.new_context(viewport={"width": width, "height": height},
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(90_000)
    return context, page


def _decide(keys: Keys, key: str) -> None:
    """A decision by its shortcut key, with the focus on the page; wait for the next record."""
    tab = keys.tab
    before = record_title(tab)
    tab.keyboard.press(key)
    wait_for_next_record(tab, before, timeout=120_000)
    settled(tab)


def test_a_new_review_to_prisma_with_the_keyboard_alone(browser, fresh_app):
    context, tab = _tab(browser)
    keys = Keys(tab)
    tab.goto(fresh_app)
    tab.get_by_role("heading", name="Overview").wait_for(timeout=120_000)
    keys.type("Name of the review", "Keyboard review")
    keys.type("Review question", "Does blue light affect sleep?")
    keys.press("Create review")
    tab.get_by_role("heading", name="Keyboard review").wait_for()

    keys.go("Import", "Import search results")
    keys.upload("Upload", FORMATS / EXPORT)  # the file dialogue, opened with Enter
    keys.press("Import 1 file(s)")
    tab.get_by_text("The review now holds 10 records").wait_for(timeout=120_000)
    keys.press("Next: Deduplicate")
    tab.get_by_role("heading", name="Find duplicates").wait_for()
    keys.press("Find duplicates")
    tab.get_by_text("merged automatically as duplicates").wait_for(timeout=120_000)

    keys.go("Screen")
    for key in ("i", "i", "e"):
        _decide(keys, key)
    tab.get_by_text(re.compile(r"You have screened 3 of 10")).wait_for()

    # full text: the stage by arrow keys, a reason chosen by typing, Exclude by Enter
    keys.reach("Title and abstract", testid="stButtonGroup")
    tab.keyboard.press("ArrowRight")
    tab.keyboard.press("Enter")
    tab.get_by_text("Reason for excluding (required)").wait_for()
    first = record_title(tab)
    keys.choose("Reason for excluding", "Wrong outcome")
    keys.press("Exclude")
    wait_for_next_record(tab, first, timeout=120_000)
    settled(tab)

    keys.go("PRISMA", "PRISMA 2020 flow diagram")
    svg = keys.download("Download SVG").decode("utf-8")
    assert "Wrong outcome" in svg
    screenshot(tab, "keyboard-prisma")
    assert len(keys.visited) > 40
    keys.check_focus()
    context.close()


@pytest.fixture(scope="module")
def story_app(tmp_path_factory):
    """The demo review with accounts on and a peer researcher."""
    datadir = tmp_path_factory.mktemp("keys-story")
    store = Store(copy_demo_database(datadir / "reviewkit.sqlite"))
    accounts.create_user(store, "boss", role="admin", password="boss-password-1", actor="admin")
    accounts.create_user(store, "pete", role="peer_researcher", password=PETE, actor="admin")
    accounts.set_accounts(store, True, actor="boss")
    store.close()
    with running_app(datadir, env={"REVIEWKIT_NO_DEMO": "1"}) as url:
        yield url


def test_a_peer_researcher_sends_a_story_with_the_keyboard_alone(browser, story_app):
    context, tab = _tab(browser, height=900)
    keys = Keys(tab)
    keys.log_in(story_app, "pete", PETE, lands_on="Local stories")

    keys.go("Local stories")
    keys.reach("Find", role="tab")
    tab.keyboard.press("ArrowRight")  # the tabs: arrows move between them
    tab.get_by_role("tab", name="Share a story", selected=True).wait_for()
    keys.type("Give it a short title", "Knitting got us out of the house")
    keys.type("Tell the story", "Twenty of us meet every Tuesday in the church hall to knit "
              "and talk, and nobody sits alone at home any more.")
    keys.choose("Where did it happen?", "Old Swan")
    keys.choose_many("What is it about?", ["Feeling lonely, making friends"])
    keys.choose("Who is it about?", "Older people")
    keys.type("When did it happen?", "2024")
    keys.type("Whose story is it?", "a retired nurse from the estate")
    keys.reach("They signed a form")  # the first answer: Space chooses it
    tab.keyboard.press(" ")
    settled(tab)
    for part, value in (("day", "01"), ("month", "05"), ("year", "2024")):  # three fields
        keys.reach(f"{part}, When did they say yes?")
        tab.keyboard.type(value)
    tab.keyboard.press("Tab")
    settled(tab)
    keys.press("Send it to a moderator")
    tab.get_by_text(re.compile(r"^Thank you\. Your story is waiting")).first.wait_for(
        timeout=300_000)
    screenshot(tab, "keyboard-story-sent")
    assert len(keys.visited) > 20
    keys.check_focus()
    context.close()

    # the admin checks it, changes it, puts it in the library and builds the public site
    context, tab = _tab(browser, height=900)
    keys = Keys(tab)
    keys.log_in(story_app, "boss", "boss-password-1", lands_on="Overview")
    keys.go("Local stories")
    keys.reach("Find", role="tab")
    tab.keyboard.press("ArrowRight")
    tab.keyboard.press("ArrowRight")
    tab.get_by_role("tab", name="Check stories", selected=True).wait_for()
    tab.get_by_text("What changed, and why").wait_for(timeout=120_000)
    keys.press("Change it before it goes out")  # the expander opens with Enter
    keys.type("Story", " The tea is free.", replace=False)
    tab.keyboard.press("Tab")  # leaving the box sends what was typed
    settled(tab)
    keys.press("Save the changes")
    tab.get_by_text("The tea is free.").first.wait_for()
    keys.press("Put it in the library")
    tab.get_by_text("No story is waiting to be checked.").wait_for()
    keys.go("Publish", "Publish the public site")
    keys.press("Build the site")
    tab.get_by_text("The site is ready").wait_for(timeout=300_000)
    site = zipfile.ZipFile(io.BytesIO(keys.download("Download site.zip")))
    pages = " ".join(site.read(name).decode("utf-8") for name in site.namelist()
                     if name.endswith(".html"))
    assert "Knitting got us out of the house" in pages and "The tea is free." in pages
    screenshot(tab, "keyboard-publish")
    assert len(keys.visited) > 20
    keys.check_focus()
    context.close()
