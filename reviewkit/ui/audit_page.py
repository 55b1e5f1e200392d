"""Audit: who did what and when in this review; deleted items and their restore."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit.audit import (
    AuditQuery,
    audit_actions,
    audit_actors,
    count_audit,
    describe,
    export_audit,
    find_audit,
)
from reviewkit.errors import ReviewkitError
from reviewkit.trash import (
    KIND_NAMES,
    check_in_review,
    delete_import,
    delete_record,
    deleted_items,
    restore,
)
from reviewkit.ui.common import allowed, current_user, get_store, md_escape, require_review

PAGE_SIZE = 100
EVERYONE, EVERYTHING = "Everyone", "Everything"


def _filters(store, review) -> AuditQuery:
    who, what, words = st.columns(3)
    actor = who.selectbox("Who", [EVERYONE, *audit_actors(store, review.id)], key="audit_actor")
    actions = audit_actions(store, review.id)
    families = sorted({a.split(".", 1)[0] + "." for a in actions})
    action = what.selectbox("What", [EVERYTHING, *families, *actions],
                            key="audit_action",
                            help="A family such as 'decision.' finds every kind of decision.")
    text = words.text_input("Words in the details", placeholder="e.g. wrong population",
                            key="audit_text")
    since_col, until_col = st.columns(2)
    since = since_col.date_input("From (day)", value=None)
    until = until_col.date_input("To (day, included)", value=None)
    return AuditQuery(review_id=review.id, actor=None if actor == EVERYONE else actor,
                      action=None if action == EVERYTHING else action, text=text or None,
                      since=since, until=until)


def _trail(store, query: AuditQuery) -> None:
    total = count_audit(store, query)
    pages = max(1, -(-total // PAGE_SIZE))
    page = st.number_input(f"Page (of {pages})", 1, pages, 1) if pages > 1 else 1
    entries = find_audit(store, query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    st.caption(f"{total} audit lines match, newest first. Times are UTC.")
    st.dataframe(pd.DataFrame([{
        "When": e.at.strftime("%Y-%m-%d %H:%M:%S"), "Who": e.actor, "What": describe(e),
        "Action": e.action} for e in entries], columns=["When", "Who", "What", "Action"]),
        hide_index=True, key="audit_table")
    left, right = st.columns(2)
    left.download_button("Download as CSV (Excel)", lambda: export_audit(store, query)[0],
                         file_name="audit.csv", mime="text/csv", on_click="ignore")
    right.download_button("Download as JSON lines",
                          lambda: export_audit(store, query, format="jsonl")[0],
                          file_name="audit.jsonl", mime="application/jsonl", on_click="ignore")


def _deleted(store, review) -> None:
    st.header("Deleted items")
    items = deleted_items(store, review.id)
    if not items:
        st.caption("Nothing in this review is deleted.")
        return
    st.caption("Deleted items are hidden everywhere else; restoring brings them back as they "
               "were, with their decisions and codes.")
    for item in items:
        with st.container(border=True):
            text, button = st.columns([5, 1])
            text.text(f"{KIND_NAMES[item.kind]}: {item.label}")
            text.caption(md_escape(f"Deleted {item.deleted_at:%Y-%m-%d %H:%M}"
                                   + (f" · {item.note}" if item.note else "")))
            if button.button("Restore", key=f"restore-{item.kind}-{item.id}"):
                try:
                    restore(store, item.kind, item.id, actor=current_user())
                except ReviewkitError as exc:
                    st.session_state["audit_message"] = ("error", str(exc))
                else:
                    st.session_state["audit_message"] = ("success",
                                                         f"Restored: {item.label}")
                st.rerun()


def _delete_forms(store, review) -> None:
    st.header("Delete an import or a record")
    st.caption("Nothing is erased: a deleted import or record leaves every count, list, export "
               "and the PRISMA diagram, and can be restored above.")
    batches = store.list_batches(review.id)
    with st.form("delete_import"):
        labels = {f"{b.filename} · {b.record_count} records · import {b.id}": b.id
                  for b in batches}
        chosen = st.selectbox("Import", list(labels), index=None,
                              placeholder="Choose an imported file")
        reason = st.text_input("Why (kept in the audit trail)", key="import_reason")
        sure = st.checkbox("Yes, delete this import and all its records", key="import_sure")
        if st.form_submit_button("Delete import", key="delete_import_submit"):
            if chosen is None or not sure:
                st.warning("Choose an import and tick the box to confirm.")
            else:
                _act(lambda: delete_import(store, labels[chosen], actor=current_user(),
                                           reason=reason), f"Deleted the import {chosen}.")
    with st.form("delete_record"):
        record_id = st.number_input("Record id", min_value=1, step=1, value=None,
                                    key="delete_record_id")
        reason = st.text_input("Why (kept in the audit trail)", key="record_reason")
        sure = st.checkbox("Yes, delete this record", key="record_sure")
        if st.form_submit_button("Delete record", key="delete_record_submit"):
            if record_id is None or not sure:
                st.warning("Give a record id and tick the box to confirm.")
            else:
                _act(lambda: _delete_record(store, review, int(record_id), reason),
                     f"Deleted record {int(record_id)}.")


def _delete_record(store, review, record_id: int, reason: str) -> None:
    check_in_review(store, "record", record_id, review.id)
    delete_record(store, record_id, actor=current_user(), reason=reason)


def _act(change, message: str) -> None:
    try:
        change()
    except ReviewkitError as exc:
        st.session_state["audit_message"] = ("error", str(exc))
    else:
        st.session_state["audit_message"] = ("success", message)
    st.rerun()


def render() -> None:
    review = require_review("audit.read")
    store = get_store()
    st.title("Audit trail")
    st.write("Every decision, merge, code, story edit, moderation step, deletion and restore "
             "in this review, with who made it and when.")
    kind, message = st.session_state.pop("audit_message", (None, ""))
    if kind == "success":
        st.success(md_escape(message))
    elif kind == "error":
        st.error(md_escape(message))
    _trail(store, _filters(store, review))
    if allowed("trash.restore", review):
        _deleted(store, review)
        _delete_forms(store, review)
