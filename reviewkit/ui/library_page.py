"""Local stories: find them, share one, and check the ones waiting to go out."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from reviewkit.codebook import load_codebook
from reviewkit.errors import ReviewkitError
from reviewkit.evidence_map import coded_studies_for_review
from reviewkit.library import (
    LibraryIndex,
    entries_for_codes,
    library_entries,
    load_entries,
    moderate,
    studies_for_entry,
    viewer_for,
)
from reviewkit.library.contributions import (
    edit_contribution,
    moderation_queue,
    my_stories,
    withdraw_consent,
)
from reviewkit.library.pairing import CodedStudy
from reviewkit.library.personal_details import warm_up
from reviewkit.library.publication_diff import changes, publication_diff
from reviewkit.library.reading import readable_body, readable_source
from reviewkit.library.story_form import (
    CONSENT_COVERS,
    CONSENT_HOW,
    KINDS,
    OTHER_PLACE,
    PAGE_WORDS,
    TOPICS,
    WHO_OPTIONS,
    WORDS,
    StoryForm,
    StoryFormError,
    clear_story_draft,
    load_story_draft,
    place_choices,
    resend_story,
    save_story_draft,
    submit_story,
)
from reviewkit.library.vectors import VectorCache
from reviewkit.ui.common import (
    allowed,
    current_review,
    current_user,
    get_store,
    md_escape,
    view_link,
)

FACET_NAMES = {"type": "Kind", "local_authority": "Council area", "place": "Place",
               "approach": "What was done", "outcome": "What changed",
               "domain": "Part of community life"}
PAGE_SIZE = 20


@st.cache_resource(show_spinner="Getting the library ready…", max_entries=2)
def library_index(version: int) -> LibraryIndex:
    """The search index over the files and the contributions, at one library version.

    Entry vectors are kept in the library's vector cache, so a new version embeds only the
    stories that changed (a withdrawn story's vectors are dropped from it).
    """
    return LibraryIndex.build(library_entries(get_store()), cache=VectorCache())


def _index() -> LibraryIndex:
    # The version lives in the database, so a story withdrawn in another app leaves this one
    # on the next page run too.
    return library_index(get_store().library_version())


def _plain(text: str) -> None:
    st.markdown(md_escape(text))


def _show_body(body: str) -> None:
    for block in body.split("\n\n"):
        block = block.strip()
        if block.startswith("#"):
            st.markdown("**" + md_escape(block.lstrip("#").strip()) + "**")
        elif block:
            _plain(" ".join(block.split()))


def local_entries_panel(approaches: list[str], outcomes: list[str]) -> None:
    """Show the local entries that share these codes (used beside studies and map cells)."""
    viewer = viewer_for(get_store(), current_user())
    found = entries_for_codes(approaches, outcomes, viewer=viewer, entries=_index(), top=5)
    st.markdown("**Local examples and residents' stories**")
    if not found:
        st.caption("No local entry shares these codes yet.")
    for entry, why in found:
        st.markdown(f"- **{md_escape(entry.title)}** ({entry.type}, {md_escape(entry.place)}) — "
                    f"{md_escape(why)}")


def _detail(entry, codebook, index: LibraryIndex) -> None:
    titles = {e.id: e.title for e in index.entries}
    st.caption(" · ".join(md_escape(p) for p in (entry.type, entry.place, entry.years) if p))
    _plain(entry.summary)
    _show_body(readable_body(entry.body, titles))
    st.markdown(f"**{PAGE_WORDS['source']}**")
    _plain(readable_source(entry.source))
    st.markdown(f"**{PAGE_WORDS['research']}**")
    review = current_review()
    studies = [CodedStudy(s.record_id, s.title, set(s.approaches), set(s.outcomes))
               for s in (coded_studies_for_review(get_store(), review.id) if review else [])]
    paired = studies_for_entry(entry, studies, top=6)
    if not paired:
        st.caption(PAGE_WORDS["research_none"])
    for study, why in paired:
        st.markdown(f"- {md_escape(study.title)} — {md_escape(why)}")
    links = [f"[Evidence on {md_escape(codebook.label('approach', code))}]"
             f"({view_link('evidence-by-approach', review, approach=code)})"
             for code in entry.approaches]
    if links:
        st.markdown(" · ".join(links))


@st.dialog("Story", width="large")
def _open_dialog(entry_id: str) -> None:
    index = _index()
    try:
        entry = index.get(entry_id, viewer=viewer_for(get_store(), current_user()))
    except ReviewkitError:
        st.info("This story is no longer in the library.")
        return
    st.subheader(md_escape(entry.title))
    _detail(entry, load_codebook(), index)


def _search(codebook) -> None:
    viewer = viewer_for(get_store(), current_user())
    linked = st.query_params.get("entry")
    if linked and st.session_state.get("library_open_from_address") != linked:
        st.session_state["library_open_from_address"] = linked  # arriving by a link: open it once
    else:
        linked = None
    index = _index()
    query = st.text_input(PAGE_WORDS["search"], placeholder=PAGE_WORDS["search_hint"],
                          key="library-query")
    counts = index.facet_counts(viewer=viewer)
    filters = {}
    with st.expander(PAGE_WORDS["narrow"], expanded=False):
        cols = st.columns(3)
        for i, (facet, label) in enumerate(FACET_NAMES.items()):
            options = sorted(counts.get(facet, {}))
            names = ((lambda c, f=facet: codebook.label(f, c))
                     if facet in ("approach", "outcome", "domain") else str)
            chosen = cols[i % 3].multiselect(label, options, key=f"facet-{facet}",
                                             format_func=names)
            if chosen:
                filters[facet] = set(chosen)
    hits, total = index.search_counted(query, top=PAGE_SIZE, filters=filters or None,
                                       viewer=viewer)
    if not total:
        st.caption(PAGE_WORDS["found_none"])
    else:
        shown = f", showing the best {len(hits)}" if total > len(hits) else ""
        st.caption(f"{total} {'story matches' if total == 1 else 'stories match'}{shown}.",
                   help=None)
    for hit in hits:
        entry = hit.entry
        with st.container(border=True):
            st.markdown(f"**{md_escape(entry.title)}**")
            st.caption(f"{md_escape(entry.type)} · {md_escape(entry.place)}")
            _plain(entry.summary)
            if st.button(PAGE_WORDS["open"], key=f"open-{entry.id}"):
                st.query_params["entry"] = entry.id  # a link to this page opens this story
                st.session_state["library_open_from_address"] = entry.id
                _open_dialog(entry.id)
    if linked:
        _open_dialog(linked)


# -- sharing a story ------------------------------------------------------------------------

_FORM_KEY = "story-form-"


def _places():
    return place_choices(load_entries(strict=False))


def _form_from_state() -> StoryForm:
    values = {name: st.session_state.get(_FORM_KEY + name)
              for name in StoryForm.__dataclass_fields__}
    for name in ("when", "review"):
        if isinstance(values.get(name), date):
            values[name] = values[name].isoformat()
    return StoryForm.from_dict({k: v for k, v in values.items() if v is not None})


def _save_draft() -> None:
    user = current_user()
    if user:
        save_story_draft(get_store(), user, _form_from_state())


def _load_draft_once() -> None:
    if st.session_state.get(_FORM_KEY + "loaded"):
        return
    st.session_state[_FORM_KEY + "loaded"] = True
    draft = load_story_draft(get_store(), current_user()) if current_user() else None
    form = draft or StoryForm()
    for name, value in form.as_dict().items():
        if name in ("when", "review"):
            try:
                value = date.fromisoformat(value) if value else None
            except ValueError:
                value = None
        st.session_state[_FORM_KEY + name] = value


def _note(problems: dict, name: str) -> None:
    if name in problems:
        st.error(problems[name], icon=":material/error:")


def _share(codebook) -> None:
    warm_up()  # the anonymiser takes seconds to load: start it while the person types
    _load_draft_once()
    problems = st.session_state.get(_FORM_KEY + "problems", {})
    st.write(WORDS["intro"])
    st.caption(WORDS["draft_kept"])
    places = _places()
    k, save = _FORM_KEY, {"on_change": _save_draft}
    st.text_input(WORDS["title"], key=k + "title", placeholder=WORDS["title_help"], **save)
    _note(problems, "title")
    st.text_area(WORDS["story"], key=k + "story", height=220, help=WORDS["story_help"], **save)
    _note(problems, "story")
    options = [p.name for p in places] + [OTHER_PLACE]
    if st.session_state.get(k + "place") not in options:
        st.session_state[k + "place"] = None
    st.selectbox(WORDS["place"], options, key=k + "place", **save)
    _note(problems, "place")
    if st.session_state.get(k + "place") == OTHER_PLACE:
        st.text_input(WORDS["other_place"], key=k + "other_place", **save)
        _note(problems, "other_place")
        st.text_input(WORDS["council"], key=k + "council", **save)
    st.multiselect(WORDS["topics"], list(TOPICS), key=k + "topics", **save)
    _note(problems, "topics")
    if st.session_state.get(k + "about") not in WHO_OPTIONS:
        st.session_state[k + "about"] = None
    st.selectbox(WORDS["about"], WHO_OPTIONS, key=k + "about", **save)
    _note(problems, "about")
    if st.session_state.get(k + "about") == "Someone else":
        st.text_input(WORDS["about_other"], key=k + "about_other", **save)
        _note(problems, "about_other")
    if st.session_state.get(k + "kind") not in KINDS:
        st.session_state[k + "kind"] = next(iter(KINDS))
    st.radio(WORDS["kind"], list(KINDS), key=k + "kind", **save)
    st.text_input(WORDS["years"], key=k + "years", placeholder=WORDS["years_help"], **save)
    _note(problems, "years")
    if st.session_state.get(k + "audience") not in ("everyone", "team"):
        st.session_state[k + "audience"] = "everyone"
    st.radio(WORDS["audience"], ["everyone", "team"], key=k + "audience", horizontal=True,
             format_func={"everyone": WORDS["audience_everyone"],
                          "team": WORDS["audience_team"]}.get, **save)
    _note(problems, "audience")
    st.markdown(f"**{WORDS['consent_heading']}**")
    st.caption(WORDS["consent_intro"])
    st.text_input(WORDS["whose"], key=k + "whose", placeholder=WORDS["whose_help"], **save)
    _note(problems, "whose")
    if st.session_state.get(k + "how") not in CONSENT_HOW:
        st.session_state[k + "how"] = None
    st.radio(WORDS["how"], CONSENT_HOW, key=k + "how", **save)
    _note(problems, "how")
    st.date_input(WORDS["when"], key=k + "when", max_value=date.today(),
                  format="DD/MM/YYYY", **save)
    _note(problems, "when")
    st.multiselect(WORDS["covers"], CONSENT_COVERS, key=k + "covers", **save)
    _note(problems, "covers")
    st.date_input(WORDS["review"], key=k + "review",
                  min_value=date.today() + timedelta(days=1), format="DD/MM/YYYY", **save)
    _note(problems, "review")
    if st.button(WORDS["send"], type="primary", key=k + "send"):
        review = current_review()
        try:
            with st.spinner("Checking for names, phone numbers and addresses…"):
                submit_story(get_store(), _form_from_state(), actor=current_user(),
                             places=places, review_id=review.id if review else None)
        except StoryFormError as exc:
            st.session_state[k + "problems"] = exc.problems
            st.rerun()
        clear_story_draft(get_store(), current_user())
        for name in list(st.session_state):
            if name.startswith(k):
                del st.session_state[name]
        st.session_state[k + "loaded"] = False
        st.session_state["library-sent"] = True
        st.rerun()
    if problems:
        st.error(WORDS["not_sent"])
    if st.session_state.pop("library-sent", False):
        st.success(WORDS["sent"])


def _mine() -> None:
    stories = my_stories(get_store(), current_user())
    st.subheader(WORDS["mine_heading"])
    if not stories:
        st.caption(WORDS["mine_none"])
    for story in stories:
        with st.container(border=True):
            st.markdown(f"**{md_escape(story.title)}** — {md_escape(story.words)}")
            if story.status == "sent_back" and story.sent:
                _resend(story)
            if story.status != "withdrawn":
                if st.button(WORDS["withdraw"], key=f"withdraw-{story.db_id}",
                             help=WORDS["withdraw_help"]):
                    withdraw_consent(get_store(), story.db_id, actor=current_user())
                    st.toast(WORDS["withdrawn"])
                    st.rerun()


def _resend(story) -> None:
    """Let the contributor change a story that was sent back, in their own words, and resend."""
    key = f"resend-{story.db_id}"
    with st.expander(WORDS["resend_heading"]):
        title = st.text_input(WORDS["title"], value=story.sent.get("title", ""),
                              key=f"{key}-title")
        body = st.text_area(WORDS["story"], value=story.sent.get("story", ""), height=200,
                            key=f"{key}-story")
        problems = st.session_state.get(f"{key}-problems", {})
        for name in ("title", "story"):
            _note(problems, name)
        if st.button(WORDS["resend"], key=f"{key}-send", type="primary"):
            try:
                with st.spinner("Checking for names, phone numbers and addresses…"):
                    resend_story(get_store(), story.db_id, actor=current_user(), title=title,
                                 story=body, places=_places())
            except StoryFormError as exc:
                st.session_state[f"{key}-problems"] = exc.problems
            except ReviewkitError as exc:
                st.error(md_escape(str(exc)))
                return
            else:
                st.session_state.pop(f"{key}-problems", None)
                st.toast(WORDS["resent"])
            st.rerun()


# -- checking stories -----------------------------------------------------------------------


def _marked(pieces) -> str:
    """Markdown of the published text with each change marked; user words always escaped."""
    out, number = [], 0
    for piece in pieces:
        if piece.kind == "same":
            out.append(md_escape(piece.after))
            continue
        number += 1
        lead = " " if piece.before[:1].isspace() or piece.after[:1].isspace() else ""
        old = f"~~{md_escape(piece.before.strip())}~~" if piece.before.strip() else ""
        new = f"**{md_escape(piece.after.strip())}**" if piece.after.strip() else ""
        out.append(f"{lead}{old}{' ' if old and new else ''}{new} ({number})")
    return "".join(out)


def _show_changes(item) -> None:
    """The text as it will be published with every change marked, then each change's reason."""
    fields = [("title", item.entry.title), ("story", item.entry.body)]
    numbered = []
    for name, published in fields:
        pieces = publication_diff(item.sent.get(name, ""), published,
                                  [r for r in item.replacements if r.get("field") == name])
        marked = changes(pieces)
        if name == "title":
            st.markdown(f"**{_marked(pieces)}**" if marked else f"**{md_escape(published)}**")
        else:
            for block in _marked(pieces).split("\n\n"):
                if block.strip():
                    st.markdown(block)
        numbered.extend(marked)
    st.markdown(f"**{PAGE_WORDS['changes']}**")
    if not numbered:
        st.caption(PAGE_WORDS["replaced_none"])
    for number, piece in enumerate(numbered, 1):
        what = (f"“{piece.before.strip()}” → {piece.after.strip() or '(taken out)'}"
                if piece.before.strip() else f"added “{piece.after.strip()}”")
        why = piece.why if piece.kind == "replaced" else PAGE_WORDS["edited_mark"]
        st.markdown(md_escape(f"({number}) {what}: {why}"))


def _consent_lines(consent: dict) -> list[str]:
    names = {"who": "Whose story", "how": "How they said yes", "when": "When",
             "purposes": "What it covers", "review_date": "Ask again on",
             "given_by": "Who said yes", "recorded_by": "Written down by"}
    lines = []
    for key, label in names.items():
        value = consent.get(key)
        if value:
            value = ", ".join(value) if isinstance(value, list) else str(value)
            lines.append(f"{label}: {value}")
    return lines


def _moderate() -> None:
    store = get_store()
    viewer = viewer_for(store, current_user())
    queue = moderation_queue(store, viewer=viewer)
    if not viewer.moderator and not viewer.moderated_review_ids:
        st.info(PAGE_WORDS["only_moderators"])
        return
    if not queue:
        st.success(PAGE_WORDS["queue_empty"])
    index = _index()
    for item in queue:
        entry, key = item.entry, f"mod-{item.entry.db_id}"
        with st.container(border=True):
            st.subheader(md_escape(entry.title))
            st.caption(f"{PAGE_WORDS['sent_by']}: {md_escape(item.contributor)} · "
                       f"{md_escape(entry.place)} · {md_escape(entry.type)}")
            if item.sent_back_before:
                st.warning(md_escape(f"{PAGE_WORDS['sent_back_before']}: "
                                     f"{item.sent_back_before}"))
            st.markdown(f"**{PAGE_WORDS['as_published']}**")
            if item.sent:
                _show_changes(item)
            else:  # sent before reviewkit kept the contributor's words: the list alone
                _plain(entry.summary)
                _show_body(entry.body)
                st.markdown(f"**{PAGE_WORDS['replaced']}**")
                if not item.replacements:
                    st.caption(PAGE_WORDS["replaced_none"])
                for change in item.replacements:
                    st.markdown(f"- ~~{md_escape(change.get('original', ''))}~~ → "
                                f"**{md_escape(change.get('placeholder', ''))}** — "
                                f"{md_escape(change.get('reason', ''))}")
            st.markdown(f"**{PAGE_WORDS['consent']}**")
            for line in _consent_lines(item.consent):
                st.markdown("- " + md_escape(line))
            st.markdown(f"**{PAGE_WORDS['similar']}**")
            similar = [h for h in index.search(f"{entry.title} {entry.summary}", top=4,
                                               viewer=viewer) if h.entry.db_id != entry.db_id]
            for hit in similar[:3]:
                st.markdown(f"- {md_escape(hit.entry.title)} ({md_escape(hit.entry.place)})")
            with st.expander(PAGE_WORDS["edit"]):
                title = st.text_input("Title", value=entry.title, key=f"{key}-title")
                body = st.text_area("Story", value=entry.body, height=200, key=f"{key}-body")
                if st.button(PAGE_WORDS["save_edit"], key=f"{key}-save"):
                    try:
                        edit_contribution(store, int(entry.db_id), actor=current_user(),
                                          body=body, front_matter={"title": title},
                                          note="changed by the moderator before publishing")
                    except ReviewkitError as exc:
                        st.error(md_escape(str(exc)))
                    else:
                        st.rerun()
            reason = st.text_input(PAGE_WORDS["reason"], key=f"{key}-reason")
            a, b, c = st.columns(3)
            for column, decision in ((a, "publish"), (b, "send_back"), (c, "reject")):
                if column.button(PAGE_WORDS[decision], key=f"{key}-{decision}",
                                 type="primary" if decision == "publish" else "secondary"):
                    if decision != "publish" and not reason.strip():
                        st.error(PAGE_WORDS["reason_needed"])
                        continue
                    moderate(store, int(entry.db_id), decision, actor=current_user(),
                             note=reason)
                    st.rerun()


def render() -> None:
    st.title(PAGE_WORDS["title"])
    st.write(PAGE_WORDS["intro"])
    codebook = load_codebook()
    find, share, check = st.tabs([PAGE_WORDS["tab_find"], PAGE_WORDS["tab_share"],
                                  PAGE_WORDS["tab_moderate"]])
    with find:
        _search(codebook)
    with share:
        if allowed("library.contribute"):
            _share(codebook)
            _mine()
        else:
            st.info(PAGE_WORDS["log_in"])
    with check:
        _moderate()
