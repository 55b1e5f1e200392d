"""Codebook: the review's codes by scheme, with adding, renaming, merging, upload, download
and the history of saved versions (the rules live in :mod:`reviewkit.codebook`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit.codebook import (
    Codebook,
    codebook_changes,
    codebook_from_upload,
    codebook_history,
    edit_code,
    merge_review_codes,
    new_code,
    review_codebook,
    save_codebook_edit,
    split_synonyms,
    to_yaml,
)
from reviewkit.coding import code_use_counts
from reviewkit.errors import ReviewkitError
from reviewkit.ui.common import (
    current_user,
    get_store,
    link_to,
    md_escape,
    require_review,
    say_later,
    show_said,
)

# -- callbacks -----------------------------------------------------------------------


def _saved(version: int | None, changes: list[str], what: str) -> None:
    if version is None:
        say_later("codebook", "info", "Nothing changed, so no new version was saved.")
    else:
        say_later("codebook", "success", f"{what} Saved as codebook version {version} "
                                    f"({'; '.join(changes)}).")


def _add_code(review_id: int, scheme: str) -> None:
    state = st.session_state
    store, me = get_store(), current_user()
    try:
        edited = new_code(review_codebook(store, review_id), scheme, state.get("cb_add_label", ""),
                          description=state.get("cb_add_description", ""),
                          synonyms=split_synonyms(state.get("cb_add_synonyms", "")),
                          slug=state.get("cb_add_slug", ""))
        version, changes = save_codebook_edit(store, review_id, edited, me)
    except ReviewkitError as exc:
        say_later("codebook", "error", str(exc))
        return
    _saved(version, changes, f"Added '{state.get('cb_add_label', '').strip()}'.")
    for name in ("label", "slug", "description", "synonyms"):
        state[f"cb_add_{name}"] = ""


def _edit_code(review_id: int, scheme: str, code: str) -> None:
    state = st.session_state
    key = f"cb_edit_{scheme}_{code}"
    store = get_store()
    try:
        edited = edit_code(review_codebook(store, review_id), scheme, code,
                           label=state.get(f"{key}_label", ""),
                           description=state.get(f"{key}_description", ""),
                           synonyms=split_synonyms(state.get(f"{key}_synonyms", "")))
        version, changes = save_codebook_edit(store, review_id, edited, current_user())
    except ReviewkitError as exc:
        say_later("codebook", "error", str(exc))
        return
    _saved(version, changes, "Code updated.")
    for name in ("label", "description", "synonyms"):
        state.pop(f"{key}_{name}", None)  # refill from the saved codebook


def _merge(review_id: int, scheme: str, codebook: Codebook) -> None:
    keep = st.session_state.get(f"cb_merge_keep_{scheme}")
    drop = st.session_state.get(f"cb_merge_drop_{scheme}")
    if not keep or not drop:
        say_later("codebook", "error", "Choose the code to keep and the code to fold into it.")
        return
    try:
        version, moved = merge_review_codes(get_store(), review_id, scheme, keep, drop,
                                            current_user())
    except ReviewkitError as exc:
        say_later("codebook", "error", str(exc))
        return
    say_later("codebook", "success",
         f"Merged '{codebook.label(scheme, drop)}' into "
         f"'{codebook.label(scheme, keep)}'. Saved as codebook version {version}; "
         f"{moved} study code{'' if moved == 1 else 's'} moved to the kept code.")
    st.session_state[f"cb_merge_keep_{scheme}"] = None
    st.session_state[f"cb_merge_drop_{scheme}"] = None


def _save_upload(review_id: int, uploaded: Codebook) -> None:
    try:
        version, changes = save_codebook_edit(get_store(), review_id, uploaded, current_user())
    except ReviewkitError as exc:
        say_later("codebook", "error", str(exc))
        return
    _saved(version, changes, "Uploaded codebook stored.")


# -- drawing ---------------------------------------------------------------------------


def _history_panel(history: list[dict]) -> None:
    if history:
        latest = history[-1]
        st.markdown(f"**Codebook version {latest['version']}** · saved by "
                    f"{md_escape(latest['created_by'])} on "
                    f"{latest['created_at']:%d %b %Y %H:%M}")
    else:
        st.markdown("**The bundled codebook** · not changed for this review yet; the first "
                    "change is saved as version 1.")
    with st.expander(f"History ({len(history)} saved version{'' if len(history) == 1 else 's'})"):
        if not history:
            st.caption("No version saved yet.")
        else:
            st.dataframe(pd.DataFrame([{
                "Version": h["version"], "Saved by": h["created_by"],
                "When": h["created_at"], "What changed": "; ".join(h["changes"]) or "—"}
                for h in reversed(history)]), hide_index=True)


def _scheme_table(codebook: Codebook, scheme: str, uses: dict) -> None:
    found = codebook.scheme(scheme)
    if found.description:
        st.caption(md_escape(found.description))
    st.dataframe(pd.DataFrame([{
        "Label": c.label, "Short name": c.code, "Studies": uses.get((scheme, c.code), 0),
        "Description": c.description, "Synonyms": ", ".join(c.synonyms)}
        for c in found.codes], columns=["Label", "Short name", "Studies", "Description",
                                        "Synonyms"]),
        hide_index=True, column_config={"Studies": st.column_config.NumberColumn(
            help="Included studies with this code confirmed")})


def _add_form(review_id: int, scheme: str, scheme_label: str) -> None:
    with st.form(f"cb_add_form_{scheme}"):
        st.text_input("Label", key="cb_add_label", placeholder="e.g. Time banking")
        st.text_input("Short name (optional)", key="cb_add_slug",
                      help="Lower case letters, digits and underscores; made from the label "
                           "when left empty. It never changes once studies use the code.")
        st.text_area("Description", key="cb_add_description", height=80)
        st.text_area("Synonyms (separated by commas)", key="cb_add_synonyms", height=80,
                     help="Everyday words people use for this code; they help searches and "
                          "suggestions find it.")
        st.form_submit_button(f"Add to {md_escape(scheme_label.lower())}", key="cb_add_save",
                              icon=":material/add:", on_click=_add_code,
                              args=(review_id, scheme))


def _edit_form(review_id: int, codebook: Codebook, scheme: str) -> None:
    codes = codebook.scheme(scheme).codes
    if not codes:
        st.caption("This scheme has no codes yet.")
        return
    code = st.selectbox("Code to edit", [c.code for c in codes], key=f"cb_edit_pick_{scheme}",
                        format_func=lambda c: codebook.label(scheme, c))
    chosen = codebook.code(scheme, code)
    key = f"cb_edit_{scheme}_{code}"
    with st.form(key):
        st.text_input("Label", value=chosen.label, key=f"{key}_label",
                      help="A new label keeps the old one as a synonym.")
        st.text_area("Description", value=chosen.description, key=f"{key}_description",
                     height=80)
        st.text_area("Synonyms (separated by commas)", value=", ".join(chosen.synonyms),
                     key=f"{key}_synonyms", height=80)
        st.form_submit_button("Save changes", key=f"{key}_save", icon=":material/save:",
                              on_click=_edit_code, args=(review_id, scheme, code))


def _merge_form(review_id: int, codebook: Codebook, scheme: str) -> None:
    codes = [c.code for c in codebook.scheme(scheme).codes]
    if len(codes) < 2:
        st.caption("A scheme needs two codes before they can be merged.")
        return
    st.caption("The second code is folded into the first: its label and synonyms become the "
               "first code's synonyms, and every study coded with it moves to the first.")
    with st.form(f"cb_merge_form_{scheme}"):
        keep, drop = st.columns(2)
        label = lambda c: codebook.label(scheme, c)  # noqa: E731
        keep.selectbox("Keep", codes, index=None, key=f"cb_merge_keep_{scheme}",
                       format_func=label, placeholder="The code that stays")
        drop.selectbox("Fold into it", codes, index=None, key=f"cb_merge_drop_{scheme}",
                       format_func=label, placeholder="The code that goes")
        st.form_submit_button("Merge", key=f"cb_merge_save_{scheme}", icon=":material/merge:",
                              on_click=_merge, args=(review_id, scheme, codebook))


def _upload_panel(store, review, codebook: Codebook, version: int) -> None:
    upload = st.file_uploader("Upload a codebook (YAML)", type=["yaml", "yml"],
                              key=f"cb_upload_{version}",
                              help="The same layout as the download. It is checked first, and "
                                   "saved as a new version only when you confirm.")
    if upload is None:
        return
    try:
        uploaded = codebook_from_upload(upload.getvalue(), codebook)
    except ReviewkitError as exc:
        st.error(md_escape(f"{exc} Nothing was saved."))
        return
    changes = codebook_changes(codebook, uploaded)
    if not changes:
        st.info("The uploaded codebook is the same as the current one.")
        return
    st.markdown("The upload would change:\n" + "\n".join(f"- {md_escape(c)}" for c in changes))
    uses = code_use_counts(store, review.id)
    dropped = [f"{s}:{c}" for (s, c), n in uses.items()
               if n and s in uploaded.schemes and uploaded.schemes[s].get(c) is None]
    if dropped:
        st.warning("Studies are coded with codes the upload removes (they keep them, shown by "
                   f"short name): {md_escape(', '.join(sorted(dropped)))}.")
    st.button("Save the uploaded codebook as a new version", key="cb_upload_save",
              icon=":material/save:", type="primary", on_click=_save_upload,
              args=(review.id, uploaded))


def _codebook(store, review, codebook: Codebook) -> None:
    history = codebook_history(store, review.id)
    show_said("codebook")
    _history_panel(history)
    scheme = st.selectbox("Scheme", list(codebook.schemes), key="cb_scheme",
                          format_func=lambda s: codebook.schemes[s].label)
    _scheme_table(codebook, scheme, code_use_counts(store, review.id))
    label = codebook.schemes[scheme].label
    with st.expander(f"Add a code to {md_escape(label.lower())}"):
        _add_form(review.id, scheme, label)
    with st.expander("Rename or describe a code"):
        _edit_form(review.id, codebook, scheme)
    with st.expander("Merge two codes"):
        _merge_form(review.id, codebook, scheme)
    version = history[-1]["version"] if history else 0
    st.download_button("Download the codebook (YAML)", to_yaml(codebook).encode("utf-8"),
                       file_name=f"codebook-v{version or 'bundled'}.yaml",
                       mime="application/x-yaml", icon=":material/download:",
                       key="cb_download")
    _upload_panel(store, review, codebook, version)


def render() -> None:
    review = require_review("code")
    store = get_store()
    st.title("Codebook")
    st.write("The codes studies are coded with, scheme by scheme. Each change is saved as a "
             "new version of the review's codebook; studies keep their codes, and a merge "
             "moves them to the code that is kept.")
    link_to("code", "Code the included studies on the Code studies page", ":material/label:")
    _codebook(store, review, review_codebook(store, review.id))
