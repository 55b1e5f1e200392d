"""What every page shares: the database, the logged-in user, and the chosen review."""

from __future__ import annotations

import functools
import os
from urllib.parse import urlencode

import streamlit as st

from reviewkit import accounts
from reviewkit.demo import ensure_demo_review, load_demo_definition
from reviewkit.errors import ReviewkitError
from reviewkit.markup import escape_markdown
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
    return escape_markdown(text)


def accounts_on() -> bool:
    """Whether this install asks people to log in (see reviewkit.accounts)."""
    return accounts.accounts_enabled(get_store())


def current_user() -> str | None:
    """The person acting: the local admin (or ``REVIEWKIT_USER``) while accounts are off;
    with accounts on, whoever logged in in this browser session (None for a visitor)."""
    if not accounts_on():
        return os.environ.get("REVIEWKIT_USER") or "admin"
    return st.session_state.get("auth_user")


# What a browser session keeps when the person or the review changes: who is logged in and
# which review the picker shows. Everything else a page left in the session (prepared
# downloads, opened stories, messages, widget values) belonged to the previous scope.
_SCOPE_KEYS = ("auth_user", "review_name", "next_review", "review_from_address", "_scope")


def _forget_session(*, keep: tuple[str, ...] = ()) -> None:
    for key in list(st.session_state.keys()):
        if key not in keep:
            del st.session_state[key]


def log_in(username: str) -> None:
    """Start a fresh session for ``username``: nothing from before the login survives."""
    _forget_session()
    st.session_state["auth_user"] = username


def log_out() -> None:
    """End the session: what the person read or prepared leaves with them."""
    _forget_session()


def _enter_scope(review_name: str | None) -> None:
    """Forget the session's page state whenever the person or the chosen review changes."""
    scope = (current_user(), review_name)
    if st.session_state.get("_scope", scope) != scope:
        _forget_session(keep=_SCOPE_KEYS)
    st.session_state["_scope"] = scope


def allowed(action: str, review: Review | None = None) -> bool:
    """Whether the current user may do ``action`` (in ``review``)."""
    return accounts.can(get_store(), current_user(), action,
                        review_id=review.id if review is not None else None)


def require_page(action: str, review: Review | None = None) -> None:
    """Stop the page with a plain message unless the current user may do ``action``."""
    refusal = accounts.refusal(get_store(), current_user(), action,
                               review_id=review.id if review is not None else None)
    if refusal:
        st.warning(f"{md_escape(refusal)} Ask the review's lead or an admin if you need this.",
                   icon=":material/lock:")
        st.stop()


def _who_box() -> None:
    user = current_user()
    if not accounts_on():
        return
    if user is None:
        st.sidebar.caption("Not logged in: you see the published local stories.")
        return
    found = get_store().get_user(user)
    role = accounts.ROLE_NAMES.get(found.role if found else None, "")
    st.sidebar.caption(f"Logged in as **{md_escape(user)}** ({role})")
    if st.sidebar.button("Log out", icon=":material/logout:"):
        log_out()
        st.rerun()


def sidebar() -> Review | None:
    """Show who is logged in and the review picker; return the chosen review."""
    review = pick_review()
    draw_sidebar()
    return review


def pick_review() -> Review | None:
    """Settle which review this run works on (the address, a page's request, the picker's last
    choice, else a stable default) without drawing anything; return it."""
    reviews = accounts.visible_reviews(get_store(), current_user())
    names = [r.name for r in reviews]
    if not names:
        st.session_state.pop("review_name", None)
        _enter_scope(None)
        return None
    # A page asked for another review: apply it before the picker is drawn.
    if "next_review" in st.session_state:
        st.session_state["review_name"] = st.session_state.pop("next_review")
    else:
        linked = _review_in_address(reviews)
        if linked is not None and st.session_state.get("review_from_address") != linked.id:
            # a link, a bookmark or a new tab: open the review it names (once; the picker
            # stays free to change it afterwards)
            st.session_state["review_name"] = linked.name
            st.session_state["review_from_address"] = linked.id
    chosen = st.session_state.get("review_name")
    if chosen not in names:
        # nothing chosen in this session and no review in the address: a stable default, so a
        # new, empty review never takes over the public pages of someone who did not pick it
        st.session_state["review_name"] = default_review_name(names)
    _enter_scope(st.session_state["review_name"])
    st.session_state["_review_names"] = names
    review = current_review()
    if review is not None and st.query_params.get("review") != str(review.id):
        st.query_params["review"] = str(review.id)  # so this view can be linked and reloaded
        st.session_state["review_from_address"] = review.id
    return review


def draw_sidebar() -> None:
    """Draw who is logged in and the review picker settled by :func:`pick_review`."""
    _who_box()
    names = st.session_state.get("_review_names") if "review_name" in st.session_state else None
    if not names:
        if allowed("review.create"):
            st.sidebar.info("No reviews yet: create one on the Overview page.")
        return
    st.sidebar.selectbox("Review", names, key="review_name",
                         help="Every page works on the review chosen here.")


def default_review_name(names: list[str]) -> str:
    """The review a session opens on when nobody chose one: the demo review when it is there,
    otherwise the first by name (never simply the newest).

    >>> default_review_name(["An empty review", "Zebra"])
    'An empty review'
    """
    return _demo_name() if _demo_name() in names else sorted(names)[0]


@functools.cache
def _demo_name() -> str:
    try:
        return load_demo_definition()["name"]
    except ReviewkitError:
        return ""


def _review_in_address(reviews: list[Review]) -> Review | None:
    wanted = st.query_params.get("review", "")
    return next((r for r in reviews if str(r.id) == wanted), None)


def view_link(url_path: str, review: Review | None = None, **params: str) -> str:
    """The address of a page showing ``review`` with ``params`` (relative to the app).

    >>> view_link("evidence-by-approach", None, approach="housing")
    '/evidence-by-approach?approach=housing'
    """
    query = {"review": str(review.id)} if review is not None else {}
    query.update({k: v for k, v in params.items() if v})
    return f"/{url_path}" + (f"?{urlencode(query)}" if query else "")


def choose_review(name: str) -> None:
    """Switch the sidebar's picker to ``name`` on the next run.  The person stays the same
    and chose this themselves (a review they just made or imported), so the switch keeps what
    they have on screen rather than wiping what they do next."""
    st.session_state["next_review"] = name
    st.session_state["_scope"] = (current_user(), name)


def current_review() -> Review | None:
    """The review picked in the sidebar, or None when there is none (or it is not yours)."""
    name = st.session_state.get("review_name")
    review = get_store().find_review(name) if name else None
    if review is not None and accounts_on() and review.id not in {
            r.id for r in accounts.visible_reviews(get_store(), current_user())}:
        return None
    return review


def require_review(action: str | None = None) -> Review:
    """Return the chosen review, or stop the page with a pointer to the Overview page.

    With ``action``, the page also stops, saying why, unless the current user may do it.
    """
    review = current_review()
    if review is None:
        if action and not allowed(action):
            require_page(action)
        st.info("Choose or create a review on the Overview page first.")
        st.stop()
    if action:
        require_page(action, review)
    return review


def remember_pages(pages) -> None:
    """Keep the pages this person may open (set by the app's navigation) for :func:`link_to`."""
    st.session_state["visible_pages"] = {page.url_path: page for page in pages}


def link_to(url_path: str, label: str, icon: str) -> None:
    """A link to another page, when this person may open it."""
    page = st.session_state.get("visible_pages", {}).get(url_path)
    if page is not None:
        st.page_link(page, label=label, icon=icon)


# -- messages that survive the rerun after a button --------------------------------------------


def say_later(where: str, kind: str, text: str) -> None:
    """Keep a plain-text message to show on the next run (callbacks run before the page)."""
    st.session_state[f"code_msg_{where}"] = (kind, text)


def show_said(where: str) -> None:
    """Show, once, the message kept for ``where`` by :func:`say_later`."""
    said = st.session_state.pop(f"code_msg_{where}", None)
    if said:
        kind, text = said
        {"success": st.success, "error": st.error, "info": st.info}[kind](md_escape(text))
