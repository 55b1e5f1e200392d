"""End to end in headless Chromium: two reviewers in rapid-review mode.

Both screen the same calibration sample; once they agree, each record goes to one of them;
an exclusion drawn for checking goes to the other, and their disagreement reaches the lead's
Conflicts page with the calibration figures. Everyone uses the keyboard alone.
"""

from __future__ import annotations

import pytest

from reviewkit import accounts
from reviewkit.formats import Record
from reviewkit.store import Store
from tests.conftest import running_app, screenshot
from tests.keyboard import Keys
from tests.test_browser_screening import _press, _title

pytestmark = pytest.mark.browser

PASSWORDS = {"lead": "lead-password-1", "ana": "ana-password-1", "ben": "ben-password-1"}
TITLES = [f"Peer support study {word}" for word in
          ("Alder", "Birch", "Cedar", "Damson", "Elm", "Fir", "Gorse", "Hazel")]


@pytest.fixture(scope="module")
def rapid_app(tmp_path_factory):
    datadir = tmp_path_factory.mktemp("rapid-app")
    store = Store(f"sqlite:///{datadir / 'reviewkit.sqlite'}")
    accounts.create_user(store, "lead", role="admin", password=PASSWORDS["lead"], actor="admin")
    for who in ("ana", "ben"):
        accounts.create_user(store, who, role="researcher", password=PASSWORDS[who],
                             actor="admin")
    review = store.create_review("Rapid peer support", actor="lead", settings={
        # every single exclusion is checked, so the test knows which record comes back
        "screening_mode": "rapid", "calibration_size": 3, "verification_percent": 100})
    store.add_import(review.id, [Record(title=t) for t in TITLES], filename="peer.ris",
                     format="ris", sha256="e" * 64, size_bytes=1)
    for who in ("ana", "ben"):
        accounts.add_member(store, review.id, who, actor="lead")
    accounts.set_accounts(store, True, actor="lead")
    store.close()
    with running_app(datadir, env={"REVIEWKIT_NO_DEMO": "1"}) as url:
        yield url


def _tab(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


def _log_in_and_screen(keys: Keys, url: str, who: str) -> None:
    """Log in and open Screen with the keyboard alone."""
    keys.log_in(url, who, PASSWORDS[who], lands_on="Overview")
    keys.go("Screen")
    keys.tab.get_by_text("You have screened").wait_for(timeout=120_000)


def _exclude(page) -> str:
    """Exclude the record on screen; return its title once the page has moved on."""
    title = _title(page)
    _press(page, "e", "Exclude")
    page.wait_for_function(
        "t => !document.querySelector('h3') || document.querySelector('h3').innerText !== t",
        arg=title, timeout=60_000)
    return title


def test_calibration_then_single_then_check(browser, rapid_app):
    """Three people, each with the keyboard alone: Tab, Enter and the screening keys."""
    ana_context, ana = _tab(browser)
    ben_context, ben = _tab(browser)
    lead_context, lead = _tab(browser)
    ana_keys, ben_keys, lead_keys = Keys(ana), Keys(ben), Keys(lead)
    try:
        _log_in_and_screen(ana_keys, rapid_app, "ana")
        ana.get_by_text("calibration round 1").wait_for()
        calibration = {_exclude(ana) for _ in range(3)}
        ana.get_by_text("You have screened the whole calibration sample").wait_for()
        screenshot(ana, "rapid-calibration-done")

        _log_in_and_screen(ben_keys, rapid_app, "ben")
        ben.get_by_text("calibration round 1").wait_for()
        seen = {_exclude(ben) for _ in range(3)}
        assert seen == calibration  # the same sample for both
        # they agreed on all three: single screening starts for ben straight away
        ben.get_by_text("Calibration ended in round 1").wait_for()
        single = _exclude(ben)
        assert single in TITLES and single not in calibration

        # ana is handed ben's exclusion to check before any new record, and disagrees
        ana_keys.go("Conflicts")
        ana.get_by_role("heading", name="Conflicts and agreement").wait_for()
        ana_keys.go("Screen")
        ana.get_by_text("Calibration ended in round 1").wait_for(timeout=120_000)
        ana.locator("h3").first.wait_for()
        assert _title(ana) == single
        _press(ana, "i", "Include")
        ana.wait_for_function(
            "t => !document.querySelector('h3') || document.querySelector('h3').innerText !== t",
            arg=single, timeout=60_000)
        assert _title(ana) not in calibration | {single}
        screenshot(ana, "rapid-single")

        # the lead sees the disagreement and the calibration figures on Conflicts
        _log_in_and_screen(lead_keys, rapid_app, "lead")
        lead_keys.go("Conflicts")
        lead.get_by_role("heading", name="Reviewers disagree (1)").wait_for(timeout=120_000)
        lead.get_by_text(single).first.wait_for()
        lead.get_by_text("Round 1: 3 records, agreement on 3 (100%)").wait_for()
        lead.get_by_text("Gwet's AC1").first.wait_for()
        screenshot(lead, "rapid-conflicts")
        for keys in (ana_keys, ben_keys, lead_keys):
            keys.check_focus()
    finally:
        for context in (ana_context, ben_context, lead_context):
            context.close()
