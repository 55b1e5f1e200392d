"""End to end in headless Chromium, with accounts on: each role sees and can do its own work."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import pytest

from reviewkit import accounts
from reviewkit.importing import import_file
from reviewkit.store import Store
from reviewkit.ui.page_list import addresses
from tests.conftest import read_first_result, running_app, screenshot, settled
from tests.keyboard import Keys
from tests.test_importing import GOOD_RIS

pytestmark = pytest.mark.browser

PASSWORDS = {"boss": "boss-password-1", "maria": "maria-password-1",
             "pete": "pete-password-1", "cara": "cara-password-1"}
ROLES = {"boss": "admin", "maria": "researcher", "pete": "peer_researcher",
         "cara": "commissioner"}
ALL_PAGES = ["Overview", "Import", "Records", "Deduplicate", "Screen", "Conflicts",
             "PRISMA diagram", "Evidence map", "Evidence by approach", "Local stories", "Team",
             "Backup and move", "Audit", "Code studies", "Codebook", "Clusters", "Publish",
             "Synthesis and certainty", "Extract", "Appraise"]
SEES = {
    None: {"Log in", "Local stories"},
    "pete": {"Local stories", "Team"},
    "cara": {"Evidence map", "Evidence by approach", "Local stories", "Team",
             "Synthesis and certainty"},
    "maria": {"Overview", "Import", "Records", "Deduplicate", "Screen", "Conflicts",
              "PRISMA diagram", "Evidence map", "Evidence by approach", "Code studies",
              "Codebook", "Clusters", "Local stories", "Team", "Synthesis and certainty",
              "Extract", "Appraise"},
}


@pytest.fixture(scope="module")
def team_app(tmp_path_factory):
    """The app on a database with one review, four accounts, and accounts switched on."""
    datadir = tmp_path_factory.mktemp("team-app")
    store = Store(f"sqlite:///{datadir / 'reviewkit.sqlite'}")
    for name, role in ROLES.items():
        accounts.create_user(store, name, role=role, password=PASSWORDS[name], actor="admin")
    review = store.create_review("Community connectors", actor="boss",
                                 question="Do community connectors reduce loneliness?")
    import_file(store, review, GOOD_RIS.encode(), "scopus.ris", actor="boss")
    accounts.add_member(store, review.id, "maria", actor="boss")
    accounts.add_member(store, review.id, "cara", role="commissioner", actor="boss")
    accounts.set_accounts(store, True, actor="boss")
    store.close()
    with running_app(datadir, env={"REVIEWKIT_NO_DEMO": "1"}) as url:
        yield TeamApp(url, f"sqlite:///{datadir / 'reviewkit.sqlite'}")


@dataclass(frozen=True)
class TeamApp:
    url: str  # the app's address
    database: str  # its database URL


@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def _log_in(tab, url: str, who: str, password: str | None = None) -> None:
    tab.goto(url)
    tab.get_by_role("heading", name="Log in").wait_for(timeout=120_000)
    tab.get_by_label("User name").fill(who)
    tab.get_by_label("Password", exact=True).fill(password or PASSWORDS[who])
    tab.get_by_role("button", name="Log in").click()


def _pages_in_menu(tab) -> set[str]:
    settled(tab)  # the menu is sent at the end of the run that logged in
    nav = tab.get_by_test_id("stSidebarNav")
    nav.wait_for()
    return {name for name in [*ALL_PAGES, "Log in"]
            if nav.get_by_role("link", name=name, exact=True).count()}


def test_a_visitor_sees_the_login_and_the_published_stories_only(tab, team_app):
    tab.goto(team_app.url)
    tab.get_by_role("heading", name="Log in").wait_for(timeout=120_000)
    assert _pages_in_menu(tab) == SEES[None]
    tab.goto(f"{team_app.url}/screen")  # typing the address of a page one may not open
    tab.get_by_role("heading", name="Log in").wait_for()
    # the address is kept and the login shown in its place: never "Page not found"
    settled(tab)
    assert tab.get_by_text("Page not found").count() == 0
    assert tab.url.endswith("/screen")
    assert tab.get_by_text("You have screened").count() == 0
    tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Local stories").click()
    tab.get_by_role("heading", name="Local stories").wait_for()
    tab.get_by_role("tab", name="Share a story").click()
    tab.get_by_text("Log in to share a story.").wait_for()
    screenshot(tab, "roles-visitor")


def test_a_wrong_password_is_refused_plainly(tab, team_app):
    _log_in(tab, team_app.url, "maria", "not-her-password")
    tab.get_by_text("That user name and password do not match an active account.").wait_for()
    assert _pages_in_menu(tab) == SEES[None]


@pytest.mark.parametrize("who", ["pete", "cara", "maria"])
def test_each_role_sees_its_own_pages(tab, team_app, who):
    _log_in(tab, team_app.url, who)
    tab.get_by_text(f"Logged in as {who}").wait_for()
    assert _pages_in_menu(tab) == SEES[who]
    screenshot(tab, f"roles-{who}")


def test_a_researcher_screens_and_a_commissioner_reads_the_evidence(tab, team_app, browser):
    _log_in(tab, team_app.url, "maria")
    tab.get_by_text("Logged in as maria").wait_for()
    tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Screen").click()
    tab.get_by_text("You have screened").wait_for(timeout=120_000)
    settled(tab)
    tab.get_by_role("button", name=re.compile("Include")).first.click()
    tab.get_by_text(re.compile(r"You have screened 1 of 2")).first.wait_for()

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = context.new_page()
    other.set_default_timeout(60_000)
    _log_in(other, team_app.url, "cara")
    other.get_by_text("Logged in as cara").wait_for()
    other.get_by_test_id("stSidebarNav").get_by_role("link", name="Evidence by approach").click()
    other.get_by_role("heading", name="Evidence by approach").wait_for()
    assert other.get_by_text("You have screened").count() == 0
    context.close()


def test_the_admin_adds_a_member_on_the_team_page_with_the_keyboard_alone(tab, team_app):
    keys = Keys(tab)
    keys.log_in(team_app.url, "boss", PASSWORDS["boss"], lands_on="Overview")
    assert _pages_in_menu(tab) == set(ALL_PAGES)  # an admin sees every page, Publish too
    keys.go("Team", "Team of Community connectors")
    keys.choose("Add a person", "pete")
    keys.press("Add to the team")
    tab.get_by_text("pete added to the team.").wait_for()
    screenshot(tab, "team")
    keys.check_focus()
    store = Store(team_app.database)
    assert "pete" in {m.username for m in accounts.members(store, store.list_reviews()[0].id)}
    assert [e.actor for e in store.audit_entries() if e.action == "member.add"][0] == "boss"


def test_logging_out_takes_team_only_reading_with_it(tab, team_app):
    """A team member opens a team-only story, logs out in the same tab, and the visitor who
    now has the tab finds none of it on the stories page."""
    from datetime import date

    from reviewkit.library import Consent, add_contribution, moderate

    store = Store(team_app.database)
    review = store.list_reviews()[0]
    entry_id = add_contribution(store, front_matter={
        "title": "Quokka supper club for the team", "type": "case study",
        "place": "Runcorn", "local_authority": "Halton", "years": "2024",
        "summary": "A team-only account of a supper club.", "attribution": "A member",
        "visibility": "team", "approaches": ["volunteering_peer_support"],
        "outcomes": ["reduced_isolation"], "domains": ["social_connectivity"],
        "population": "Residents"}, body="Only the team reads about the zebrafinch menu.",
        consent=Consent(who="A member", when=date(2024, 5, 1), purposes=["publish"],
                        given_by="signed form"), actor="maria", review_id=review.id)
    moderate(store, entry_id, "publish", actor="boss")
    store.close()

    _log_in(tab, team_app.url, "maria")
    tab.get_by_text("Logged in as maria").wait_for()
    tab.get_by_test_id("stSidebarNav").get_by_role("link", name="Local stories").click()
    box = tab.get_by_role("textbox", name="Search in your own words")
    box.wait_for(timeout=120_000)
    box.fill("quokka supper club")
    box.press("Enter")
    settled(tab)
    read_first_result(tab, "Quokka supper club for the team")
    tab.get_by_text("zebrafinch menu").wait_for()
    dialog = tab.get_by_role("dialog")
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="hidden")
    settled(tab)

    tab.get_by_role("button", name="Log out").click()
    tab.get_by_text("Not logged in").wait_for()
    settled(tab)
    # the tab is still on the stories page, now as a visitor
    tab.get_by_role("heading", name="Local stories").wait_for()
    screenshot(tab, "logged-out-stories")
    text = tab.locator("body").inner_text()
    assert "zebrafinch" not in text and "Quokka" not in text


def _registered_addresses() -> list[str]:
    """Every page address the app script registers (it builds its pages from this list)."""
    return addresses()


def test_every_page_address_opens_and_a_link_survives_the_login(tab, team_app):
    """No page address answers "Page not found" for a visitor: each shows its page or the login
    in its place; a link to a view, followed by a visitor, opens that view once logged in."""
    addresses = _registered_addresses()
    assert {"overview", "screen", "evidence-map", "login", "library"} <= set(addresses)
    for address in ["", *addresses]:
        tab.goto(f"{team_app.url}/{address}")
        settled(tab)
        heading = "Local stories" if address == "library" else "Log in"
        tab.get_by_role("heading", name=heading).wait_for()
        assert tab.get_by_text("Page not found").count() == 0, address
        assert urlparse(tab.url).path == f"/{address or 'login'}", address

    review_id = Store(team_app.database).list_reviews()[0].id
    link = f"/evidence-by-approach?review={review_id}&approach=financial_inclusion"
    tab.goto(team_app.url + link)
    tab.get_by_role("heading", name="Log in").wait_for()
    tab.get_by_label("User name").fill("cara")
    tab.get_by_label("Password", exact=True).fill(PASSWORDS["cara"])
    tab.get_by_role("button", name="Log in").click()
    tab.get_by_role("heading", name="Evidence by approach").wait_for()
    tab.get_by_role("heading", name="Financial inclusion", exact=False).first.wait_for()
    settled(tab)
    opened = urlparse(tab.url)
    assert opened.path == "/evidence-by-approach"
    assert parse_qs(opened.query) == {"review": [str(review_id)], "approach": ["financial_inclusion"]}
