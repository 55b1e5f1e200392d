"""End to end in headless Chromium: open the app, upload a RIS export, see the records arrive.

The pattern every page's browser test follows: the real server (``app_url``), a real browser
(``page``), waits on what a person would look for, and a screenshot in test-artifacts/.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import screenshot

pytestmark = pytest.mark.browser

# Each record is headed as Cochrane's exports head them: a line the reader skips and notes.
RIS = """Record #{n} of 7
TY  - JOUR
AU  - Kaloudis, H.
AU  - Popay, J.
TI  - Neighbourhood resilience and perceived influence: a browser upload test {n}
T2  - Test Journal of Public Health
PY  - 2024
VL  - 12
SP  - 101
EP  - 110
DO  - 10.9999/browser.{n}
DB  - Scopus
ER  -\x20
"""


def _ris_file(tmp_path, count: int):
    path = tmp_path / "scopus_upload.ris"
    path.write_text("\r\n".join("".join(RIS.format(n=i) for i in range(count)).splitlines()) + "\r\n",
                    encoding="utf-8")
    return path


def _identified(page, app_url: str) -> int:
    page.goto(app_url)
    metric = page.get_by_test_id("stMetric").filter(has_text="Records identified")
    metric.wait_for()
    return int(re.search(r"(\d+)\s*$", metric.inner_text()).group(1))


def test_upload_ris_and_see_the_count(page, app_url, tmp_path):
    before = _identified(page, app_url)
    assert before > 0, "the app should open on the ready demo review"

    page.goto(f"{app_url}/import")
    page.get_by_role("heading", name="Import search results").wait_for()
    page.locator("input[type=file]").set_input_files(str(_ris_file(tmp_path, 7)))
    page.get_by_text("RIS file with").wait_for()
    assert "7 records" in page.get_by_text("RIS file with").inner_text()
    page.get_by_text("Read with 7 repairs").wait_for()
    assert page.get_by_text("text between records ignored (e.g. 'Record #1 of 7')",
                            exact=False).count() == 1
    page.get_by_role("button", name="Import 1 file(s)").click()
    page.get_by_text("7 records imported from Scopus").wait_for()
    screenshot(page, "import-ris")

    # the same file again is noticed, and nothing is added
    page.get_by_role("button", name="Import 1 file(s)").click()
    page.get_by_text("already imported").wait_for()

    assert _identified(page, app_url) == before + 7
