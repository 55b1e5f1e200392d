"""Citation chasing on the Import page: read the attached full texts' reference lists, tick the
cited works the review lacks, add them as a 'citation searching' import."""

from __future__ import annotations

import datetime

import pandas as pd
import streamlit as st

from reviewkit.citations import add_candidates, chase_review
from reviewkit.errors import ReviewkitError
from reviewkit.ui.common import current_user, md_escape


def render(store, review) -> None:
    st.caption("Reads the reference lists of the PDFs attached to this review's records, finds "
               "the cited works already in the review (same DOI, or the same title), and lists "
               "the others. Tick the ones to add: they come in as one import whose search "
               "record says 'citation searching', each noting which records cite it.")
    if st.button("Read the reference lists", icon=":material/format_quote:"):
        with st.spinner("Reading the full texts…"):
            st.session_state["chase"] = (review.id, chase_review(store, review))
    found = st.session_state.get("chase")
    if not found or found[0] != review.id:
        return
    result = found[1]
    if not result.full_texts:
        st.info("No full texts are attached to this review's records yet. Attach a record's "
                "PDF on the Screen page (Full text stage), then read the reference lists here.")
        return
    st.write(result.in_words())
    if not result.candidates:
        return
    table = pd.DataFrame([{
        "Add": False, "Title": c.work.title, "Authors": "; ".join(c.work.authors[:3]),
        "Year": c.work.year, "DOI": c.work.doi,
        "Cited by": ", ".join(f"#{rid}" for rid in c.cited_by), "Reference": c.work.text,
    } for c in result.candidates])
    edited = st.data_editor(table, hide_index=True, key="chase_table",
                            disabled=[c for c in table.columns if c != "Add"],
                            column_config={"Add": st.column_config.CheckboxColumn("Add")})
    ticked = [c for c, add in zip(result.candidates, edited["Add"]) if add]
    if st.button(f"Add {len(ticked)} cited work(s) to the review", disabled=not ticked,
                 type="primary"):
        try:
            batch = add_candidates(store, review, ticked, actor=current_user(),
                                   searched=datetime.date.today().isoformat())
        except ReviewkitError as exc:
            st.error(md_escape(str(exc)))
        else:
            st.session_state.pop("chase", None)
            st.success(f"{batch.record_count} cited works added as an import counted as "
                       "citation searching. Deduplicate, then screen them.")
