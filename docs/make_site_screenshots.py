"""Take the README's screenshots of the public site, opened from disk in headless Chromium.

    python docs/make_site_screenshots.py

Builds the demo review in a throwaway database, publishes the site into a temporary folder,
and writes docs/screenshots/public-site.png (the start page searching "loneliness") and
public-site-approach.png (an approach with its verdicts).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from reviewkit.demo import ensure_demo_review
from reviewkit.publish import write_site
from reviewkit.store import Store

OUT = Path(__file__).resolve().parent / "screenshots"


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="reviewkit-site-shots-"))
    store = Store(f"sqlite:///{folder / 'demo.sqlite'}")
    site = write_site(store, folder / "site", review=ensure_demo_review(store), formats=("md",))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto((site.output / "index.html").as_uri())
        page.get_by_label("Search the stories").fill("loneliness")
        page.screenshot(path=str(OUT / "public-site.png"))
        page.goto((site.output / "approaches" / "community-connectors.html").as_uri())
        page.screenshot(path=str(OUT / "public-site-approach.png"))
        browser.close()
    print("wrote docs/screenshots/public-site.png and public-site-approach.png")


if __name__ == "__main__":
    main()
