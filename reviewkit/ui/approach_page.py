"""Evidence by approach: one question from a commissioner, answered on one page, with a brief."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit.briefs import approach_evidence, build_brief, find_approach, render_brief
from reviewkit.briefs.render import DIRECTION_WORDS
from reviewkit.codebook import review_codebook
from reviewkit.library import viewer_for
from reviewkit.ui.common import current_user, get_store, md_escape, require_review

MIME = {"pdf": "application/pdf", "md": "text/markdown",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def render() -> None:
    review = require_review("evidence.read")
    store = get_store()
    codebook = review_codebook(store, review.id)
    st.title("Evidence by approach")
    st.write("Type what you are thinking of funding, in your own words: the page shows what the "
             "studies in this review found, where the gaps are, and what has been done locally.")
    typed = st.text_input("Approach", placeholder="e.g. community connectors, debt advice, green "
                          "space, participatory budgeting", key="approach_query")
    approach = find_approach(codebook, typed) if typed.strip() else None
    if typed.strip() and approach is None:
        st.warning(f"No approach in the codebook matches '{md_escape(typed)}'. Try other words, or pick one below.")
    codes = [c.code for c in codebook.scheme("approach").codes]
    linked = st.query_params.get("approach")  # arriving from a link on another page
    if approach is None and linked in codes:
        approach = linked
    picked = st.selectbox("…or pick one", codes, index=codes.index(approach) if approach else None,
                          format_func=lambda c: codebook.label("approach", c), key="approach_pick")
    approach = picked or approach
    if not approach:
        return
    viewer = viewer_for(store, current_user())
    evidence = approach_evidence(store, review, approach, viewer=viewer)
    label = evidence.approach_label
    st.header(md_escape(label))
    n = len(evidence.studies)
    a, b, c = st.columns(3)
    a.metric("Included studies", n)
    b.metric("Outcomes studied", len(evidence.by_outcome))
    c.metric("Local examples", len(evidence.local))
    if n == 0:
        st.info(f"No included study in this review tested {md_escape(label.lower())}: that is "
                "itself a gap.")
    else:
        designs = ", ".join(f"{count} {md_escape(codebook.label('design', d).lower())}"
                            for d, count in evidence.designs.most_common())
        st.write(f"**Designs:** {designs or 'not coded'}.")
        st.subheader("What the studies found")
        for outcome, studies in evidence.by_outcome.items():
            with st.expander(f"{md_escape(codebook.label('outcome', outcome))} — {len(studies)} "
                             f"stud{'y' if len(studies) == 1 else 'ies'}", expanded=True):
                for s in studies:
                    st.markdown(f"- **{md_escape(s.title)}** ({s.year or 'n.d.'}; "
                                f"{DIRECTION_WORDS.get(s.direction_for(outcome), '')}): "
                                f"{md_escape(s.finding) or '*key finding not yet written*'}")
        st.subheader("Gaps")
        st.write("No included study measured: " + ", ".join(
            md_escape(codebook.label("outcome", g).lower()) for g in evidence.gaps) + ".")
        st.subheader("Where these studies came from")
        st.dataframe(pd.DataFrame(evidence.sources.most_common(), columns=["Source", "Studies"]),
                     hide_index=True, width="content")
    st.subheader("Local examples and residents' stories")
    if not evidence.local:
        st.caption("No local entry matches yet.")
    for entry, why in evidence.local:
        with st.container(border=True):
            st.markdown(f"**{md_escape(entry.title)}** — {md_escape(entry.type)}, "
                        f"{md_escape(entry.place)}")
            st.markdown(md_escape(entry.summary))
            st.caption(md_escape(why))

    st.subheader("Take away a brief")
    fmt = st.radio("Format", ["pdf", "docx", "md"], horizontal=True,
                   format_func={"pdf": "PDF", "docx": "Word", "md": "Markdown"}.get)
    if st.button("Prepare the brief", type="primary", icon=":material/description:"):
        with st.spinner("Writing the brief…"):
            brief = build_brief(store, review, approach=approach, viewer=viewer)
            st.session_state["brief"] = (approach, fmt, render_brief(brief, fmt))
    ready = st.session_state.get("brief")
    if ready and ready[:2] == (approach, fmt):
        st.download_button(f"Download the brief ({fmt.upper()})", ready[2],
                           file_name=f"brief-{approach}.{fmt}", mime=MIME[fmt],
                           icon=":material/download:")
