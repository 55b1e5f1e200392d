"""Publish: build the public website of stories and evidence, and download it as a zip."""

from __future__ import annotations

import streamlit as st

from reviewkit.accounts import visible_reviews
from reviewkit.errors import ReviewkitError
from reviewkit.publish import public_entries, site_zip
from reviewkit.ui.common import (
    current_review,
    current_user,
    get_store,
    md_escape,
    require_page,
)

_READY = "publish_ready"  # (review id or None, zip bytes) prepared for download


def render() -> None:
    st.title("Publish the public site")
    require_page("site.publish")
    store = get_store()
    reviews = {r.id: r for r in visible_reviews(store, current_user())}
    chosen = current_review()
    options = [None, *reviews]
    review_id = st.selectbox(
        "Review whose evidence the site shows", options,
        index=options.index(chosen.id) if chosen is not None and chosen.id in reviews else 0,
        format_func=lambda rid: "No review: the stories only" if rid is None else
        f"{reviews[rid].name} ({store.count_records(rid):,} records)",
        help="Starts on the review chosen in the sidebar.")
    review = reviews.get(review_id)
    shown = len(public_entries(store))
    about = (f"the evidence from the review **{md_escape(review.name)}**" if review
             else "no review's evidence")
    st.write(f"The site holds the {shown} published, public stories and cases, with {about}: "
             "each approach with its verdicts, the stories linked to it, and its brief to "
             "download. Team-only, waiting, withdrawn and deleted stories are never included. "
             "It is plain files: open index.html from disk, or put the folder on any web host.")
    st.caption("The same as `python -m reviewkit publish --output site/`.")
    if st.button("Build the site", type="primary", icon=":material/public:"):
        with st.spinner("Writing the pages and briefs…"):
            try:
                data = site_zip(store, review=review)
            except ReviewkitError as exc:
                st.error(md_escape(str(exc)))
                return
        st.session_state[_READY] = (review.id if review else None, data)
    ready = st.session_state.get(_READY)
    if ready and ready[0] == (review.id if review else None):
        st.success(f"The site is ready ({len(ready[1]) / 1024:,.0f} KB).")
        st.download_button("Download site.zip", ready[1], file_name="site.zip",
                           mime="application/zip", icon=":material/download:")
