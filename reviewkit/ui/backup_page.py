"""Backup and move: download a whole review as one archive, or import an archive made elsewhere."""

from __future__ import annotations

import re

import streamlit as st

from reviewkit.archive import archive_counts, export_review, import_review, read_manifest
from reviewkit.errors import ReviewkitError
from reviewkit.ui.common import (
    allowed,
    choose_review,
    current_review,
    current_user,
    get_store,
    md_escape,
)

_READY = "backup_ready"  # (review id, file name, archive bytes) prepared for download


def _file_name(review_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", review_name.lower()).strip("-")[:60] or "review"
    return f"{slug}.zip"


def _download_section(actor: str) -> None:
    st.subheader("Download a review")
    review = current_review()
    if review is None:
        st.info("Choose a review in the sidebar to download it.")
        return
    st.write(f"Everything in **{md_escape(review.name)}** — records, decisions, full texts with "
             "their files, codes, duplicates, the team's library entries and the audit log — "
             "goes into one zip file. Passwords are never included.")
    if st.button("Prepare the archive", icon=":material/inventory_2:"):
        try:
            data = export_review(get_store(), review.id, actor=actor)
        except ReviewkitError as exc:
            st.error(md_escape(str(exc)))
            return
        st.session_state[_READY] = (review.id, _file_name(review.name), data)
    ready = st.session_state.get(_READY)
    if ready and ready[0] == review.id:
        _, name, data = ready
        st.success(f"The archive is ready ({len(data) / 1024:,.0f} KB).")
        st.download_button(f"Download {name}", data, file_name=name, mime="application/zip",
                           icon=":material/download:")


def _import_section(actor: str) -> None:
    st.subheader("Import an archive")
    st.write("Bring in a review exported from this or another reviewkit install, on SQLite or "
             "PostgreSQL. It arrives as a new review; nothing is stored unless all of it is.")
    upload = st.file_uploader("Review archive (.zip)", type=["zip"], key="backup_upload")
    if upload is None:
        return
    data = upload.getvalue()
    try:
        summary = read_manifest(data, filename=upload.name)
    except ReviewkitError as exc:
        st.error(md_escape(str(exc)))
        return
    st.write(f"**{md_escape(summary.review_name)}**: {archive_counts(summary)}; exported "
             f"{summary.created_at[:16].replace('T', ' ')} by {md_escape(summary.created_by)}.")
    taken = get_store().find_review(summary.review_name) is not None
    new_name = st.text_input(
        "Import under a new name" + (" (this name is taken here)" if taken else " (optional)"),
        key="backup_new_name")
    if st.button("Import the review", type="primary", icon=":material/upload:"):
        try:
            review = import_review(get_store(), data, actor=actor,
                                   new_name=new_name.strip() or None, filename=upload.name)
        except ReviewkitError as exc:
            st.error(md_escape(str(exc)))
            return
        choose_review(review.name)
        st.success(f"Imported **{md_escape(review.name)}** ({archive_counts(summary)}). It is "
                   "now chosen in the sidebar.")


def render() -> None:
    st.title("Backup and move")
    actor = current_user()
    if actor is None:
        st.info("Log in to download or import reviews.")
        return
    review = current_review()
    if review is not None and allowed("archive.export", review):
        _download_section(actor)
    elif review is not None:
        st.info("Only the review's lead or an admin can download the whole review.")
    if allowed("archive.import"):
        st.divider()
        _import_section(actor)
