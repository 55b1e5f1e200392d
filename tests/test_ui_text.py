"""User text is shown as text: planted Markdown, HTML and remote images never render live,
on the pages (under AppTest), in the Markdown brief and in the offline evidence map."""

from __future__ import annotations

import re
from datetime import date

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from reviewkit.briefs.content import Brief
from reviewkit.briefs.render import to_markdown
from reviewkit.evidence_map import CodedStudy, EvidenceMap, map_figure
from reviewkit.library import Consent, add_contribution
from reviewkit.records import Record
from reviewkit.store import Store

# Each would fetch a remote image (sending the app's address as Referer), make a live link, or
# run a script if it reached a renderer as markup.
PLANT = ("![seen](http://evil.example/pixel.png) [click](http://evil.example) "
         "<img src=http://evil.example/i.png> <script>alert(1)</script> **bold**")
LIVE = re.compile(r"<(img|a|script)\b|<strong>bold</strong>", re.I)
_MARKDOWN = MarkdownIt("commonmark")


def _live_markup(text: str) -> list[str]:
    """The tags a Markdown renderer (raw HTML allowed, as the strictest case) makes of text."""
    return [m.group(0) for m in LIVE.finditer(_MARKDOWN.render(text or ""))]


def _shown_texts(at: AppTest) -> list[str]:
    """Every string the page hands to Streamlit's Markdown renderer (bodies and labels)."""
    texts = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "success",
                 "warning", "error", "toast"):
        texts += [element.value for element in at.get(kind)]
    for kind in ("expander", "button", "metric", "checkbox", "tab"):
        texts += [element.label for element in at.get(kind)]
    return [t for t in texts if isinstance(t, str)]


@pytest.fixture
def planted(tmp_path, monkeypatch):
    import streamlit as st

    url = f"sqlite:///{tmp_path / 'ui.sqlite'}"
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    monkeypatch.setenv("REVIEWKIT_NO_DEMO", "1")
    st.cache_resource.clear()
    store = Store(url)
    review = store.create_review("Review " + PLANT, question="Does " + PLANT + "?")
    store.add_import(review.id, [Record(title="Title " + PLANT, authors=["Author " + PLANT],
                                        abstract="Abstract " + PLANT, journal=PLANT,
                                        year=2020)],
                     filename=PLANT + ".ris", format="ris", sha256="a" * 64, size_bytes=1)
    add_contribution(store, front_matter={
        "title": "Story " + PLANT, "type": "case study", "place": PLANT,
        "local_authority": "Halton", "years": "2024", "summary": "Summary " + PLANT,
        "attribution": "A resident", "visibility": "public",
        "approaches": ["volunteering_peer_support"], "outcomes": ["reduced_isolation"],
        "domains": ["social_connectivity"], "population": "Residents"},
        body="Body " + PLANT, consent=Consent(who="A resident", when=date(2024, 5, 1),
                                             purposes=["publish"], given_by="signed form"),
        actor="admin")
    store.close()
    yield
    st.cache_resource.clear()


@pytest.mark.parametrize("module_name", ["overview", "screening_page", "library_page",
                                         "team_page", "import_page", "backup_page"])
def test_planted_markup_shows_as_text_on_pages(planted, module_name):
    source = ("from reviewkit.ui import common\n"
              f"from reviewkit.ui import {module_name} as page\n"
              "common.sidebar()\npage.render()\n")
    at = AppTest.from_string(source, default_timeout=120).run()
    assert not at.exception, at.exception
    texts = _shown_texts(at)
    assert any("evil" in t for t in texts), "the planted text should be on the page"
    live = {t: _live_markup(t) for t in texts if _live_markup(t)}
    assert live == {}


def test_brief_markdown_carries_no_live_markup():
    brief = Brief(title="Brief " + PLANT, subtitle=PLANT, key_messages=[PLANT],
                  question=PLANT, methods=PLANT, prisma_rows=[], gaps=[PLANT],
                  references=[PLANT])
    text = to_markdown(brief)
    assert "evil.example" in text.replace("\\", "")
    assert _live_markup(text) == []


def test_map_labels_and_legend_are_plain_text():
    link = '<a href="http://evil.example">design</a>'
    study = CodedStudy(record_id=1, title=link, approaches=["a"], outcomes=["o"], design="x")
    evidence_map = EvidenceMap(approaches=[("a", link)], outcomes=[("o", link)],
                               cells={("a", "o"): [study]}, studies=[study],
                               design_labels={"x": link})
    figure = map_figure(evidence_map, "design")
    shown = [trace.name for trace in figure.data] + list(figure.layout.xaxis.ticktext) + \
        list(figure.layout.yaxis.ticktext) + [t for trace in figure.data for t in trace.text or ()]
    assert [s for s in shown if s and "<a" in s] == []
