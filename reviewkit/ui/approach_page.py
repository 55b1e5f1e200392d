"""Evidence by approach: one question from a commissioner, answered on one page, with a brief.

The phrase and the approach chosen live in the address (``?q=…&approach=…``), so a link, a
new tab or a reload opens the same view.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit.approach_search import approach_index_for_review, find_approaches
from reviewkit.briefs import (
    LOCAL_SHOWN,
    approach_evidence,
    build_brief,
    build_gaps,
    certainty_lines,
    evidence_strength,
    render_brief,
    review_state,
    verdict_line,
)
from reviewkit.briefs.render import DIRECTION_WORDS
from reviewkit.certainty import NOT_RATED
from reviewkit.codebook import review_codebook
from reviewkit.document_formats import BRIEF_FORMATS
from reviewkit.library import viewer_for
from reviewkit.ui.common import current_user, get_store, md_escape, require_review, view_link

MIME = {"pdf": "application/pdf", "md": "text/markdown",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


# The page's own wording, in one place so its reading age can be measured (tests/test_ui.py).
WORDS = {
    "title": "Evidence by approach",
    "intro": "Type what you want to know about, in your own words. You will see what the "
             "studies found, how strong the proof is, and what was done near you.",
    "box": "Approach",
    "box_help": "A problem, a service, a group of people or a place, in your own words.",
    "nothing_close": "Nothing is close to what you typed. The nearest ways of helping are below. "
                     "Try other words, or pick from the full list.",
    "link": "Follow the evidence",
    "link_why": "This is a link to this page. Share it, or open it in a new tab.",
    "strength": "Strength of evidence",
    "included": "Included studies",
    "primary": "Primary studies",
    "reviews": "Reviews",
    "local_count": "Local examples",
    "no_study": "No study in this review tested this. That is a gap in itself.",
    "designs": "Designs",
    "what_found": "What the studies found",
    "how_sure": "How sure we are:",
    "gaps": "Gaps where this approach should help",
    "sources": "Where these studies came from",
    "local": "Local examples and residents' stories",
    "no_local": "No local story matches yet.",
    "more_local": "Show {n} more that match",
}


@st.cache_resource(show_spinner="Reading the codebook, the studies and the library…")
def _model():
    from reviewkit.embeddings import load_model

    return load_model()


def _matches(store, review, typed: str):
    return find_approaches(approach_index_for_review(store, review, model=_model()), typed, top=3)


def _choose(store, review, codebook) -> str | None:
    """The phrase box, the top matches with why, and the full list: return the approach."""
    codes = [c.code for c in codebook.scheme("approach").codes]
    in_address = st.query_params.get("q", "")
    if st.session_state.get("approach_query_from_address") != in_address:
        # a link, a bookmark, a new tab or the front page's box: show the phrase it carries
        st.session_state["approach_query"] = in_address
        st.session_state["approach_query_from_address"] = in_address
        st.session_state.pop("approach_pick", None)
    typed = st.text_input(WORDS["box"], placeholder="e.g. help with money worries, lonely older "
                          "people, things for young people to do", key="approach_query",
                          on_change=lambda: st.session_state.pop("approach_pick", None),
                          help=WORDS["box_help"])
    linked = st.query_params.get("approach")
    approach = None
    if typed.strip():
        found = _matches(store, review, typed)
        if found and not found[0].close:
            st.info(f"“{md_escape(typed)}”: {WORDS['nothing_close']}", icon=":material/search_off:")
        options = [m.code for m in found]
        why = {m.code: m for m in found}
        start = options.index(linked) if linked in options else 0
        approach = st.radio(
            "Closest approaches", options, index=start, key=f"approach_match:{typed.strip().lower()}",
            format_func=lambda c: md_escape(f"{why[c].label} — {why[c].why()}"))
    elif linked in codes:
        approach = linked
    with st.expander("…or pick from every approach in the codebook"):
        picked = st.selectbox("Every approach", codes, index=None, key="approach_pick",
                              format_func=lambda c: md_escape(codebook.label("approach", c)))
    approach = picked or approach
    params = {"q": typed.strip(), "approach": approach or ""}
    st.session_state["approach_query_from_address"] = params["q"]
    for name, value in params.items():
        if value and st.query_params.get(name) != value:
            st.query_params[name] = value
        elif not value and name in st.query_params:
            del st.query_params[name]
    return approach


def _downloads(store, review, approach: str, viewer) -> None:
    """PDF, Word and Markdown side by side: one click each, written when clicked."""
    def writer(fmt):
        return lambda: render_brief(build_brief(store, review, approach=approach, viewer=viewer), fmt)

    columns = st.columns(3)
    # Word first: fpdf2 tags only the PDF's pictures, Word carries real headings and alt text
    for column, fmt in zip(columns, ("docx", "pdf", "md"), strict=True):
        column.download_button(f"Download the brief ({BRIEF_FORMATS[fmt]})", writer(fmt),
                               file_name=f"brief-{approach}.{fmt}", mime=MIME[fmt],
                               icon=":material/download:", on_click="ignore",
                               type="primary" if fmt == "docx" else "secondary",
                               key=f"brief-{fmt}")


def render() -> None:
    review = require_review("evidence.read")
    store = get_store()
    codebook = review_codebook(store, review.id)
    st.title(WORDS["title"])
    st.write(WORDS["intro"])
    approach = _choose(store, review, codebook)
    if not approach:
        return
    viewer = viewer_for(store, current_user())
    evidence = approach_evidence(store, review, approach, viewer=viewer)
    label = evidence.approach_label
    st.header(md_escape(label))
    _downloads(store, review, approach, viewer)
    link = view_link("evidence-by-approach", review, q=st.query_params.get("q", ""), approach=approach)
    st.markdown(f"[{WORDS['link']}]({link}) — {WORDS['link_why']}")
    state = review_state(store, review)
    if state:
        st.warning(state, icon=":material/hourglass_top:")
    overall = evidence_strength(evidence.studies)
    design_label = lambda code: codebook.label("design", code)  # noqa: E731
    st.markdown(md_escape(f"{WORDS['strength']}: {overall.word} {overall.dots()}. It rests on "
                          f"{overall.rests_on(design_label)}."))
    n = len(evidence.studies)
    a, b, c, d = st.columns(4)
    a.metric(WORDS["included"], n)
    b.metric(WORDS["primary"], overall.n_primary)
    c.metric(WORDS["reviews"], overall.reviews)
    d.metric(WORDS["local_count"], len(evidence.local))
    if n == 0:
        st.info(WORDS["no_study"])
    else:
        designs = ", ".join(f"{count} {md_escape(codebook.label('design', d).lower())}"
                            for d, count in evidence.designs.most_common())
        st.write(f"{WORDS['designs']}: {designs or 'not coded'}.")
        st.subheader(WORDS["what_found"])
        sure = certainty_lines(store, review, approach)
        unrated = ("quality not appraised", f"{NOT_RATED}.")
        for outcome, studies in evidence.by_outcome.items():
            with st.expander(f"{md_escape(codebook.label('outcome', outcome))} — {len(studies)} "
                             f"stud{'y' if len(studies) == 1 else 'ies'}", expanded=True):
                quality, statement = sure.get(outcome, unrated)
                st.caption(md_escape(verdict_line(evidence_strength(studies, outcome), codebook,
                                                  quality=quality)))
                st.markdown(f"**{WORDS['how_sure']}** " + md_escape(statement))
                for s in studies:
                    st.markdown(f"- **{md_escape(s.title)}** ({s.year or 'n.d.'}; "
                                f"{DIRECTION_WORDS.get(s.direction_for(outcome), '')}): "
                                f"{md_escape(s.finding) or '*key finding not yet written*'}")
        gaps = build_gaps(codebook, evidence)
        if gaps:
            st.subheader(WORDS["gaps"])
            for gap in gaps:
                st.markdown("- " + md_escape(gap))
        st.subheader(WORDS["sources"])
        st.dataframe(pd.DataFrame(evidence.sources.most_common(), columns=["Source", "Studies"]),
                     hide_index=True, width="content")
    st.subheader(WORDS["local"])
    if not evidence.local:
        st.caption(WORDS["no_local"])
    for entry, why in evidence.local[:LOCAL_SHOWN]:
        _local_entry(entry, why)
    if len(evidence.local) > LOCAL_SHOWN:
        with st.expander(WORDS["more_local"].format(n=len(evidence.local) - LOCAL_SHOWN)):
            for entry, why in evidence.local[LOCAL_SHOWN:]:
                _local_entry(entry, why)


def _local_entry(entry, why: str) -> None:
    with st.container(border=True):
        st.markdown(f"**{md_escape(entry.title)}** — {md_escape(entry.type)}, {md_escape(entry.place)}")
        st.text(entry.summary)
        st.caption(md_escape(why))
