"""A freshly started server's very first page load shows the page asked for, never
Streamlit's "Page not found" dialog (on /, which leads on to the first menu page, and on a
page's own address, /screen)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.conftest import running_app, settled

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("path", "heading", "lands_on"),
                         [("/", "Overview", "/overview"), ("/screen", "Screen", "/screen")])
def test_first_load_of_a_fresh_server_finds_its_page(browser, tmp_path, path, heading, lands_on):
    with running_app(tmp_path) as url:  # a new server: this tab makes its first script run
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        try:
            tab = context.new_page()
            tab.goto(url + path)
            tab.get_by_role("heading", name=heading).first.wait_for(timeout=120_000)
            settled(tab)
            tab.wait_for_timeout(1_000)  # the dialog, were it sent, arrives with the run
            assert tab.get_by_text("Page not found").count() == 0
            assert tab.get_by_role("dialog").count() == 0
            assert urlparse(tab.url).path == lands_on  # a page's address is kept
        finally:
            context.close()
