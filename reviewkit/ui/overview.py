"""Overview: the chosen review at a glance, and a form to start a new one."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit.errors import ReviewkitError
from reviewkit.progress import STAGE_NAMES, review_progress
from reviewkit.review_settings import change_settings, new_review_fields
from reviewkit.ui.common import (
    allowed,
    choose_review,
    current_review,
    current_user,
    get_store,
    link_to,
    md_escape,
    require_page,
)
from reviewkit.ui.settings_form import settings_widgets


def _progress(store, review) -> None:
    progress = review_progress(store, review)
    st.subheader("Progress")
    cols = st.columns(len(progress.stages) + 1)
    for column, stage in zip(cols, progress.stages):
        with column.container(border=True):
            st.markdown(f"**{STAGE_NAMES[stage.stage]}**")
            st.progress(stage.decided / max(stage.records, 1),
                        text=f"{stage.decided} of {stage.records} decided")
            st.caption(f"{stage.waiting} still to screen · {stage.conflicts} "
                       f"conflict{'' if stage.conflicts == 1 else 's'} waiting"
                       + (f" · {stage.maybes} marked maybe" if stage.maybes else ""))
            for who, n in sorted(stage.by_reviewer.items(), key=lambda x: -x[1]):
                st.caption(f"{md_escape(who)}: {n} screened")
    with cols[-1].container(border=True):
        st.markdown("**Coding and duplicates**")
        st.caption(f"{progress.included} included studies, {len(progress.to_code)} still to code "
                   "by approach and outcome")
        st.caption(f"{progress.possible_duplicates} possible duplicates to check")


def _go_to_evidence() -> None:
    st.session_state["front_search_go"] = st.session_state["front_search"]
    st.session_state["front_search"] = ""  # coming back, the box is empty again


def _find_the_evidence(review) -> None:
    """A phrase typed here opens Evidence by approach on it: type, Enter, then one click for
    the brief."""
    page = st.session_state.get("visible_pages", {}).get("evidence-by-approach")
    if page is None or not allowed("evidence.read", review):
        return
    st.text_input("Find the evidence on…", key="front_search", icon=":material/search:",
                  placeholder="in your own words: help with money worries, lonely older people…",
                  on_change=_go_to_evidence)
    phrase = " ".join(st.session_state.pop("front_search_go", "").split())
    if phrase:
        st.switch_page(page, query_params={"review": str(review.id), "q": phrase})


def render() -> None:
    store = get_store()
    st.title("Overview")
    if st.session_state.get("next_step"):
        st.success(md_escape(st.session_state.pop("next_step")))
    review = current_review()
    if review is None and not allowed("review.create"):
        require_page("review.read")
    if review is not None:
        require_page("review.read", review)
        st.header(md_escape(review.name))
        _find_the_evidence(review)
        if review.question:
            st.markdown(f"**Question.** {md_escape(review.question)}")
        left, right = st.columns(2)
        for column, title, text in ((left, "Include studies that…", review.inclusion_criteria),
                                    (right, "Exclude studies that…", review.exclusion_criteria)):
            with column.expander(title, expanded=False):
                lines = [line.strip() for line in text.splitlines() if line.strip()]
                st.markdown("\n".join(f"- {md_escape(line)}" for line in lines) or "None written yet.")

        batches = store.list_batches(review.id)
        total = store.count_records(review.id)
        if total == 0 and allowed("import", review):
            st.info("Next: import your search results (the exports of your database "
                    "searches) on the Import page.")
            link_to("import", "Import search results", ":material/upload_file:")
        a, b, c = st.columns(3)
        a.metric("Records identified", total)
        b.metric("Files imported", len(batches))
        c.metric("Sources", len({x.database_name for x in batches}))
        _progress(store, review)
        sources = store.counts_by_source(review.id)
        if sources:
            st.subheader("Records identified, by source")
            st.caption("These counts fill the first box of the PRISMA 2020 flow diagram.")
            st.dataframe(pd.DataFrame(sources, columns=["Source", "Records"]),
                         hide_index=True, width="content")
        if batches:
            st.subheader("Imported files")
            st.dataframe(pd.DataFrame([{
                "File": x.filename, "Format": x.format, "Source": x.database_name,
                "Search date": x.search_date, "Records": x.record_count,
                "Imported": f"{x.imported_at:%Y-%m-%d %H:%M}", "By": x.imported_by,
                **({"Round": "first version" if not x.round_number
                    else f"update {x.round_number}"}
                   if any(b.round_number for b in batches) else {}),
            } for x in batches]), hide_index=True)

    if allowed("review.create"):
        _new_review_form(store, expanded=review is None)
    if review is not None and allowed("review.manage", review):
        with st.expander("Review settings: question, criteria, reasons, highlights, team",
                         icon=":material/tune:"):
            _settings_form(store, review)


def _new_review_form(store, *, expanded: bool) -> None:
    with st.expander("Start a new review", expanded=expanded):
        with st.form("new_review", clear_on_submit=False):
            name = st.text_input("Name of the review *")
            values = settings_widgets(None, prefix="new")
            submitted = st.form_submit_button("Create review", type="primary")
        if submitted:
            if not name.strip():
                st.error("Give the review a name: it is how you find it again.")
                return
            try:
                columns, settings = new_review_fields(values)
                created = store.create_review(name, actor=current_user(), settings=settings,
                                              **columns)
            except ReviewkitError as exc:
                st.error(md_escape(str(exc)))
            else:
                choose_review(created.name)
                st.session_state["next_step"] = f"Review '{created.name}' created."
                st.rerun()


def _settings_form(store, review) -> None:
    """The lead's form for the question, criteria, reasons, highlight words and team rules."""
    with st.form(f"settings_{review.id}"):
        values = settings_widgets(review, prefix=f"settings_{review.id}")
        saved = st.form_submit_button("Save settings", type="primary")
    if saved:
        try:
            change_settings(store, review, values, actor=current_user())
        except ReviewkitError as exc:
            st.error(md_escape(str(exc)))
        else:
            st.session_state["next_step"] = "Settings saved."
            st.rerun()
