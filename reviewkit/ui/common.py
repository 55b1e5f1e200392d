"""What every page shares: the database, the logged-in user, and the chosen review."""

from __future__ import annotations

import os
import re

import streamlit as st

from reviewkit.demo import ensure_demo_review
from reviewkit.store import Review, Store


@st.cache_resource(show_spinner="Opening the database…")
def get_store() -> Store:
    """Open the database once per server and make sure the demo review is there."""
    store = Store()
    if os.environ.get("REVIEWKIT_NO_DEMO", "") != "1":
        ensure_demo_review(store)
    return store


def md_escape(text: str) -> str:
    """Show user text literally inside Markdown (no formatting, links or LaTeX from it)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|>~$:<])", r"\\\1", text or "")


def current_user() -> str:
    """The person acting: the local admin until accounts are turned on."""
    return os.environ.get("REVIEWKIT_USER") or "admin"


def sidebar() -> None:
    """Show the review picker in the sidebar."""
    reviews = get_store().list_reviews()
    names = [r.name for r in reviews]
    if not names:
        st.sidebar.info("No reviews yet: create one on the Overview page.")
        return
    # A page asked for another review: apply it before the picker is drawn.
    if "next_review" in st.session_state:
        st.session_state["review_name"] = st.session_state.pop("next_review")
    chosen = st.session_state.get("review_name")
    if chosen not in names:
        st.session_state["review_name"] = names[0]
    st.sidebar.selectbox("Review", names, key="review_name",
                         help="Every page works on the review chosen here.")


def choose_review(name: str) -> None:
    """Switch the sidebar's picker to ``name`` on the next run."""
    st.session_state["next_review"] = name


def current_review() -> Review | None:
    """The review picked in the sidebar, or None when there is none."""
    name = st.session_state.get("review_name")
    return get_store().find_review(name) if name else None


def require_review() -> Review:
    """Return the chosen review, or stop the page with a pointer to the Overview page."""
    review = current_review()
    if review is None:
        st.info("Choose or create a review on the Overview page first.")
        st.stop()
    return review
