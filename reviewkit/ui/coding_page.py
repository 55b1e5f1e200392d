"""Code studies: confirm or correct the codes suggested for each included study (the codebook
itself is edited on the Codebook page, :mod:`reviewkit.ui.codebook_page`)."""

from __future__ import annotations

import streamlit as st

from reviewkit.codebook import (
    Codebook,
    review_codebook,
)
from reviewkit.coding import (
    CODED_WHEN,
    CODING_SCHEMES,
    DIRECTIONS,
    RecordCode,
    coding_queue,
    confirm_code,
    reject_code,
    set_finding,
    study_codes,
    suggest_for_records,
)
from reviewkit.errors import ReviewkitError
from reviewkit.evidence_map import DIRECTION_NAMES
from reviewkit.ui.common import (
    current_user,
    get_store,
    link_to,
    md_escape,
    require_review,
    say_later,
    show_said,
)

_CURRENT = "code_current"  # the study on screen (a record id)
_PICK = "code_pick"  # the study picker's widget key


# -- callbacks -----------------------------------------------------------------


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
        say_later("studies", "error", str(exc))
    else:
        say_later("studies", "success", f"{'Confirmed' if status == 'confirmed' else 'Rejected'}: "
                                   f"{label}.")


def _add_other(review_id: int, record_id: int, scheme: str, codebook: Codebook) -> None:
    code = st.session_state.get(f"code_add_{record_id}_{scheme}")
    if not code:
        say_later("studies", "error", "Choose the code to add first.")
        return
    _decide(review_id, record_id, scheme, code, codebook.label(scheme, code), "confirmed")
    st.session_state[f"code_add_{record_id}_{scheme}"] = None


def _save_finding(review_id: int, record_id: int, code: str, label: str) -> None:
    key = f"code_finding_{record_id}_{code}"
    direction = st.session_state.get(f"{key}_direction")
    if not direction:
        say_later("studies", "error", f"Choose the direction of effect for {label}.")
        return
    try:
        set_finding(get_store(), review_id, record_id, "outcome", code, direction,
                    st.session_state.get(f"{key}_text") or "", current_user())
    except ReviewkitError as exc:
        say_later("studies", "error", str(exc))
    else:
        say_later("studies", "success", f"Finding saved for {label}.")


# -- drawing -------------------------------------------------------------------


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


def _studies(store, review, codebook: Codebook) -> None:
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
    show_said("studies")

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


def render() -> None:
    review = require_review("code")
    store = get_store()
    st.title("Code studies")
    st.write("Code each included study by approach, outcome, design and domain. Suggestions "
             "come with a confidence; confirm them or correct them, and every correction "
             "teaches later suggestions. Confirmed codes fill the evidence map and briefs.")
    link_to("codebook", "Add, rename or merge codes on the Codebook page",
            ":material/menu_book:")
    _studies(store, review, review_codebook(store, review.id))
