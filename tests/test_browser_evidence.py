"""End to end in headless Chromium: the evidence map, a commissioner's brief, the library."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import ARTIFACTS, screenshot, settled
from tests.keyboard import Keys

pytestmark = pytest.mark.browser


def test_evidence_map_click_a_cell_to_see_its_studies(page, app_url):
    page.goto(f"{app_url}/evidence-map")
    page.get_by_text("filled cells").wait_for(timeout=120_000)
    bubble = page.locator(".scatterlayer .trace .points path").first
    bubble.wait_for()
    settled(page)  # a click during a run can be lost
    bubble.click(force=True)
    page.get_by_role("heading", name=re.compile("→")).wait_for()
    studies = page.get_by_test_id("stDataFrame").first
    studies.wait_for()
    page.get_by_text("Local examples and residents' stories").wait_for()
    screenshot(page, "evidence-map-cell")


def test_commissioner_searches_sees_studies_and_local_cases_and_takes_a_brief(page, app_url):
    page.goto(f"{app_url}/evidence-by-approach")
    page.get_by_role("textbox", name="Approach").wait_for(timeout=120_000)
    keys = Keys(page)  # the keyboard alone from here (tests/keyboard.py)
    keys.type("Approach", "social prescribing")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Social prescribing and community navigation").wait_for()
    metric = page.get_by_test_id("stMetric").filter(has_text="Included studies")
    assert int(re.search(r"(\d+)\s*$", metric.inner_text()).group(1)) >= 1
    page.get_by_text("What the studies found", exact=True).wait_for()
    page.get_by_text("Local examples and residents' stories").wait_for()
    page.get_by_text("case study").first.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "brief-social-prescribing.pdf"
    pdf.write_bytes(keys.download("Download the brief (PDF)"))
    assert pdf.read_bytes().startswith(b"%PDF")
    keys.check_focus()
    screenshot(page, "evidence-by-approach")
    # the brief's pages as PNG, to look at
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTIFACTS / "brief-page")],
                   check=True)
    assert list(ARTIFACTS.glob("brief-page-*.png"))


def test_library_search_filter_open_and_follow_to_evidence(page, app_url):
    page.goto(f"{app_url}/library")
    page.get_by_role("textbox", name="Search in your own words").wait_for(timeout=120_000)
    keys = Keys(page)  # the keyboard alone (tests/keyboard.py)
    keys.type("Search in your own words", "loneliness")
    page.keyboard.press("Enter")
    page.get_by_text(re.compile(r"^\d+ stories match")).wait_for()
    keys.press("Narrow it down")  # an expander: Enter opens it
    keys.choose_many("Council area", ["Knowsley"])  # typing narrows the long list
    page.get_by_text(re.compile(r"^\d+ stor(y matches|ies match)")).wait_for()
    keys.press("Read it")
    link = page.get_by_role("link", name=re.compile("^Evidence on "))
    link.first.wait_for()
    screenshot(page, "library-story")
    with page.context.expect_page() as opened:
        keys.press("Evidence on ")  # the story's link to its approach, in a new tab
    keys.check_focus()
    evidence = opened.value
    evidence.get_by_test_id("stMetric").filter(has_text="Included studies").wait_for(timeout=120_000)


# -- a commissioner, accounts on: everyday words, a PDF in three clicks, a link that works -----

CARA = ("cara", "cara-password-1")


@pytest.fixture(scope="module")
def commissioner_app(tmp_path_factory):
    """The app on the demo review with accounts on and a commissioner on the review's team."""
    from reviewkit import accounts
    from reviewkit.demo import ensure_demo_review
    from reviewkit.store import Store
    from tests.conftest import running_app
    from tests.templates import copy_demo_database

    datadir = tmp_path_factory.mktemp("commissioner-app")
    store = Store(copy_demo_database(datadir / "reviewkit.sqlite"))
    review = ensure_demo_review(store)
    accounts.create_user(store, "lead", role="admin", password="lead-password-1", actor="admin")
    accounts.create_user(store, CARA[0], role="commissioner", password=CARA[1], actor="admin")
    accounts.add_member(store, review.id, CARA[0], role="commissioner", actor="lead")
    accounts.set_accounts(store, True, actor="lead")
    store.close()
    with running_app(datadir) as url:
        yield url


def _log_in(tab, who: str, password: str) -> None:
    tab.get_by_role("heading", name="Log in").wait_for(timeout=120_000)
    settled(tab)
    tab.get_by_label("User name").fill(who)
    tab.get_by_label("Password", exact=True).fill(password)
    tab.get_by_role("button", name="Log in").click()


def test_commissioner_types_everyday_words_takes_a_pdf_in_three_clicks_and_shares_the_view(
        browser, commissioner_app, tmp_path):
    from pypdf import PdfReader

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    tab.goto(commissioner_app)
    _log_in(tab, *CARA)
    clicks = 0
    box = tab.get_by_role("textbox", name="Approach")  # the commissioner's front page
    box.wait_for(timeout=120_000)
    settled(tab)
    box.click()
    clicks += 1
    box.fill("help with money worries")
    box.press("Enter")
    heading = "Debt advice, credit unions and financial inclusion"
    tab.get_by_role("heading", name=heading).wait_for(timeout=120_000)
    tab.get_by_text("matched:").first.wait_for()
    settled(tab)
    for other in ("Word", "Markdown"):  # beside the PDF, one click each
        tab.get_by_role("button", name=f"Download the brief ({other})").wait_for()
    with tab.expect_download() as download:
        tab.get_by_role("button", name="Download the brief (PDF)").click()
    clicks += 1
    assert clicks <= 3
    pdf = tmp_path / "brief.pdf"
    download.value.save_as(str(pdf))
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(str(pdf)).pages)
    assert "Evidence brief: Debt advice" in text and "Strength of the evidence" in text
    assert "INTERIM" in text  # the demo review still has records to screen
    screenshot(tab, "commissioner-brief")

    # "Follow the evidence" in a new tab: log in there, and land on the same view
    with context.expect_page() as opened:
        tab.get_by_role("link", name="Follow the evidence").click()
    other = opened.value
    other.set_default_timeout(60_000)
    _log_in(other, *CARA)
    other.get_by_role("heading", name=heading).wait_for(timeout=120_000)
    settled(other)
    assert other.get_by_role("textbox", name="Approach").input_value() == "help with money worries"
    assert "approach=financial_inclusion" in other.url and "review=" in other.url
    assert other.get_by_text("Page not found").count() == 0

    # any page's address opens: one she may not open says why instead of "Page not found"
    other.goto(f"{commissioner_app}/overview")
    other.get_by_role("heading", name="Log in").or_(other.get_by_text("may not")).first.wait_for()
    settled(other)
    assert other.get_by_text("Page not found").count() == 0
    context.close()
