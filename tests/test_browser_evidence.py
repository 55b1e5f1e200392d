"""End to end in headless Chromium: the evidence map, a commissioner's brief, the library."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import ARTIFACTS, screenshot, settled

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
    box = page.get_by_role("textbox", name="Approach")
    box.wait_for(timeout=120_000)
    settled(page)
    box.fill("social prescribing")
    box.press("Enter")
    page.get_by_role("heading", name="Social prescribing and community navigation").wait_for()
    metric = page.get_by_test_id("stMetric").filter(has_text="Included studies")
    assert int(re.search(r"(\d+)\s*$", metric.inner_text()).group(1)) >= 1
    page.get_by_text("What the studies found").wait_for()
    page.get_by_text("Local examples and residents' stories").wait_for()
    page.get_by_text("case study").first.wait_for()
    settled(page)
    page.get_by_role("button", name="Prepare the brief").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the brief (PDF)").click()
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "brief-social-prescribing.pdf"
    download_info.value.save_as(str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    screenshot(page, "evidence-by-approach")
    # the brief's pages as PNG, to look at
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(ARTIFACTS / "brief-page")],
                   check=True)
    assert list(ARTIFACTS.glob("brief-page-*.png"))


def test_library_search_filter_open_and_follow_to_evidence(page, app_url):
    page.goto(f"{app_url}/library")
    box = page.get_by_role("textbox", name="Search in your own words")
    box.wait_for(timeout=120_000)
    settled(page)
    box.fill("loneliness")
    box.press("Enter")
    page.get_by_text(re.compile(r"^\d+ stories match")).wait_for()
    page.get_by_text("Narrow it down").click()
    council = page.get_by_label("Council area", exact=True).first  # the facet multiselect
    council.click()
    page.keyboard.type("Knowsley")  # the option list is long: type to narrow it
    page.get_by_role("option", name="Knowsley").click()
    page.keyboard.press("Escape")
    page.get_by_text(re.compile(r"^\d+ stor(y matches|ies match)")).wait_for()
    page.get_by_role("button", name="Read it").first.click()
    link = page.get_by_role("link", name=re.compile("^Evidence on "))
    link.first.wait_for()
    screenshot(page, "library-story")
    with page.context.expect_page() as opened:
        link.first.click()
    evidence = opened.value
    evidence.get_by_test_id("stMetric").filter(has_text="Included studies").wait_for(timeout=120_000)
