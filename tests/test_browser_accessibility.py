"""Every page of the app through axe-core (counts by impact, none serious or critical) and one
whole round of Tab (no trap; every stop with a visible, unobscured focus and at least 24×24
px), and a commissioner's question answered with the keyboard alone (WCAG 2.2 AA; README,
accessibility statement)."""

from __future__ import annotations

import json
import zipfile
from urllib.parse import urlparse

import pytest

from reviewkit.ui.page_list import addresses
from tests.conftest import ARTIFACTS, settled
from tests.keyboard import Keys

pytestmark = pytest.mark.browser

ADDRESSES = addresses()


@pytest.fixture(scope="module")
def tab(browser, app_url):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.app_url = app_url
    yield page
    context.close()


def _open(tab, address: str) -> None:
    tab.goto(f"{tab.app_url}/{address}")
    tab.locator("h1").first.wait_for(timeout=120_000)
    settled(tab)
    tab.wait_for_function("document.documentElement.lang === 'en-GB'")  # the page fixes ran


def _axe(tab) -> tuple[dict[str, int], list[str]]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(tab).response["violations"]
    counts: dict[str, int] = {}
    for v in found:
        counts[v["impact"]] = counts.get(v["impact"], 0) + len(v["nodes"])
    return counts, [f"{v['id']} ({len(v['nodes'])}): {v['help']}" for v in found
                    if v["impact"] in ("serious", "critical")]


def _tab_round(tab) -> Keys:
    """Tab through the whole page once, from the top until the focus is back at the first
    stop (the skip link): no control holds the focus captive; the stops are kept to check."""
    keys = Keys(tab)
    for _ in range(300):
        here = keys.step()
        if here["name"].startswith("Skip to main content") and len(keys.visited) > 1:
            keys.visited.pop()  # back at the start: that stop was checked the first time
            return keys
    pytest.fail(f"the focus never came back to the top of {tab.url}: "
                f"{[v['name'] for v in keys.visited[-20:]]}")


def test_every_page_passes_axe_with_no_serious_or_critical_violation(tab):
    assert len(ADDRESSES) >= 17 and "overview" in ADDRESSES
    counts, serious, stops = {}, {}, {}
    for address in ADDRESSES:
        _open(tab, address)
        assert tab.get_by_text("Page not found").count() == 0, address
        assert urlparse(tab.url).path == ("/overview" if address == "login" else f"/{address}")
        counts[address], problems = _axe(tab)
        if problems:
            serious[address] = problems
        # and with the keyboard: every stop of a whole round of Tab, focus visible and
        # unobscured, at least 24x24 px
        keys = _tab_round(tab)
        keys.check_focus()
        stops[address] = len(keys.visited)
    print("Tab stops per page (one whole round, each checked):", json.dumps(stops))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-app.json").write_text(json.dumps(counts, indent=1), encoding="utf-8")
    print("axe violations (elements) by impact, per page:", json.dumps(counts))
    assert serious == {}


def test_a_question_to_a_downloaded_word_brief_with_the_keyboard_alone(tab, tmp_path):
    _open(tab, "overview")
    keys = Keys(tab, limit=80)
    keys.type("Find the evidence on", "help with money worries")
    tab.keyboard.press("Enter")
    tab.get_by_role("heading", name="Evidence by approach").wait_for()
    tab.get_by_role("button", name="Download the brief (Word)").wait_for(timeout=120_000)
    saved = tmp_path / "brief.docx"
    saved.write_bytes(keys.download("Download the brief (Word)"))  # the accessible form, first
    with zipfile.ZipFile(saved) as docx:
        assert "Evidence brief:" in docx.read("word/document.xml").decode("utf-8")
    assert len(keys.visited) > 20
    keys.check_focus()


def test_a_long_title_leaves_the_decision_buttons_in_view_on_a_laptop(browser, tmp_path):
    from reviewkit.records import Record
    from reviewkit.store import Store
    from tests.conftest import running_app

    store = Store(f"sqlite:///{tmp_path / 'reviewkit.sqlite'}")
    review = store.create_review("Long titles", question="Do long titles fit?",
                                 inclusion_criteria="Adults\nCommunity settings\nAny design")
    title = ("Community resilience, social prescribing, volunteering and peer support in "
             "deprived neighbourhoods of the North West of England: a mixed-methods evaluation "
             "with residents, link workers and commissioners over five years of follow-up")
    assert len(title) > 220
    store.add_import(review.id, [Record(title=title, abstract="Background. " * 120, year=2020,
                                        authors=[f"Author {i}, A." for i in range(12)],
                                        journal="Journal of Community Health")],
                     filename="long.csv", format="csv", sha256="1" * 64, size_bytes=1)
    store.close()
    with running_app(tmp_path, env={"REVIEWKIT_NO_DEMO": "1"}) as url:
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        try:
            tab = context.new_page()
            tab.goto(url + "/screen")
            tab.get_by_role("button", name="Exclude").first.wait_for(timeout=120_000)
            settled(tab)
            assert title in tab.get_by_role("heading", level=3).first.inner_text()
            for name in ("Include", "Exclude", "Maybe"):
                box = tab.get_by_role("button", name=name).first.bounding_box()
                assert box["y"] + box["height"] <= 768, (name, box)
        finally:
            context.close()
