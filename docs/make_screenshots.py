"""Take the README's screenshots from the real app in headless Chromium.

    python docs/make_screenshots.py             # every page
    python docs/make_screenshots.py clusters    # only the pages named ('charts': the
                                                # synthesis charts, drawn from the demo)

Starts the app on a fresh database (so it opens on the demo review), visits each page as a
user would, and writes docs/screenshots/<page>.png.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"

_SYNTH_CELL = "approach=community_governance&outcome=empowerment_control"
# page path -> (file name, text to wait for, optional action before the shot)
PAGES = [
    ("", "overview", "Records identified", None),
    ("import", "import", "Import search results", None),
    ("records", "records", "records match", "select_row"),
    ("deduplicate", "deduplicate", "Is this the same study?", None),
    ("screen", "screen", "You have screened", None),
    ("conflicts", "conflicts", "Agreement between reviewers", None),
    ("prisma", "prisma", "PRISMA 2020 flow diagram", None),
    ("evidence-map", "evidence-map", "Evidence map", None),
    ("evidence-by-approach?q=help+with+money+worries", "evidence-by-approach",
     "Strength of evidence", None),
    ("code", "code", "Code studies", None),
    ("extract", "extract", "Your extraction", "pick_nrp"),
    ("appraise", "appraise", "Design category", "pick_nrp"),
    ("appraise", "appraise-chart", "Design category", "appraisal_chart"),
    (f"synthesis?{_SYNTH_CELL}", "synthesis", "What the studies say together", None),
    (f"synthesis?{_SYNTH_CELL}", "synthesis-certainty", "What the studies say together",
     "certainty_tab"),
    (f"evidence-map?{_SYNTH_CELL}", "evidence-map-certainty", "filled cells", "map_certainty"),
    ("clusters", "clusters", " topics; ", "wait_plot"),
    ("library", "library", "Local stories", None),
    ("library", "library-share", "Share a story", "share_story"),
    ("team", "team", "Accounts", None),
    ("publish", "publish", "Build the site", None),
    ("audit", "audit", "Audit trail", None),
    ("backup", "backup", "Backup and move", None),
]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(only: list[str]) -> None:
    unknown = set(only) - {name for _path, name, _text, _action in PAGES} - {"charts"}
    if unknown:
        raise SystemExit(f"no such page: {', '.join(sorted(unknown))}")
    OUT.mkdir(parents=True, exist_ok=True)
    data = tempfile.mkdtemp(prefix="reviewkit-shots-")
    port = _port()
    env = dict(os.environ, REVIEWKIT_DATA_DIR=data, HF_HUB_OFFLINE="1")
    env.pop("REVIEWKIT_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
         "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(120_000)
            for path, name, wait_text, action in PAGES:
                if only and name not in only:
                    continue
                page.goto(f"{url}/{path}")
                try:
                    page.get_by_text(wait_text).first.wait_for()
                except Exception as exc:  # a page this build does not have: skip it
                    print(f"skipped {name}: {exc.__class__.__name__}")
                    continue
                if action == "select_row":
                    page.get_by_test_id("stDataFrame").first.wait_for()
                if action == "share_story":  # the library's form for adding a story
                    page.get_by_role("tab", name="Share a story").click()
                    page.get_by_role("tabpanel").get_by_role("textbox").first.wait_for()
                if action == "pick_nrp":  # the demo study with most extracted
                    page.get_by_test_id("stSelectbox").filter(has_text="Study").first.click()
                    page.get_by_role("option", name=re.compile("Neighbourhood Resilience")).click()
                    page.wait_for_timeout(1500)
                if action == "appraisal_chart":  # the summary tab's traffic-light chart
                    page.get_by_role("tab", name="Summary and chart").click()
                    page.get_by_test_id("stImage").first.wait_for()
                if action == "certainty_tab":
                    page.get_by_role("tab", name="Certainty").click()
                    page.get_by_text("How sure we are").first.wait_for()
                if action == "map_certainty":
                    page.get_by_test_id("stRadio").get_by_text("Certainty", exact=True).click()
                    page.locator(".legendtext", has_text="Low certainty").first.wait_for()
                if action == "wait_plot":  # the map draws after the page's text
                    page.locator(".scatterlayer .trace").first.wait_for()
                try:  # the page has finished running (no placeholder boxes left in the shot)
                    page.get_by_test_id("stStatusWidget").wait_for(state="hidden", timeout=60_000)
                except Exception:
                    pass
                page.wait_for_timeout(2500)
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
                print(f"wrote docs/screenshots/{name}.png")
            browser.close()
        if not only or "charts" in only:
            _charts(data)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _charts(data: str) -> None:
    """The synthesis charts of the demo's community-governance cells, as the page draws them."""
    sys.path.insert(0, str(ROOT))  # this checkout's reviewkit, as the app it started uses
    from reviewkit.codebook import review_codebook
    from reviewkit.store import Store
    from reviewkit.synthesis import effect_direction_plot, harvest_plot, synthesis_cells

    store = Store(f"sqlite:///{data}/reviewkit.sqlite")
    review = store.get_review("Developing resilient communities (demo)")
    codebook = review_codebook(store, review.id)
    cells = [c for (a, _), c in synthesis_cells(store, review).items()
             if a == "community_governance" and c.studies]
    label = lambda c: codebook.label("outcome", c)  # noqa: E731
    rated = [c for c in cells if c.outcome in ("empowerment_control", "mental_health",
                                                "social_cohesion")]
    (OUT / "effect-direction.png").write_bytes(effect_direction_plot(
        rated, "png", outcome_label=label,
        title="Community governance and co-production: effect direction"))
    (OUT / "harvest-plot.png").write_bytes(harvest_plot(
        cells, "png", outcome_label=label, title="Community governance and co-production"))
    store.close()
    print("wrote docs/screenshots/effect-direction.png and harvest-plot.png")


if __name__ == "__main__":
    main(sys.argv[1:])
