"""A public website of the library's published stories and the review's evidence, as plain files.

``write_site`` writes HTML pages, one stylesheet, a small search index and a few lines of
script into a folder that opens from disk or from any web host; nothing is fetched from
elsewhere.  Which library entries appear is decided by the library's own ``visible_to`` for a
member of the public, the same rule as the app's public view; the verdicts and briefs are the
ones ``reviewkit.briefs`` builds, for a public viewer.  Every piece of text is HTML-escaped.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from reviewkit.briefs import build_brief, render_brief
from reviewkit.briefs.content import Brief
from reviewkit.codebook import Codebook, review_codebook
from reviewkit.document_formats import BRIEF_FORMATS
from reviewkit.errors import ReviewkitError
from reviewkit.library import LibraryEntry, Viewer, library_entries, visible_entries
from reviewkit.library.entries import bundled_codebook
from reviewkit.store import Review, Store

__all__ = ["SITE_WORDS", "PublishedSite", "public_entries", "site_zip", "write_site"]

# Written into a site folder so a later publish may replace it (and nothing else).
MARKER = ".reviewkit-site"

# The site's own wording, kept in one place so its reading age can be measured (tests).
SITE_WORDS = {
    "site_title": "Local stories and what works",
    "intro": "Here you can read stories from people and places near you. "
             "You can also see what studies found about each way of helping.",
    "skip": "Skip to the main part",
    "search_label": "Search the stories",
    "search_hint": "Type a word, such as loneliness.",
    "place_label": "Place",
    "approach_label": "Way of helping",
    "any_place": "All places",
    "any_approach": "All ways of helping",
    "stories_heading": "Stories and cases",
    "approaches_heading": "Ways of helping",
    "no_match": "Nothing matches. Try a different word.",
    "home": "Back to the start",
    "what_found": "What the studies found",
    "linked": "Stories and cases about this",
    "briefs": "Download the short report",
    "no_studies": "The review has no studies on this yet.",
    "gaps": "What we still do not know",
    "about_this": "Ways of helping in this story",
    "where": "Where",
    "when": "When",
    "kind": "Type",
    "source": "Where it came from",
    "studies": "studies",
    "how_sure": "How sure we are:",
    "no_review": "There is no review on this site yet, so there are no study results.",
    "map_heading": "The map of what was studied",
    "map_intro": "Each row is a way of helping. Each column is a thing it may change. "
                 "A dot means studies looked at it. A big dot means more studies.",
    "map_alt": "A map of dots. The table below gives the same numbers.",
    "map_table": "The same map as a table",
    "map_row": "Way of helping",
    "map_col": "What it may change",
    "map_link": "See the map of what was studied",
    "map_gaps": "pairs have no study yet",
}


@dataclass
class ApproachSummary:
    """One approach on the site: its label, the review's verdicts, and the linked entries."""

    code: str
    label: str
    description: str
    entries: list[LibraryEntry]
    studies: int = 0  # included studies coded with this approach
    brief: Brief | None = None
    briefs: dict[str, str] = field(default_factory=dict)  # format -> file name under briefs/

    @property
    def page(self) -> str:
        return f"approaches/{_file_stem(self.code)}.html"


@dataclass(frozen=True)
class PublishedSite:
    """What ``write_site`` wrote: the folder, the counts, and every file written."""

    output: Path
    entries: int
    approaches: int
    files: tuple[str, ...]


def public_entries(store: Store | None) -> list[LibraryEntry]:
    """Return the library entries a member of the public may see (the app's public view)."""
    return visible_entries(library_entries(store), Viewer.public())


def _file_stem(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "item"


def _entry_pages(entries: list[LibraryEntry]) -> dict[str, str]:
    pages, used = {}, set()
    for entry in entries:
        stem, n = _file_stem(entry.id), 2
        while stem in used:
            stem, n = f"{_file_stem(entry.id)}-{n}", n + 1
        used.add(stem)
        pages[entry.id] = f"entries/{stem}.html"
    return pages


def _approaches(store: Store | None, review: Review | None, codebook: Codebook,
                entries: list[LibraryEntry]) -> list[ApproachSummary]:
    studied: Counter = Counter()
    if review is not None:
        from reviewkit.evidence_map import coded_studies_for_review

        studied.update(a for s in coded_studies_for_review(store, review.id) for a in s.approaches)
    known = {c.code: c for c in codebook.scheme("approach").codes}
    wanted = set(studied) | {a for e in entries for a in e.approaches if a in known}
    found = []
    for code in (c for c in known if c in wanted):
        summary = ApproachSummary(code, known[code].label, known[code].description,
                                  [e for e in entries if code in e.approaches], studied[code])
        if code in studied:
            summary.brief = build_brief(store, review, approach=code, viewer=Viewer.public())
        found.append(summary)
    return found


# -- HTML ---------------------------------------------------------------------------------

STYLE = """\
:root { color-scheme: light; --ink: #1b1b1b; --link: #0b4f8a; --focus: #ffbf47; }
body { font: 1.125rem/1.6 system-ui, sans-serif; color: var(--ink); background: #fff;
       margin: 0 auto; max-width: 60rem; padding: 0 1rem 3rem; }
a { color: var(--link); }
a, button, select, input, summary { min-height: 24px; min-width: 24px; }
nav a, li > a, header a { display: inline-block; padding: 0.25rem 0; }
:focus-visible { outline: 3px solid var(--ink); box-shadow: 0 0 0 6px var(--focus); }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: 0.5rem 1rem; }
.skip:focus { left: 1rem; }
label { display: block; font-weight: 600; margin-top: 0.75rem; }
input, select { font: inherit; padding: 0.25rem 0.5rem; border: 2px solid var(--ink);
                min-height: 2.5rem; width: 100%; max-width: 30rem; box-sizing: border-box; }
ul.cards { list-style: none; padding: 0; }
ul.cards > li { border-top: 1px solid #767676; padding: 0.75rem 0; }
.meta { color: #3b3b3b; font-size: 1rem; }
.verdict { border-left: 4px solid var(--link); padding-left: 0.75rem; }
img { max-width: 100%; height: auto; }
.more a { display: inline-block; padding: 0.25rem 0; }
table { border-collapse: collapse; }
th, td { border: 1px solid #767676; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
"""

SCRIPT = """\
(function () {
  var index = window.SITE_INDEX || [];
  var box = document.getElementById('search');
  var place = document.getElementById('place');
  var approach = document.getElementById('approach');
  var count = document.getElementById('count');
  function run() {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    index.forEach(function (item) {
      var ok = words.every(function (w) { return item.text.indexOf(w) !== -1; }) &&
        (!place.value || item.place === place.value) &&
        (!approach.value || item.approaches.indexOf(approach.value) !== -1);
      document.getElementById(item.id).hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + ' of ' + index.length + ' shown.';
    document.getElementById('none').hidden = shown > 0;
  }
  [box, place, approach].forEach(function (el) { el.addEventListener('input', run); });
  run();
})();
"""


def _page(title: str, body: str, *, depth: int) -> str:
    up = "../" * depth
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)} · {escape(SITE_WORDS['site_title'])}</title>\n"
            f'<link rel="stylesheet" href="{up}style.css">\n</head>\n<body>\n'
            f'<a class="skip" href="#main">{escape(SITE_WORDS["skip"])}</a>\n'
            f'<header><p><a href="{up}index.html">{escape(SITE_WORDS["site_title"])}</a></p>'
            f"</header>\n<main id=\"main\">\n{body}\n</main>\n</body>\n</html>\n")


def _paragraphs(text: str) -> str:
    parts = [p.strip() for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    return "\n".join(f"<p>{escape(' '.join(p.split()))}</p>" for p in parts)


def _entry_html(entry: LibraryEntry, codebook: Codebook, approach_pages: dict[str, str]) -> str:
    w = SITE_WORDS
    facts = [(w["kind"], entry.type), (w["where"], entry.place), (w["when"], entry.years)]
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts if v)
    links = "".join(f'<li><a href="../{approach_pages[a]}">{escape(codebook.label("approach", a))}'
                    "</a></li>" for a in entry.approaches if a in approach_pages)
    source = f"<h2>{escape(w['source'])}</h2><p>{escape(entry.source)}</p>" if entry.source else ""
    return _page(entry.title, f"<h1>{escape(entry.title)}</h1>\n<dl>{rows}</dl>\n"
                 f"{_paragraphs(entry.summary)}\n{_paragraphs(entry.body)}\n"
                 f"<h2>{escape(w['about_this'])}</h2>\n<ul>{links}</ul>\n{source}", depth=1)


def _approach_html(summary: ApproachSummary, entry_pages: dict[str, str],
                   have_review: bool) -> str:
    w = SITE_WORDS
    parts = [f"<h1>{escape(summary.label)}</h1>", _paragraphs(summary.description),
             f"<h2 id=\"verdict\">{escape(w['what_found'])}</h2>"]
    brief = summary.brief
    if brief is None:
        parts.append(f"<p>{escape(w['no_studies'] if have_review else w['no_review'])}</p>")
    else:
        if brief.status:
            parts.append(f"<p><strong>{escape(brief.status)}</strong></p>")
        parts += [f"<p>{escape(m)}</p>" for m in brief.key_messages]
        for block in brief.findings:
            sure = (f'<p class="certainty"><strong>{escape(w["how_sure"])}</strong> '
                    f"{escape(block.certainty)}</p>" if block.certainty else "")
            parts.append(f'<section class="verdict"><h3>{escape(block.outcome)}</h3>'
                         f"<p>{escape(block.verdict)}</p>{sure}</section>")
        if brief.gaps:
            parts.append(f"<h2>{escape(w['gaps'])}</h2><ul>"
                         + "".join(f"<li>{escape(g)}</li>" for g in brief.gaps) + "</ul>")
        parts.append(f"<h2 id=\"briefs\">{escape(w['briefs'])}</h2><ul>" + "".join(
            f'<li><a href="../briefs/{escape(name)}" download>{escape(BRIEF_FORMATS[fmt])}: '
            f"{escape(brief.title)}</a></li>" for fmt, name in summary.briefs.items()) + "</ul>")
    if summary.entries:
        parts.append(f"<h2>{escape(w['linked'])}</h2><ul>" + "".join(
            f'<li><a href="../{entry_pages[e.id]}">{escape(e.title)}</a> '
            f'<span class="meta">{escape(e.type)}, {escape(e.place)}</span></li>'
            for e in summary.entries) + "</ul>")
    return _page(summary.label, "\n".join(parts), depth=1)


def _map_html(evidence_map, approach_pages: dict[str, str]) -> str:
    w = SITE_WORDS
    labels, outcome_labels = dict(evidence_map.approaches), dict(evidence_map.outcomes)
    total = sum(len(s) for s in evidence_map.cells.values())
    alt = (f"{w['map_alt']} {len(evidence_map.cells)} dots, for {total} "
           f"{w['studies']}.")
    rows = []
    for approach, _ in evidence_map.approaches:
        filled = [(o, evidence_map.count(approach, o)) for o, _ in evidence_map.outcomes
                  if evidence_map.count(approach, o)]
        for i, (outcome, n) in enumerate(filled):
            name = escape(labels[approach])
            if approach in approach_pages:
                name = f'<a href="{approach_pages[approach]}">{name}</a>'
            head = (f'<th scope="row" rowspan="{len(filled)}">{name}</th>' if i == 0 else "")
            rows.append(f"<tr>{head}<td>{escape(outcome_labels[outcome])}</td><td>{n}</td></tr>")
    body = (f"<h1>{escape(w['map_heading'])}</h1>\n<p>{escape(w['map_intro'])}</p>\n"
            f'<p><img src="map.png" alt="{escape(alt)}"></p>\n'
            f"<h2>{escape(w['map_table'])}</h2>\n<table>\n"
            f'<thead><tr><th scope="col">{escape(w["map_row"])}</th>'
            f'<th scope="col">{escape(w["map_col"])}</th>'
            f'<th scope="col">{escape(w["studies"].capitalize())}</th></tr></thead>\n'
            f"<tbody>{''.join(rows)}</tbody>\n</table>\n"
            f"<p>{len(evidence_map.gaps)} {escape(w['map_gaps'])}.</p>")
    return _page(w["map_heading"], body, depth=0)


def _options(values: list[tuple[str, str]], any_label: str) -> str:
    return f'<option value="">{escape(any_label)}</option>' + "".join(
        f'<option value="{escape(v)}">{escape(text)}</option>' for v, text in values)


def _index_html(entries: list[LibraryEntry], approaches: list[ApproachSummary],
                entry_pages: dict[str, str], item_ids: dict[str, str], *, has_map: bool = False
                ) -> str:
    w = SITE_WORDS
    places = sorted({e.place for e in entries if e.place}, key=str.lower)
    cards = "".join(
        f'<li id="{item_ids[e.id]}"><a href="{entry_pages[e.id]}">{escape(e.title)}</a>'
        f'<p class="meta">{escape(e.type)}, {escape(e.place)}</p>'
        f"<p>{escape(' '.join(e.summary.split()))}</p></li>" for e in entries)
    listed = "".join(
        f'<li><a href="{a.page}">{escape(a.label)}</a> <span class="meta">'
        f"{a.studies} {escape(w['studies'])}</span></li>"
        for a in approaches)
    body = (f"<h1>{escape(w['site_title'])}</h1>\n<p>{escape(w['intro'])}</p>\n"
            f'<form role="search" onsubmit="return false">\n'
            f'<label for="search">{escape(w["search_label"])}</label>\n'
            f'<p id="search-hint" class="meta">{escape(w["search_hint"])}</p>\n'
            f'<input id="search" type="search" aria-describedby="search-hint">\n'
            f'<label for="place">{escape(w["place_label"])}</label>\n'
            f'<select id="place">{_options([(p, p) for p in places], w["any_place"])}</select>\n'
            f'<label for="approach">{escape(w["approach_label"])}</label>\n'
            f'<select id="approach">{_options([(a.code, a.label) for a in approaches], w["any_approach"])}'
            "</select>\n</form>\n"
            f"<h2>{escape(w['stories_heading'])}</h2>\n"
            f'<p id="count" class="meta" aria-live="polite"></p>\n'
            f'<p id="none" hidden>{escape(w["no_match"])}</p>\n'
            f'<ul class="cards">{cards}</ul>\n'
            f"<h2>{escape(w['approaches_heading'])}</h2>\n<ul>{listed}</ul>\n"
            + (f'<p class="more"><a href="map.html">{escape(w["map_link"])}</a></p>\n' if has_map else "") +
            '<script src="search-index.js"></script>\n<script src="search.js"></script>')
    return _page(w["site_title"], body, depth=0)


def _search_index(entries: list[LibraryEntry], codebook: Codebook,
                  item_ids: dict[str, str]) -> list[dict]:
    known = {c.code for c in codebook.scheme("approach").codes}
    return [{"id": item_ids[e.id], "place": e.place,
             "approaches": [a for a in e.approaches if a in known],
             "text": " ".join([e.title, e.type, e.place, e.summary, e.body,
                               *(codebook.label("approach", a) for a in e.approaches if a in known)]
                              ).lower()}
            for e in entries]


# -- writing --------------------------------------------------------------------------------

def _fill(folder: Path, store: Store | None, review: Review | None,
          formats: tuple[str, ...]) -> PublishedSite:
    codebook = review_codebook(store, review.id) if review is not None else bundled_codebook()
    entries = public_entries(store)
    entry_pages = _entry_pages(entries)
    item_ids = {e.id: "entry-" + Path(entry_pages[e.id]).stem for e in entries}
    approaches = _approaches(store, review, codebook, entries)
    approach_pages = {a.code: a.page for a in approaches}
    files: dict[str, str | bytes] = {MARKER: "Written by python -m reviewkit publish.\n",
                                     "style.css": STYLE, "search.js": SCRIPT}
    for summary in approaches:
        if summary.brief is not None:
            for fmt in formats:
                name = f"{_file_stem(summary.code)}.{fmt}"
                files[f"briefs/{name}"] = render_brief(summary.brief, fmt)
                summary.briefs[fmt] = name
        files[summary.page] = _approach_html(summary, entry_pages, review is not None)
    for entry in entries:
        files[entry_pages[entry.id]] = _entry_html(entry, codebook, approach_pages)
    index = _search_index(entries, codebook, item_ids)
    files["search-index.json"] = json.dumps(index, ensure_ascii=False)
    # A script, not a fetch: browsers refuse fetch() on pages opened from disk.
    files["search-index.js"] = ("window.SITE_INDEX = "
                                + json.dumps(index, ensure_ascii=True).replace("</", "<\\/") + ";\n")
    if review is not None:
        from reviewkit.evidence_map import (
            build_evidence_map,
            coded_studies_for_review,
            map_bubbles_png,
        )

        evidence_map = build_evidence_map(coded_studies_for_review(store, review.id), codebook)
        if evidence_map.cells:
            files["map.png"] = map_bubbles_png(evidence_map)
            files["map.html"] = _map_html(evidence_map, approach_pages)
    files["index.html"] = _index_html(entries, approaches, entry_pages, item_ids,
                                      has_map="map.html" in files)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return PublishedSite(folder, len(entries), len(approaches), tuple(sorted(files)))


def write_site(store: Store | None, output: str | Path, *, review: Review | None = None,
               formats: tuple[str, ...] = tuple(BRIEF_FORMATS)) -> PublishedSite:
    """Write the public site into ``output``, replacing an earlier site there.

    The site is built in a new folder beside ``output`` and moved into place only when whole,
    so a failure leaves the earlier site as it was.  A folder that holds other files is left
    alone and refused.  ``formats`` are the brief formats offered for download.
    """
    output = Path(output)
    unknown = [f for f in formats if f not in BRIEF_FORMATS]
    if unknown:
        raise ReviewkitError(f"Briefs can be offered as {', '.join(BRIEF_FORMATS)}, not "
                             f"{', '.join(unknown)}.")
    if output.exists() and (not output.is_dir() or (any(output.iterdir())
                                                    and not (output / MARKER).exists())):
        raise ReviewkitError(f"{output} already holds other files; publish into an empty or "
                             "new folder, or into a folder an earlier publish wrote.")
    output.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".site-", dir=output.parent))
    try:
        site = _fill(building, store, review, tuple(formats))
        if output.exists():
            shutil.rmtree(output)
        building.rename(output)
    finally:
        if building.exists():
            shutil.rmtree(building)
    return PublishedSite(output, site.entries, site.approaches, site.files)


def site_zip(store: Store | None, *, review: Review | None = None,
             formats: tuple[str, ...] = tuple(BRIEF_FORMATS)) -> bytes:
    """Return the public site as a zip file, its pages under ``site/``."""
    with tempfile.TemporaryDirectory() as folder:
        site = write_site(store, Path(folder) / "site", review=review, formats=formats)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in site.files:
                archive.write(site.output / name, f"site/{name}")
    return buffer.getvalue()
