"""Log in: shown first when accounts are on and nobody has logged in in this browser."""

from __future__ import annotations

import streamlit as st

from reviewkit import accounts
from reviewkit.ui.common import get_store, log_in, md_escape


def _address() -> str | None:
    """The browser's address as the server sees it (behind a proxy: the proxy's, unless the
    proxy is set up to pass it on), for counting failed logins per address."""
    try:
        return st.context.ip_address
    except Exception:  # older Streamlit, or AppTest without a request
        return None


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
    with st.form("login", clear_on_submit=False):
        username = st.text_input("User name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Log in", type="primary", icon=":material/login:")
    if submitted:
        if not username.strip() or not password:
            st.error("Fill in both your user name and your password.")
        else:
            try:
                user = accounts.authenticate(get_store(), username, password,
                                             address=_address())
            except accounts.LoginRequired as exc:
                st.error(md_escape(str(exc)))
            else:
                log_in(user.username)
                st.rerun()
    if _single_sign_on_configured():
        st.divider()
        _single_sign_on()
    st.caption("Forgotten your password? An admin can set a new one "
               "(python -m reviewkit user password NAME).")
