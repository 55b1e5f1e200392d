"""End to end in headless Chromium: a resident's story goes in, out to the public, and out again.

A peer researcher sends a story with planted personal details and consent; the admin sees
what was taken out and the consent, edits it and publishes it; the story shows on the
Evidence by approach page, in its downloaded brief and beside the evidence map's cell; a
visitor finds it with an everyday query and a place; the peer researcher withdraws consent;
then nobody finds it in the same running app's pages and downloads: library search, Evidence
by approach and its brief, the map's local examples (pairing) and the archive downloaded from
Backup and move — and the store agrees.
"""

from __future__ import annotations

import io
import json
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from reviewkit import accounts
from reviewkit.archive import export_review
from reviewkit.briefs import approach_evidence
from reviewkit.library import Viewer, entries_for_codes, library_entries
from reviewkit.store import Store
from tests.conftest import (
    LostInput,
    click_until,
    read_first_result,
    running_app,
    screenshot,
    settled,
)
from tests.templates import copy_demo_database

pytestmark = pytest.mark.browser

PASSWORDS = {"boss": "boss-password-1", "pete": "pete-password-1"}
STORY = ("My neighbour Sheila Hughes started a knit and natter group at St Oswald's Church "
         "after her husband died. Ring her on 07700 900412 or write to 14 Acacia Road, "
         "L13 5TY. Now twenty of us meet every Tuesday and nobody sits alone at home.")
TITLE = "Knitting got us out of the house"


@dataclass(frozen=True)
class StoryApp:
    url: str
    database: str


@pytest.fixture(scope="module")
def story_app(tmp_path_factory):
    """The app on the demo review, with accounts on: an admin and a peer researcher."""
    datadir = tmp_path_factory.mktemp("story-app")
    database = copy_demo_database(datadir / "reviewkit.sqlite")
    store = Store(database)
    accounts.create_user(store, "boss", role="admin", password=PASSWORDS["boss"], actor="admin")
    accounts.create_user(store, "pete", role="peer_researcher", password=PASSWORDS["pete"],
                         actor="admin")
    accounts.set_accounts(store, True, actor="boss")
    store.close()
    with running_app(datadir, env={"REVIEWKIT_NO_DEMO": "1"}) as url:
        yield StoryApp(url, database)


def _tab(browser, *, width: int = 1300):
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    return context, page


def _log_in(tab, url: str, who: str) -> None:
    tab.goto(url)
    tab.get_by_role("heading", name="Log in").wait_for(timeout=120_000)
    tab.get_by_label("User name").fill(who)
    tab.get_by_label("Password", exact=True).fill(PASSWORDS[who])
    tab.get_by_role("button", name="Log in").click()
    tab.get_by_text(f"Logged in as {who}").wait_for()


def _library(tab, url: str, tab_name: str | None = None, *, signed_in: bool = True) -> None:
    """Open Local stories: through the menu when signed in (a new address starts a new,
    signed-out session), by its address for a visitor."""
    if signed_in:
        settled(tab)
        tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Local stories").click()
    else:
        tab.goto(f"{url}/library")
    tab.get_by_role("heading", name="Local stories").wait_for(timeout=120_000)
    settled(tab, timeout=240_000)  # a changed library is indexed again on the first look
    if tab_name:  # a click on a tab can be lost under load: clicked again once (LostInput)
        click_until(tab, tab.get_by_role("tab", name=tab_name),
                    tab.get_by_role("tab", name=tab_name, selected=True), wait=15_000)


def _pick(tab, label: str, option: str) -> None:
    tab.get_by_label(label).first.click()
    tab.get_by_role("option", name=option).click()
    settled(tab)


def _visitor_search(browser, url: str, query: str):
    context, tab = _tab(browser)
    _library(tab, url, signed_in=False)
    box = tab.get_by_role("textbox", name="Search in your own words")
    box.fill(query)
    box.press("Enter")
    settled(tab)
    return context, tab


def _evidence_pages(tab, *, present: bool) -> None:
    """Evidence by approach (the page and its Markdown brief) and the evidence map's cell:
    the story is on each of them, or on none."""
    nav = tab.get_by_test_id("stSidebarNav")
    settled(tab)
    nav.get_by_role("link", name="Evidence by approach").click()
    tab.get_by_role("heading", name="Evidence by approach").wait_for(timeout=120_000)
    box = tab.get_by_role("textbox", name="Approach", exact=True)
    box.fill("befriending")
    box.press("Enter")
    tab.get_by_role("heading", name="Volunteering, befriending and peer support").wait_for(
        timeout=180_000)
    _shows_story(tab, present)
    with tab.expect_download() as download:
        tab.get_by_role("button", name="Download the brief (Markdown)").click()
    brief = Path(download.value.path()).read_text(encoding="utf-8")
    assert (TITLE in brief) is present
    nav.get_by_role("link", name="Evidence map").click()
    tab.get_by_role("heading", name="Evidence map").first.wait_for(timeout=120_000)
    settled(tab)
    tab.get_by_label("Approach → outcome").first.click()
    tab.keyboard.type("peer support → Less loneliness")  # the list is long: narrow it first
    tab.get_by_role("option", name=re.compile(
        r"^Volunteering, befriending and peer support → Less loneliness")).click()
    settled(tab)
    tab.get_by_text("Local examples and residents' stories").wait_for()
    _shows_story(tab, present)


def _shows_story(tab, present: bool) -> None:
    """Wait for the story on the page (the panels below a heading draw after it), or, once the
    page has settled, find it absent."""
    if present:
        tab.get_by_text(TITLE).first.wait_for(timeout=60_000)
    else:
        settled(tab)
        assert tab.get_by_text(TITLE).count() == 0


def _downloaded_archive_text(tab) -> str:
    """Prepare and download the review's archive on Backup and move; return its text."""
    settled(tab)
    tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Backup and move").click()
    tab.get_by_role("button", name="Prepare the archive").click()
    with tab.expect_download(timeout=240_000) as download:
        tab.get_by_role("button", name=re.compile(r"^Download .*\.zip")).click(timeout=240_000)
    with zipfile.ZipFile(download.value.path()) as zf:
        return " ".join(zf.read(name).decode("utf-8", "replace") for name in zf.namelist())


def _stored_story_ids(database: str) -> set[int]:
    store = Store(database)
    try:
        return {e.db_id for e in library_entries(store) if e.db_id is not None
                and e.status in ("published", "pending")}
    finally:
        store.close()


def test_a_story_goes_in_with_consent_out_to_the_public_and_out_again(browser, story_app):
    url = story_app.url
    # 1. the peer researcher sends it, on a phone-sized screen
    context, pete = _tab(browser)
    _log_in(pete, url, "pete")
    _library(pete, url, "Share a story")
    pete.set_viewport_size({"width": 390, "height": 900})
    pete.get_by_role("button", name="Send it to a moderator").click()
    pete.get_by_text("Please give your story a short title.").wait_for()
    assert pete.get_by_text(re.compile("local_authority|population|domains")).count() == 0
    pete.get_by_role("textbox", name="Give it a short title").fill(TITLE)
    pete.get_by_role("textbox", name="Tell the story").fill(STORY)
    pete.get_by_role("textbox", name="Tell the story").blur()
    settled(pete)
    _pick(pete, "Where did it happen?", "Old Swan")
    _pick(pete, "What is it about?", "Feeling lonely, making friends")
    _pick(pete, "What is it about?", "Art, history, local pride")
    pete.keyboard.press("Escape")
    _pick(pete, "Who is it about?", "Older people")
    pete.get_by_role("textbox", name="When did it happen?").fill("2024")
    pete.get_by_role("textbox", name="Whose story is it?").fill("a retired nurse from the estate")
    pete.get_by_text("They signed a form").click()
    settled(pete)
    pete.set_viewport_size({"width": 1300, "height": 1000})
    _log_in(pete, url, "pete")  # a reload starts a new session: the draft is still there
    _library(pete, url, "Share a story")
    assert pete.get_by_role("textbox", name="Give it a short title").input_value() == TITLE
    when = pete.get_by_test_id("stDateInput").filter(has_text="When did they say yes?")
    when.locator("input").fill("2024-05-01")  # a native date field takes ISO dates
    when.locator("input").press("Tab")
    settled(pete)
    pete.wait_for_timeout(1000)
    settled(pete)
    pete.get_by_role("button", name="Send it to a moderator").click()
    # the first story waits for the anonymiser to load (seconds; more on a busy machine)
    outcome = pete.get_by_text(re.compile(r"^Thank you\. Your story is waiting|^Your story is "
                                          r"not sent yet"))
    outcome.first.wait_for(timeout=300_000)
    if not outcome.first.inner_text().startswith("Thank you"):
        # seen under load only: the typed date did not reach the app before "Send" (closing
        # note, LostInput); a person reads the red note, types it again and sends again
        warnings.warn(LostInput("the story was not sent (the consent date not taken?); "
                                "typed the date again and sent again"), stacklevel=1)
        when.locator("input").fill("2024-05-01")
        when.locator("input").press("Tab")
        settled(pete)
        pete.get_by_role("button", name="Send it to a moderator").click()
        pete.get_by_text(re.compile(r"^Thank you\. Your story is waiting")).first.wait_for(
            timeout=300_000)
    assert outcome.first.inner_text().startswith("Thank you"), pete.inner_text("body")[-1500:]
    pete.get_by_text(f"{TITLE} — waiting").wait_for()
    screenshot(pete, "library-share-phone")

    # 2. the admin sees what was taken out and the consent, edits, publishes
    admin_context, boss = _tab(browser)
    _log_in(boss, url, "boss")
    _library(boss, url, "Check stories")
    boss.get_by_text("What changed, and why").wait_for()
    for planted in ("Sheila Hughes", "07700 900412", "14 Acacia Road", "L13 5TY"):
        boss.get_by_text(planted, exact=False).first.wait_for()
    boss.get_by_text("How they said yes: They signed a form").wait_for()
    boss.get_by_text("Sent by: pete", exact=False).wait_for()
    screenshot(boss, "library-moderate")
    boss.get_by_text("Change it before it goes out").click()
    story_box = boss.get_by_role("textbox", name="Story", exact=True)
    story_box.fill(story_box.input_value() + " The tea is free.")
    story_box.press("Tab")  # leaving the box sends what was typed, as a person's next click
    settled(boss)
    # saved once "How it will look" shows the words (a full run once published the story
    # without them: the Save click was lost, and the words in the box itself hid that)
    shown = boss.get_by_test_id("stMarkdownContainer").filter(has_text="The tea is free.")
    click_until(boss, boss.get_by_role("button", name="Save the changes"), shown.first)
    settled(boss)
    boss.get_by_role("button", name="Put it in the library").click()
    boss.get_by_text("No story is waiting to be checked.").wait_for()
    (story_id,) = _stored_story_ids(story_app.database)
    _evidence_pages(boss, present=True)

    # 3. a visitor finds it with everyday words and a place, and opens it where they look
    visitor_context, visitor = _visitor_search(browser, url, "knitting in Old Swan")
    visitor.get_by_text(TITLE).first.wait_for()
    settled(visitor)
    # The story comes first: wait until the first result's title (above the first "Read it")
    # is this story's, so a click never lands on the list drawn before the search answered.
    read_first_result(visitor, TITLE)
    dialog = visitor.get_by_role("dialog")
    dialog.get_by_text("The tea is free.", exact=False).wait_for(timeout=180_000)
    assert dialog.get_by_text("Sheila").count() == 0
    screenshot(visitor, "library-story-dialog")
    visitor_context.close()
    store = Store(story_app.database)
    paired = entries_for_codes(["volunteering_peer_support"], ["reduced_isolation"],
                               viewer=Viewer.public(), entries=library_entries(store), top=100)
    assert story_id in {e.db_id for e, _ in paired}  # the evidence map's local examples
    store.close()

    # 4. the peer researcher withdraws consent
    _library(pete, url, "Share a story")
    pete.get_by_text(f"{TITLE} — published").wait_for()
    mine = pete.locator("[data-testid=stVerticalBlock]",
                        has=pete.get_by_text(f"{TITLE} — published")).last
    mine.get_by_role("button", name="Take it out of the library").click()
    pete.get_by_text("Withdrawn story — withdrawn").wait_for()  # even the title is gone
    assert pete.get_by_text(f"{TITLE} — published").count() == 0
    context.close()

    # 5. nobody finds it any more, in the same running app
    visitor_context, visitor = _visitor_search(browser, url, "knitting in Old Swan")
    visitor.get_by_text(re.compile(r"stor(y matches|ies match)|Nothing matches")).first.wait_for()
    assert visitor.get_by_text(TITLE).count() == 0
    visitor_context.close()
    _library(boss, url, "Find")
    box = boss.get_by_role("textbox", name="Search in your own words")
    box.fill("knit and natter tea is free")
    box.press("Enter")
    settled(boss)
    assert boss.get_by_text(TITLE).count() == 0
    _evidence_pages(boss, present=False)
    archive_text = _downloaded_archive_text(boss)
    assert archive_text and "Knitting" not in archive_text and "Sheila" not in archive_text
    assert "knit and natter" not in archive_text
    admin_context.close()
    store = Store(story_app.database)
    try:
        assert story_id not in _stored_story_ids(story_app.database)
        review = store.list_reviews()[0]
        local = approach_evidence(store, review, "volunteering_peer_support").local
        assert story_id not in {e.db_id for e, _ in local}
        paired = entries_for_codes(["volunteering_peer_support"], ["reduced_isolation"],
                                   viewer=Viewer(moderator=True),
                                   entries=library_entries(store), top=100)
        assert story_id not in {e.db_id for e, _ in paired}
        archive = export_review(store, review.id, actor="boss")
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            everything = " ".join(zf.read(name).decode("utf-8", "replace")
                                  for name in zf.namelist() if name.endswith(".jsonl"))
        assert "Knitting" not in everything and "Sheila" not in everything
        lines = [a for a in store.audit_entries() if a.entity == "library_entry"
                 and a.entity_id == str(story_id)]
        assert lines[0].action == "library.withdraw"
        assert "Knitting" not in json.dumps([a.details for a in lines])
    finally:
        store.close()
