"""Log in: shown first when accounts are on and nobody has logged in in this browser."""

from __future__ import annotations

import time

import streamlit as st

from reviewkit import accounts
from reviewkit.ui.common import get_store, log_in, md_escape

# After this many wrong tries in one browser session, each further try waits a little longer.
_FREE_TRIES = 5


def _single_sign_on_configured() -> bool:
    """Whether the organisation's OIDC provider is set up in .streamlit/secrets.toml."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: the ordinary case
        return False


def _single_sign_on() -> None:
    """Log in through Streamlit's built-in OIDC (st.login), matched to an account by e-mail."""
    user = st.user
    if not getattr(user, "is_logged_in", False):
        st.button("Log in with your organisation's account", icon=":material/key:",
                  on_click=st.login)
        return
    email = (user.get("email") or "").strip()
    found = get_store().get_user(email) if email else None
    if found is None or not accounts.can(get_store(), found.username, "library.read"):
        st.error(f"Your organisation says you are {md_escape(email or 'someone without an e-mail')}, "
                 "but there is no active reviewkit account with that name. Ask an admin to "
                 "add one (the account name is the e-mail address).")
        st.button("Log out of single sign-on", on_click=st.logout)
        return
    log_in(found.username)
    st.rerun()


def render() -> None:
    st.title("Log in")
    st.write("This reviewkit is shared by a team: log in to screen, code and read the "
             "evidence. Without an account you can still read the published local stories.")
    tries = st.session_state.get("login_failures", 0)
    with st.form("login", clear_on_submit=False):
        username = st.text_input("User name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Log in", type="primary", icon=":material/login:")
    if submitted:
        if not username.strip() or not password:
            st.error("Fill in both your user name and your password.")
        else:
            if tries >= _FREE_TRIES:
                time.sleep(min(2 ** (tries - _FREE_TRIES), 30))
            try:
                user = accounts.authenticate(get_store(), username, password)
            except accounts.LoginRequired as exc:
                st.session_state["login_failures"] = tries + 1
                st.error(md_escape(str(exc)))
            else:
                st.session_state["login_failures"] = 0
                log_in(user.username)
                st.rerun()
    if _single_sign_on_configured():
        st.divider()
        _single_sign_on()
    st.caption("Forgotten your password? An admin can set a new one "
               "(python -m reviewkit user password NAME).")
