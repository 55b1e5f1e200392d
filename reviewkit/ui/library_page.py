"""Local stories: search case studies and residents' accounts; add your own; moderate."""

from __future__ import annotations

from datetime import date

import streamlit as st

from reviewkit.codebook import load_codebook
from reviewkit.errors import ReviewkitError
from reviewkit.evidence_map import coded_studies_for_review
from reviewkit.library import (
    Consent,
    LibraryIndex,
    add_contribution,
    anonymise,
    entries_for_codes,
    flag_personal_details,
    library_entries,
    moderate,
    pending_contributions,
    studies_for_entry,
    viewer_for,
)
from reviewkit.library.pairing import CodedStudy
from reviewkit.ui.common import allowed, current_review, current_user, get_store, md_escape

FACET_NAMES = {"type": "Kind", "local_authority": "Council area", "place": "Place",
               "approach": "Approach", "outcome": "Outcome", "domain": "Resilience domain"}
TYPES = ["case study", "lived-experience story", "resident-led enquiry", "evaluation"]


@st.cache_resource(show_spinner="Getting the library ready…", max_entries=2)
def library_index(version: int) -> LibraryIndex:
    """The search index over the files and the stored entries, as they stood at ``version``."""
    return LibraryIndex.build(library_entries(get_store()))


def _index() -> LibraryIndex:
    # The version lives in the database, so a change made through another session, another
    # running app or the command line reaches this one on its next run.
    return library_index(get_store().library_version())


def local_entries_panel(approaches: list[str], outcomes: list[str]) -> None:
    """Show the local entries that share these codes (used beside studies and map cells)."""
    viewer = viewer_for(get_store(), current_user())
    found = entries_for_codes(approaches, outcomes, viewer=viewer, entries=_index(), top=5)
    st.markdown("**Local examples and residents' stories**")
    if not found:
        st.caption("No local entry shares these codes yet.")
    for entry, why in found:
        st.markdown(f"- **{md_escape(entry.title)}** ({md_escape(entry.type)}, {md_escape(entry.place)}) — "
                    f"{md_escape(why)}")


def _detail(entry, codebook) -> None:
    st.subheader(md_escape(entry.title))
    st.caption(md_escape(f"{entry.type} · {entry.place} · {entry.local_authority} · {entry.years}"))
    st.markdown(md_escape(entry.summary))
    # Entries from the bundled case_studies folder are written by the project in Markdown;
    # stored ones (contributed, or brought in by an archive) are user text.
    st.markdown(md_escape(entry.body) if entry.db_id else entry.body.replace("$", r"\$"))
    st.caption(md_escape(f"Source: {entry.source}"))
    st.markdown("**Research on the same approach**")
    review = current_review()
    studies = [CodedStudy(s.record_id, s.title, set(s.approaches), set(s.outcomes))
               for s in (coded_studies_for_review(get_store(), review.id) if review else [])]
    paired = studies_for_entry(entry, studies, top=6)
    if not paired:
        st.caption("No included study in this review shares its approach or outcome yet.")
    for study, why in paired:
        st.markdown(f"- {md_escape(study.title)} — {md_escape(why)}")
    links = [f"[Evidence on {md_escape(codebook.label('approach', code))}]"
             f"(/evidence-by-approach?approach={code})" for code in entry.approaches]
    if links:
        st.markdown("**Follow the evidence:** " + " · ".join(links))


def _search(codebook) -> None:
    viewer = viewer_for(get_store(), current_user())
    index = _index()
    query = st.text_input("Search in your own words", placeholder="e.g. loneliness, debt advice, "
                          "green space, having a say")
    counts = index.facet_counts(viewer=viewer)
    filters = {}
    with st.expander("Narrow down", expanded=False):
        cols = st.columns(3)
        for i, (facet, label) in enumerate(FACET_NAMES.items()):
            options = sorted(counts.get(facet, {}))
            names = (lambda c, f=facet: codebook.label(f, c)) if facet in ("approach", "outcome", "domain") else str
            chosen = cols[i % 3].multiselect(label, options, key=f"facet-{facet}", format_func=names)
            if chosen:
                filters[facet] = set(chosen)
    hits = index.search(query, top=20, filters=filters or None, viewer=viewer)
    st.caption(f"{len(hits)} entries" + (f" for '{md_escape(query)}'" if query else ""))
    for hit in hits:
        entry = hit.entry
        with st.container(border=True):
            st.markdown(f"**{md_escape(entry.title)}**")
            st.caption(md_escape(f"{entry.type} · {entry.place} · {entry.local_authority}"))
            st.markdown(md_escape(entry.summary))
            if st.button("Read more", key=f"open-{entry.id}"):
                st.session_state["library_open"] = entry.id
    opened = st.session_state.get("library_open")
    if opened:
        entry = next((e for e in index.entries if e.id == opened), None)
        if entry is not None:
            with st.container(border=True):
                _detail(entry, codebook)


def _contribute(codebook) -> None:
    st.write("Share a local story or case study. It waits for a moderator before anyone else "
             "sees it, and we check it for names, phone numbers and addresses first.")
    with st.form("contribute"):
        title = st.text_input("Title *")
        kind = st.selectbox("What is it? *", TYPES)
        place = st.text_input("Place (neighbourhood or town) *")
        council = st.text_input("Council area *")
        years = st.text_input("When did it happen? *", placeholder="e.g. 2022–2023")
        approaches = st.multiselect("What was done? *", [c.code for c in codebook.schemes["approach"].codes],
                                    format_func=lambda c: codebook.label("approach", c))
        outcomes = st.multiselect("What changed? *", [c.code for c in codebook.schemes["outcome"].codes],
                                  format_func=lambda c: codebook.label("outcome", c))
        summary = st.text_area("Two or three sentences in plain words *")
        body = st.text_area("The story *", height=200)
        visibility = st.radio("Who can see it?", ["team", "public"], horizontal=True,
                              format_func={"team": "Only our review team", "public": "Everyone"}.get)
        st.markdown("**Consent**")
        who = st.text_input("Whose account is this? (a role is enough) *")
        given_by = st.text_input("Who gave consent, and how? *", placeholder="e.g. the resident, signed form")
        when = st.date_input("Date consent was given *", value=date.today())
        purposes = st.multiselect("Consent covers *", ["publish in the library", "quote in briefings",
                                                       "use in training"])
        sent = st.form_submit_button("Send for moderation", type="primary")
    if not sent:
        return
    flags = flag_personal_details(f"{title}\n{summary}\n{body}")
    if flags and not st.session_state.get("accept_anonymised"):
        st.warning("These look like personal details. We will replace them before saving: "
                   + ", ".join(f"{f.kind} '{f.text}'" for f in flags))
    review = current_review()
    front = {"title": title, "type": kind, "place": place, "local_authority": council,
             "years": years, "approaches": approaches, "outcomes": outcomes, "domains": [],
             "population": "", "summary": anonymise(summary, flag_personal_details(summary)),
             "source": "Contributed through reviewkit", "visibility": visibility,
             "attribution": who, "consent": "consent recorded"}
    try:
        new_id = add_contribution(get_store(), front_matter=front,
                                  body=anonymise(body, flag_personal_details(body)),
                                  consent=Consent(who=who, when=when, purposes=purposes, given_by=given_by),
                                  actor=current_user(), review_id=review.id if review else None)
    except ReviewkitError as exc:
        st.error(f"Nothing was saved yet. {md_escape(str(exc))}")
        return
    st.success(f"Thank you. Your entry (number {new_id}) is waiting for a moderator.")


def _moderate() -> None:
    store = get_store()
    viewer = viewer_for(store, current_user())
    queue = pending_contributions(store, viewer=viewer)
    if not viewer.moderator:
        st.info("Only moderators see this queue.")
        return
    if not queue:
        st.success("Nothing is waiting for moderation.")
    for entry in queue:
        with st.container(border=True):
            st.markdown(f"**{md_escape(entry.title)}** ({md_escape(entry.type)}, {md_escape(entry.place)})")
            st.markdown(md_escape(entry.summary))
            flags = flag_personal_details(entry.body)
            if flags:
                st.warning("Check these before publishing: " + md_escape(", ".join(f.text for f in flags)))
            a, b = st.columns(2)
            for column, decision in ((a, "publish"), (b, "reject")):
                if column.button(decision.capitalize(), key=f"{decision}-{entry.id}"):
                    moderate(store, int(entry.db_id or 0), decision, actor=current_user())
                    st.rerun()


def render() -> None:
    st.title("Local stories")
    st.write("Case studies, resident-led enquiries and residents' own accounts from Cheshire, "
             "Merseyside and the Neighbourhood Resilience Programme areas, beside the research.")
    codebook = load_codebook()
    find, add, check = st.tabs(["Find", "Add your story", "Moderate"])
    with find:
        _search(codebook)
    with add:
        if allowed("library.contribute"):
            _contribute(codebook)
        else:
            st.info("Log in as a peer researcher or researcher to add a story to the library.")
    with check:
        _moderate()
