"""Code studies: confirm or correct the codes suggested for each included study, and keep the
review's codebook (add, rename, merge codes) with a version saved for every change."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from reviewkit.codebook import Codebook, codebook_changes, review_codebook, to_yaml
from reviewkit.coding import (
    CODED_WHEN,
    CODING_SCHEMES,
    DIRECTIONS,
    RecordCode,
    code_use_counts,
    codebook_from_upload,
    codebook_history,
    coding_queue,
    confirm_code,
    edit_code,
    merge_review_codes,
    new_code,
    reject_code,
    save_codebook_edit,
    set_finding,
    split_synonyms,
    study_codes,
    suggest_for_records,
)
from reviewkit.errors import ReviewkitError
from reviewkit.evidence_map import DIRECTION_NAMES
from reviewkit.ui.common import current_user, get_store, md_escape, require_review

_CURRENT = "code_current"  # the study on screen (a record id)
_PICK = "code_pick"  # the study picker's widget key


# -- messages that survive the rerun after a button ----------------------------------------


def _say(where: str, kind: str, text: str) -> None:
    """Keep a plain-text message to show on the next run (callbacks run before the page)."""
    st.session_state[f"code_msg_{where}"] = (kind, text)


def _show_message(where: str) -> None:
    said = st.session_state.pop(f"code_msg_{where}", None)
    if said:
        kind, text = said
        {"success": st.success, "error": st.error, "info": st.info}[kind](md_escape(text))


# -- Code studies tab: callbacks -----------------------------------------------------------------


def _go_to(record_id: int | None) -> None:
    if record_id is not None:
        st.session_state[_CURRENT] = record_id
        st.session_state[_PICK] = record_id


def _picked() -> None:
    st.session_state[_CURRENT] = st.session_state[_PICK]


def _decide(review_id: int, record_id: int, scheme: str, code: str, label: str,
            status: str) -> None:
    action = confirm_code if status == "confirmed" else reject_code
    try:
        action(get_store(), review_id, record_id, scheme, code, current_user())
    except ReviewkitError as exc:
        _say("studies", "error", str(exc))
    else:
        _say("studies", "success", f"{'Confirmed' if status == 'confirmed' else 'Rejected'}: "
                                   f"{label}.")


def _add_other(review_id: int, record_id: int, scheme: str, codebook: Codebook) -> None:
    code = st.session_state.get(f"code_add_{record_id}_{scheme}")
    if not code:
        _say("studies", "error", "Choose the code to add first.")
        return
    _decide(review_id, record_id, scheme, code, codebook.label(scheme, code), "confirmed")
    st.session_state[f"code_add_{record_id}_{scheme}"] = None


def _save_finding(review_id: int, record_id: int, code: str, label: str) -> None:
    key = f"code_finding_{record_id}_{code}"
    direction = st.session_state.get(f"{key}_direction")
    if not direction:
        _say("studies", "error", f"Choose the direction of effect for {label}.")
        return
    try:
        set_finding(get_store(), review_id, record_id, "outcome", code, direction,
                    st.session_state.get(f"{key}_text") or "", current_user())
    except ReviewkitError as exc:
        _say("studies", "error", str(exc))
    else:
        _say("studies", "success", f"Finding saved for {label}.")


# -- Code studies tab: drawing -------------------------------------------------------------------


def _status_words(row: RecordCode) -> str:
    who = md_escape(row.coder)
    share = f"{row.confidence:.0%}" if row.confidence is not None else ""
    if row.status == "suggested":
        return f"suggested · **{share}** confident"
    if row.status == "rejected":
        return f":red[rejected by {who}]" + (f" · suggested at {share}" if share else "")
    if row.source == "auto":
        return f":green[confirmed by {who}] · suggested at {share}"
    return f":green[added by {who}]"


def _code_row(review_id: int, record_id: int, scheme: str, row: RecordCode,
              codebook: Codebook) -> None:
    label = codebook.label(scheme, row.code)
    text, yes, no = st.columns([6, 1.2, 1.2], vertical_alignment="center")
    shown = md_escape(label) if row.status != "rejected" else f"~~{md_escape(label)}~~"
    text.markdown(f"{shown}  \n:small[{_status_words(row)}]")
    key = f"{record_id}_{scheme}_{row.code}"
    yes.button("Confirm", key=f"code_yes_{key}", icon=":material/check:",
               disabled=row.status == "confirmed", on_click=_decide,
               args=(review_id, record_id, scheme, row.code, label, "confirmed"),
               type="primary" if row.status == "suggested" else "secondary")
    no.button("Reject", key=f"code_no_{key}", icon=":material/close:",
              disabled=row.status == "rejected", on_click=_decide,
              args=(review_id, record_id, scheme, row.code, label, "rejected"))
    if scheme == "outcome" and row.status == "confirmed":
        _finding_form(review_id, record_id, row, label)


def _finding_form(review_id: int, record_id: int, row: RecordCode, label: str) -> None:
    key = f"code_finding_{record_id}_{row.code}"
    with st.form(key, border=False):
        left, right = st.columns([2, 3])
        left.radio("Direction of effect", DIRECTIONS, horizontal=True, key=f"{key}_direction",
                   index=DIRECTIONS.index(row.direction) if row.direction in DIRECTIONS
                   else None, format_func=lambda d: DIRECTION_NAMES.get(d, d))
        right.text_input("Key finding (one line)", value=row.finding, key=f"{key}_text",
                         max_chars=300, placeholder="e.g. Loneliness fell after six months")
        st.form_submit_button("Save finding", key=f"{key}_save", icon=":material/save:",
                              on_click=_save_finding,
                              args=(review_id, record_id, row.code, label))


def _scheme_panel(review_id: int, record_id: int, scheme: str, rows: list[RecordCode],
                  codebook: Codebook) -> None:
    found = codebook.scheme(scheme)
    with st.container(border=True):
        st.markdown(f"**{md_escape(found.label)}**")
        if not rows:
            st.caption("No codes yet: press *Suggest codes*, or add one below.")
        for row in rows:
            _code_row(review_id, record_id, scheme, row, codebook)
        confirmed = {r.code for r in rows if r.status == "confirmed"}
        others = [c.code for c in found.codes if c.code not in confirmed]
        pick, add = st.columns([6, 2.4], vertical_alignment="bottom")
        pick.selectbox(f"Add another {found.label.lower()} code", others, index=None,
                       key=f"code_add_{record_id}_{scheme}",
                       placeholder="Choose a code the suggestions missed…",
                       format_func=lambda c, s=scheme: codebook.label(s, c))
        add.button("Add code", key=f"code_add_button_{record_id}_{scheme}",
                   icon=":material/add:", on_click=_add_other,
                   args=(review_id, record_id, scheme, codebook))


def _suggest_buttons(store, review, current: int, queue) -> None:
    waiting = queue.to_code
    left, right = st.columns(2)
    one = left.button("Suggest codes for this study", icon=":material/auto_awesome:",
                      key="code_suggest_one",
                      help="Reads the title, abstract and any full text, and suggests codes "
                           "from the codebook, learning from the codes confirmed or rejected "
                           "so far in this review.")
    every = right.button(f"Suggest codes for all {len(waiting)} studies still to code"
                         if waiting else "No study left to code",
                         icon=":material/auto_awesome_motion:", key="code_suggest_all",
                         disabled=not waiting,
                         help="Pending suggestions are replaced; codes someone already "
                              "confirmed or rejected stay as they are.")
    if not (one or every):
        return
    ids = [current] if one else waiting
    bar = st.progress(0.0, text="Loading the language model…")

    def tick(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Suggested codes for {done} of {total} "
                                                f"stud{'y' if total == 1 else 'ies'}")

    try:
        with st.spinner("Suggesting codes…"):
            stored = suggest_for_records(store, review.id, ids, current_user(), on_progress=tick)
    except ReviewkitError as exc:
        st.error(md_escape(str(exc)))
        return
    total = sum(stored.values())
    st.success(f"{total} suggestion{'' if total == 1 else 's'} stored for {len(stored)} "
               f"stud{'y' if len(stored) == 1 else 'ies'}. Confirm or reject them below.")


def _studies_tab(store, review, codebook: Codebook) -> None:
    queue = coding_queue(store, review)
    if not len(queue):
        st.info("No study is included yet. Studies appear here once they are included at "
                "full-text screening.")
        return
    st.progress(queue.coded / len(queue),
                text=f"**{queue.coded} of {len(queue)}** included studies coded")
    needed = " and ".join(sorted(CODED_WHEN))
    st.caption(f"A study counts as coded once it has a confirmed {needed} code. "
               "Studies still to code come first.")
    current = st.session_state.get(_CURRENT)
    if current not in queue.order:
        current = queue.next_to_code() or queue.order[0]
        _go_to(current)
    if st.session_state.get(_PICK) not in queue.order:
        st.session_state[_PICK] = current

    def describe(rid: int) -> str:
        study = queue.get(rid)
        year = f" ({study.year})" if study.year else ""
        return f"{'Coded' if study.coded else 'To code'} · {(study.title or '(no title)')[:110]}{year}"

    st.selectbox("Study", queue.order, key=_PICK, format_func=describe, on_change=_picked)
    nav = st.container(horizontal=True)
    nav.button("Previous", key="code_prev", icon=":material/arrow_back:", on_click=_go_to,
               args=(queue.neighbour(current, -1),),
               disabled=queue.neighbour(current, -1) is None)
    nav.button("Next", key="code_next", icon=":material/arrow_forward:", on_click=_go_to,
               args=(queue.neighbour(current, 1),),
               disabled=queue.neighbour(current, 1) is None)
    nav.button("Next study to code", key="code_next_uncoded", icon=":material/skip_next:",
               on_click=_go_to, args=(queue.next_to_code(current),),
               disabled=queue.next_to_code(current) is None)
    _suggest_buttons(store, review, current, queue)
    _show_message("studies")

    record = store.get_record(current).record
    with st.container(border=True):
        st.subheader(md_escape(record.title) or "(no title)")
        about = [", ".join(record.authors[:6]) + (" et al." if len(record.authors) > 6 else ""),
                 str(record.year or ""), record.journal]
        st.caption(md_escape(" · ".join(x for x in about if x)) or "No authors or year.")
        if record.abstract:
            st.text(record.abstract)
        else:
            st.caption("No abstract.")
        if record.full_text:
            st.caption("A full text is attached: suggestions read it too.")
    codes = study_codes(store, review.id, current)
    for scheme in CODING_SCHEMES:
        if scheme in codebook.schemes:
            _scheme_panel(review.id, current, scheme, codes.get(scheme, []), codebook)


# -- Codebook tab: callbacks -----------------------------------------------------------------------


def _saved(version: int | None, changes: list[str], what: str) -> None:
    if version is None:
        _say("codebook", "info", "Nothing changed, so no new version was saved.")
    else:
        _say("codebook", "success", f"{what} Saved as codebook version {version} "
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
        _say("codebook", "error", str(exc))
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
        _say("codebook", "error", str(exc))
        return
    _saved(version, changes, "Code updated.")
    for name in ("label", "description", "synonyms"):
        state.pop(f"{key}_{name}", None)  # refill from the saved codebook


def _merge(review_id: int, scheme: str, codebook: Codebook) -> None:
    keep = st.session_state.get(f"cb_merge_keep_{scheme}")
    drop = st.session_state.get(f"cb_merge_drop_{scheme}")
    if not keep or not drop:
        _say("codebook", "error", "Choose the code to keep and the code to fold into it.")
        return
    try:
        version, moved = merge_review_codes(get_store(), review_id, scheme, keep, drop,
                                            current_user())
    except ReviewkitError as exc:
        _say("codebook", "error", str(exc))
        return
    _say("codebook", "success",
         f"Merged '{codebook.label(scheme, drop)}' into "
         f"'{codebook.label(scheme, keep)}'. Saved as codebook version {version}; "
         f"{moved} study code{'' if moved == 1 else 's'} moved to the kept code.")
    st.session_state[f"cb_merge_keep_{scheme}"] = None
    st.session_state[f"cb_merge_drop_{scheme}"] = None


def _save_upload(review_id: int, uploaded: Codebook) -> None:
    try:
        version, changes = save_codebook_edit(get_store(), review_id, uploaded, current_user())
    except ReviewkitError as exc:
        _say("codebook", "error", str(exc))
        return
    _saved(version, changes, "Uploaded codebook stored.")


# -- Codebook tab: drawing ---------------------------------------------------------------------------


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


def _codebook_tab(store, review, codebook: Codebook) -> None:
    history = codebook_history(store, review.id)
    _show_message("codebook")
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
    st.title("Code studies")
    st.write("Code each included study by approach, outcome, design and domain. Suggestions "
             "come with a confidence; confirm them or correct them, and every correction "
             "teaches later suggestions. Confirmed codes fill the evidence map and briefs.")
    codebook = review_codebook(store, review.id)
    studies, book = st.tabs(["Code studies", "Codebook"])
    with studies:
        _studies_tab(store, review, codebook)
    with book:
        _codebook_tab(store, review, codebook)
