"""Team: the review's members, everyone's accounts (admins), and one's own password."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit import accounts
from reviewkit.errors import ReviewkitError
from reviewkit.ui.common import (
    accounts_on,
    allowed,
    current_review,
    current_user,
    get_store,
    md_escape,
)

_ROLE_LABELS = {role: accounts.ROLE_NAMES[role] for role in accounts.ROLES}


def _members(review) -> None:
    store = get_store()
    st.subheader(f"Team of {md_escape(review.name)}")
    team = accounts.members(store, review.id)
    st.dataframe(pd.DataFrame(
        [{"Member": m.username, "Name": m.display_name,
          "Role in this review": "lead" if m.member_role == "admin" else
          _ROLE_LABELS.get(m.member_role, m.member_role),
          "Account role": _ROLE_LABELS.get(m.user_role, m.user_role)} for m in team]),
        hide_index=True, width="stretch")
    if not allowed("review.manage", review):
        st.caption("Only the review's lead or an admin can change its team.")
        return
    on_team = {m.username for m in team}
    others = [u.username for u, _, disabled in accounts.list_users(store)
              if u.username not in on_team and not disabled]
    add, remove = st.columns(2)
    with add.form("add_member"):
        who = st.selectbox("Add a person", others, index=None,
                           placeholder="Choose an account" if others else "Everyone is on the team")
        role = st.selectbox("Their role in this review", accounts.MEMBER_ROLES, index=1,
                            format_func=lambda r: "lead" if r == "admin" else _ROLE_LABELS[r])
        if st.form_submit_button("Add to the team", icon=":material/person_add:"):
            if not who:
                st.error("Choose the account to add.")
            else:
                _act(lambda: accounts.add_member(store, review.id, who, role=role,
                                                 actor=current_user()),
                     f"{who} added to the team.")
    with remove.form("remove_member"):
        gone = st.selectbox("Take someone off the team", sorted(on_team), index=None,
                            placeholder="Choose a member")
        st.caption("Their decisions stay in the review, credited to them.")
        if st.form_submit_button("Take off the team", icon=":material/person_remove:"):
            if not gone:
                st.error("Choose the member to take off.")
            else:
                _act(lambda: accounts.remove_member(store, review.id, gone, actor=current_user()),
                     f"{gone} is no longer on the team.")


def _act(step, done: str) -> None:
    """Run one change; on success show ``done`` above the refreshed tables."""
    try:
        step()
    except ReviewkitError as exc:
        st.error(md_escape(str(exc)))
    else:
        st.session_state["team_done"] = done
        st.rerun()


def _accounts() -> None:
    store = get_store()
    st.subheader("Accounts")
    rows = accounts.list_users(store)
    st.dataframe(pd.DataFrame(
        [{"Account": u.username, "Name": u.display_name,
          "Role": _ROLE_LABELS.get(u.role, u.role),
          "Can log in": "yes" if has_pw and not off else "no",
          "Switched off": "yes" if off else ""} for u, has_pw, off in rows]),
        hide_index=True, width="stretch")
    new, change = st.columns(2)
    with new.form("new_account", clear_on_submit=True):
        st.markdown("**New account**")
        name = st.text_input("User name (an e-mail address for single sign-on)")
        display = st.text_input("Full name")
        role = st.selectbox("Role", accounts.ROLES, index=1, format_func=_ROLE_LABELS.get)
        password = st.text_input("First password", type="password",
                                 help=f"At least {accounts.MIN_PASSWORD_LENGTH} characters; "
                                      "they can change it themselves later.")
        if st.form_submit_button("Add account", icon=":material/person_add:"):
            if not name.strip():
                st.error("Give the account a user name.")
            else:
                _act(lambda: accounts.create_user(store, name, role=role, display_name=display,
                                                  password=password or None,
                                                  actor=current_user()),
                     f"Account {name.strip()} added.")
    with change.form("change_account"):
        st.markdown("**Change an account**")
        who = st.selectbox("Account", [u.username for u, _, _ in rows], index=None)
        role = st.selectbox("New role", ["(keep)", *accounts.ROLES],
                            format_func=lambda r: _ROLE_LABELS.get(r, r))
        password = st.text_input("New password (leave empty to keep)", type="password")
        switch = st.radio("Account is", ["(keep)", "on", "switched off"], horizontal=True)
        if st.form_submit_button("Save changes", icon=":material/save:"):
            if not who:
                st.error("Choose the account to change.")
            else:
                _act(lambda: accounts.change_account(
                         store, who, actor=current_user(),
                         role=None if role == "(keep)" else role, password=password or None,
                         disabled=None if switch == "(keep)" else switch == "switched off"),
                     f"Account {who} saved.")
    st.subheader("Logging in")
    if accounts_on():
        st.write("Accounts are **on**: everyone logs in and sees only what their role allows.")
        if st.button("Turn accounts off (single-user mode)", icon=":material/lock_open:"):
            _act(lambda: accounts.set_accounts(store, False, actor=current_user()),
                 "Accounts are off.")
    else:
        st.write("Accounts are **off**: whoever opens the app acts as the local admin. Give an "
                 "admin a password, then turn accounts on so that a team can share this "
                 "install safely.")
        if st.button("Turn accounts on", icon=":material/lock:"):
            _act(lambda: accounts.set_accounts(store, True, actor=current_user()),
                 "Accounts are on: log in with your admin account.")


def _my_password() -> None:
    st.subheader("Your password")
    with st.form("my_password", clear_on_submit=True):
        first = st.text_input("New password", type="password")
        again = st.text_input("The same again", type="password")
        if st.form_submit_button("Change my password"):
            if first != again:
                st.error("The two passwords differ; nothing was changed.")
            else:
                _act(lambda: accounts.set_password(get_store(), current_user(), first,
                                                   actor=current_user()),
                     "Your password is changed.")


def render() -> None:
    st.title("Team")
    if "team_done" in st.session_state:
        st.success(st.session_state.pop("team_done"), icon=":material/check:")
    review = current_review()
    if review is not None and allowed("review.read", review):
        _members(review)
    if allowed("users.manage"):
        _accounts()
    if accounts_on() and current_user():
        _my_password()
