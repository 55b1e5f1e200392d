"""The public site: built once by the command line on the demo review with planted stories,
then read as files and, in the browser tests, opened from disk."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pytest
from playwright.sync_api import expect

from reviewkit.briefs import build_brief
from reviewkit.codebook import review_codebook
from reviewkit.errors import ReviewkitError
from reviewkit.library import Viewer, add_contribution, moderate
from reviewkit.library.contributions import withdraw_consent
from reviewkit.publish import SITE_WORDS, public_entries, site_zip, write_site
from reviewkit.store import Store
from reviewkit.trash import delete_story
from tests.keyboard import Keys
from tests.templates import copy_demo_database
from tests.test_cli import run_cli
from tests.test_library_contributions import CONSENT, FORM

STORY = dict(FORM, title="Knit & natter <b>Quillfeather</b> club", place="Anytown",
             summary="A weekly group eases loneliness for people who live alone. <script>x()</script>")
# A word planted in each story that must never reach the site, by why it is hidden.
HIDDEN = {"team": "Zorbteamonly", "pending": "Zorbpending", "withdrawn": "Zorbwithdrawn",
          "deleted": "Zorbdeleted"}
APPROACH = "volunteering_peer_support"


@dataclass(frozen=True)
class Built:
    folder: Path
    database: str
    stdout: str


def _story(store, word: str, **changes) -> int:
    fields = dict(STORY, title=f"The {word} story", summary=f"About {word} and loneliness.",
                  place=f"{word}ville", **changes)
    return add_contribution(store, front_matter=fields, body=f"{word} body.", consent=CONSENT,
                            actor="admin", review_id=changes.get("review_id"))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Built:
    folder = tmp_path_factory.mktemp("publish")
    database = copy_demo_database(folder / "demo.sqlite")
    store = Store(database)
    review = store.list_reviews()[0]
    moderate(store, add_contribution(store, front_matter=STORY, body="We knit.\n\nWe talk.",
                                     consent=CONSENT, actor="admin"), "publish", actor="admin")
    moderate(store, _story(store, HIDDEN["team"], visibility="team", review_id=review.id),
             "publish", actor="admin")
    _story(store, HIDDEN["pending"])
    withdrawn = _story(store, HIDDEN["withdrawn"])
    moderate(store, withdrawn, "publish", actor="admin")
    withdraw_consent(store, withdrawn, actor="admin")
    deleted = _story(store, HIDDEN["deleted"])
    moderate(store, deleted, "publish", actor="admin")
    delete_story(store, deleted, actor="admin")
    store.close()
    done = run_cli("--database", database, "publish", "--output", "site", "--briefs", "md,docx",
                   cwd=folder)
    assert done.returncode == 0, done.stderr
    return Built(folder / "site", database, done.stdout)


def _all_text(folder: Path) -> dict[str, str]:
    """Every file's text; Word files by the XML inside them."""
    texts = {}
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix == ".docx":
            with zipfile.ZipFile(path) as docx:
                texts[str(path)] = " ".join(docx.read(n).decode("utf-8", "replace")
                                            for n in docx.namelist() if n.endswith(".xml"))
        elif path.is_file():
            texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return texts


def test_the_command_says_what_it_wrote(site):
    assert "Public site written to" in site.stdout and "Developing resilient" in site.stdout
    for name in ("index.html", "style.css", "search.js", "search-index.js", "search-index.json",
                 f"approaches/{APPROACH.replace('_', '-')}.html",
                 f"briefs/{APPROACH.replace('_', '-')}.md",
                 f"briefs/{APPROACH.replace('_', '-')}.docx"):
        assert (site.folder / name).is_file(), name
    assert not list(site.folder.glob("briefs/*.pdf"))  # only the formats asked for


def test_nothing_team_only_pending_withdrawn_or_deleted_reaches_any_file(site):
    texts = _all_text(site.folder)
    for why, word in HIDDEN.items():
        leaks = [name for name, text in texts.items() if word.lower() in text.lower()]
        assert not leaks, f"the {why} story reached {leaks}"
    assert not [n for n, t in texts.items() if "Withdrawn story" in t]
    # the published public story planted beside them does reach the index, its page and search
    assert "Quillfeather" in (site.folder / "index.html").read_text(encoding="utf-8")
    assert "quillfeather" in (site.folder / "search-index.json").read_text(encoding="utf-8")
    pages = {p.stem for p in (site.folder / "entries").glob("*.html")}
    store = Store(site.database)
    expected = {re.sub(r"[^a-z0-9]+", "-", e.id.lower()).strip("-")
                for e in public_entries(store)}
    store.close()
    assert pages == expected and len(pages) > 40


def test_every_piece_of_user_text_is_escaped(site):
    index = (site.folder / "index.html").read_text(encoding="utf-8")
    assert escape(STORY["title"]) in index
    assert "<b>Quillfeather" not in index and "<script>x()" not in index
    for page in (site.folder / "entries").glob("*quillfeather*.html"):
        text = page.read_text(encoding="utf-8")
        assert "&lt;script&gt;x()&lt;/script&gt;" in text and "<script>" not in text
        assert "<p>We knit.</p>" in text and "<p>We talk.</p>" in text


def test_approach_pages_show_the_verdicts_the_brief_gives(site):
    store = Store(site.database)
    review = store.list_reviews()[0]
    brief = build_brief(store, review, approach=APPROACH, viewer=Viewer.public())
    store.close()
    page = (site.folder / f"approaches/{APPROACH.replace('_', '-')}.html").read_text(encoding="utf-8")
    assert brief.findings
    for block in brief.findings:
        assert escape(block.outcome) in page and escape(block.verdict) in page
        assert escape(block.certainty) in page  # direction and certainty, as the brief says
    rated = (site.folder / "approaches/community-governance.html").read_text(encoding="utf-8")
    assert "We are not very sure (low certainty)" in rated  # the demo's rated cell
    assert "Quillfeather" in page  # the story linked to the approach
    assert f'href="../briefs/{APPROACH.replace("_", "-")}.md" download' in page


def test_the_site_asks_nothing_of_other_hosts(site):
    for path in site.folder.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r'(?:src|href)="(?:https?:)?//', text), path
        assert 'lang="en"' in text and 'class="skip" href="#main"' in text


def test_the_sites_own_wording_reads_at_grade_six_or_below():
    import textstat

    textstat.set_lang("en-GB")  # Pyphen's dictionary; plain "en" downloads one through NLTK
    sentences = [w.rstrip(".") + "." for w in SITE_WORDS.values()]
    grade = textstat.flesch_kincaid_grade(" ".join(sentences))
    assert grade <= 6, grade


def test_a_folder_of_other_files_is_refused_and_an_old_site_is_replaced(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(ReviewkitError, match="already holds other files"):
        write_site(None, tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "keep me"
    first = write_site(None, tmp_path / "site")
    (tmp_path / "site" / "entries" / "stale.html").write_text("old", encoding="utf-8")
    second = write_site(None, tmp_path / "site")
    assert first.entries == second.entries > 40 and second.approaches > 5
    assert not (tmp_path / "site" / "entries" / "stale.html").exists()
    assert "no study results" in (tmp_path / "site" / "approaches").joinpath(
        next(iter(sorted(p.name for p in (tmp_path / "site" / "approaches").iterdir())))
    ).read_text(encoding="utf-8")


def test_the_zip_holds_the_same_site_under_one_folder():
    with zipfile.ZipFile(io.BytesIO(site_zip(None, formats=()))) as archive:
        names = set(archive.namelist())
        index = archive.read("site/index.html").decode("utf-8")
    assert {"site/index.html", "site/search.js", "site/search-index.js"} <= names
    assert sum(n.startswith("site/entries/") for n in names) == index.count('href="entries/') > 40


def test_the_start_page_counts_each_approachs_studies(site):
    store = Store(site.database)
    from reviewkit.evidence_map import coded_studies_for_review

    studies = coded_studies_for_review(store, store.list_reviews()[0].id)
    store.close()
    n = sum(APPROACH in s.approaches for s in studies)
    index = (site.folder / "index.html").read_text(encoding="utf-8")
    assert re.search(rf'{APPROACH.replace("_", "-")}\.html">[^<]+</a> <span class="meta">{n} studies<', index)


# -- in the browser, from disk ------------------------------------------------------------

@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    asked = []
    context.route(re.compile(r"^(?!file:).*"), lambda route: (asked.append(route.request.url),
                                                              route.abort()))
    page.asked_elsewhere = asked
    yield page
    context.close()


def _serious(tab) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(tab).response["violations"]
    counts = {}
    for v in found:
        counts[v["impact"]] = counts.get(v["impact"], 0) + 1
    print(tab.url, "axe violations by impact:", counts or "none")
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]


@pytest.mark.browser
def test_search_filter_story_verdict_and_brief_from_disk(site, tab, tmp_path):
    tab.goto((site.folder / "index.html").as_uri())
    assert _serious(tab) == []
    tab.keyboard.press("Tab")  # the first key press lands on the skip link, shown on screen
    skip = tab.get_by_role("link", name=SITE_WORDS["skip"])
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box["x"] >= 0 and box["width"] >= 24 and box["height"] >= 24
    keys = Keys(tab)  # from here the keyboard alone (tests/keyboard.py)
    keys.type(SITE_WORDS["search_label"], "loneliness")
    keys.reach(SITE_WORDS["place_label"])
    tab.keyboard.type("Anytown")  # a closed drop-down takes the option typed
    cards = tab.locator("ul.cards > li:visible")
    expect(cards).to_have_count(1)
    assert "1 of" in tab.locator("#count").inner_text()
    keys.press(cards.first.get_by_role("link").inner_text().strip())
    tab.get_by_role("heading", level=1, name=re.compile("Quillfeather")).wait_for()
    assert _serious(tab) == []
    keys.press("Volunteering")
    tab.get_by_role("heading", name=SITE_WORDS["what_found"]).wait_for()
    assert tab.locator(".verdict").count() >= 1
    assert _serious(tab) == []
    # From disk Chromium ignores ``download`` on file: links; a Word file downloads anyway.
    saved = tmp_path / "brief.docx"
    saved.write_bytes(keys.download("Word:"))
    keys.check_focus()
    with zipfile.ZipFile(saved) as docx:
        assert "Evidence brief: Volunteering" in docx.read("word/document.xml").decode("utf-8")
    assert tab.asked_elsewhere == []


def test_the_evidence_map_is_a_picture_with_alt_text_and_a_table(site):
    from reviewkit.evidence_map import build_evidence_map, coded_studies_for_review

    store = Store(site.database)
    review = store.list_reviews()[0]
    evidence_map = build_evidence_map(coded_studies_for_review(store, review.id),
                                      review_codebook(store, review.id))
    store.close()
    page = (site.folder / "map.html").read_text(encoding="utf-8")
    assert (site.folder / "map.png").read_bytes().startswith(b"\x89PNG")
    assert 'href="map.html"' in (site.folder / "index.html").read_text(encoding="utf-8")
    alt = re.search(r'<img src="map.png" alt="([^"]+)"', page).group(1)
    total = sum(len(s) for s in evidence_map.cells.values())
    assert f"{len(evidence_map.cells)} dots, for {total} studies" in alt
    rows = re.findall(r"<td>([^<]+)</td><td>(\d+)</td></tr>", page)
    assert len(rows) == len(evidence_map.cells)
    outcome_labels = dict(evidence_map.outcomes)
    expected = sorted((escape(outcome_labels[o]), str(len(studies)))
                      for (_, o), studies in evidence_map.cells.items())
    assert sorted(rows) == expected
    assert f"<p>{len(evidence_map.gaps)} {SITE_WORDS['map_gaps']}.</p>" in page


@pytest.mark.browser
def test_the_map_page_passes_axe_from_disk(site, tab):
    tab.goto((site.folder / "map.html").as_uri())
    tab.get_by_role("heading", level=1, name=SITE_WORDS["map_heading"]).wait_for()
    assert _serious(tab) == []
    assert tab.get_by_role("img").get_attribute("alt")
    assert tab.get_by_role("columnheader", name=SITE_WORDS["map_row"]).count() == 1
