"""The "share a story" form in everyday words, and how it becomes a library entry.

A storyteller never sees the library's field names.  They pick a place from the library's own
places (or type another), pick what the story is about in everyday words (each topic stands
for approach, outcome and domain codes), and say who it is about from a short list.  The rest
(council area, summary, source, the codes) is filled in here.  Problems come back keyed by
the form's field, in plain words, so the page can show each one next to its field.

Every word a storyteller reads is in ``WORDS`` and ``ERRORS``, so a test can check that they
stay easy to read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

from reviewkit.accounts import PermissionDenied
from reviewkit.errors import NotFoundError, ReviewkitError
from reviewkit.library.anonymise import Flag
from reviewkit.library.contributions import (
    Consent,
    ContributionError,
    add_contribution,
    as_date,
)
from reviewkit.library.entries import LibraryEntry, entry_from_front_matter
from reviewkit.store.stories import story_row, update_story

OTHER_PLACE = "Somewhere else"

# Everyday topic -> (approach codes, outcome codes, domain codes).
TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "Feeling lonely, making friends": (("volunteering_peer_support",), ("reduced_isolation",),
                                       ("social_connectivity",)),
    "Money, debt and benefits": (("financial_inclusion",), ("financial_resilience",),
                                 ("economic_system",)),
    "Jobs, training and skills": (("employability",), ("employment", "skills_confidence"),
                                  ("economic_system",)),
    "Mental health, feeling well": (("social_prescribing",), ("mental_health", "health_wellbeing"),
                                    ("social_connectivity",)),
    "Having a say": (("community_governance",), ("empowerment_control",),
                     ("inclusive_governance",)),
    "Homes and repairs": (("housing",), ("housing_conditions",), ("living_environment",)),
    "Parks and green space": (("green_blue_space",), ("environment_quality",),
                              ("living_environment",)),
    "Clean air": (("air_quality",), ("environment_quality", "health_wellbeing"),
                  ("living_environment",)),
    "Roads, buses, getting about": (("healthy_streets_transport",), ("environment_quality",),
                                    ("living_environment",)),
    "Feeling safe": (("community_development",), ("crime_safety",), ("living_environment",)),
    "Art, history, local pride": (("arts_culture_heritage",), ("shared_identity",),
                                  ("cultural_coherence",)),
    "Families and young people": (("community_development",), ("family_social_networks",),
                                  ("social_connectivity",)),
    "Going online": (("digital_connection",), ("skills_confidence",), ("social_connectivity",)),
    "Trust in the council and services": (("community_governance",), ("trust_institutions",),
                                          ("inclusive_governance",)),
    "Local groups, helping out": (("volunteering_peer_support",), ("social_cohesion",),
                                  ("social_connectivity",)),
}

WHO_OPTIONS = ("Older people", "Children and young people", "Families and parents",
               "People looking for work", "People with an illness or disability",
               "People new to the area", "Everyone who lives here", "Someone else")

KINDS = {
    "My own story, or one told to me": "lived-experience story",
    "A project or group": "case study",
    "Research that residents did": "resident-led enquiry",
}
CONSENT_HOW = ("They signed a form", "They said yes out loud, and I wrote it down",
               "They said yes by text or e-mail", "It is my own story")
CONSENT_COVERS = ("Show it in the library", "Quote it in reports", "Use it in training")

# Everything the storyteller reads on the form: labels, help and the page's own words.
WORDS = {
    "intro": "Share a story about where you live. A moderator reads it first. We take out "
             "names, phone numbers and addresses before anyone else sees it.",
    "title": "Give it a short title",
    "title_help": "For example: The lunch club that got us out of the house",
    "story": "Tell the story",
    "story_help": "Say what happened, who it helped, and what changed. Use your own words.",
    "place": "Where did it happen?",
    "other_place": "Type the name of the place",
    "council": "Which council is that? (skip it if you are not sure)",
    "topics": "What is it about?",
    "about": "Who is it about?",
    "about_other": "Who is it about? Say it in a few words",
    "kind": "What kind of story is it?",
    "years": "When did it happen?",
    "years_help": "A year is fine, such as 2023",
    "audience": "Who can read it?",
    "audience_everyone": "Anyone who uses the library",
    "audience_team": "Only my team",
    "consent_heading": "Saying yes",
    "consent_intro": "We need to know that the person whose story it is said yes.",
    "whose": "Whose story is it?",
    "whose_help": "A role is fine, such as: a dad from the estate",
    "how": "How did they say yes?",
    "when": "When did they say yes?",
    "covers": "What did they say yes to?",
    "review": "When should we ask them again?",
    "send": "Send it to a moderator",
    "draft_kept": "We keep what you type, so it is still here if the page reloads.",
    "sent": "Thank you. Your story is waiting for a moderator.",
    "not_sent": "Your story is not sent yet. Please look at the red notes above.",
    "mine_heading": "Your stories",
    "mine_none": "You have not sent a story yet.",
    "withdraw": "Take it out of the library",
    "withdraw_help": "Do this if the person no longer says yes. It goes at once, from "
                     "everywhere.",
    "withdrawn": "Done. The story is gone from the library.",
    "resend_heading": "Change it and send it again",
    "resend": "Send it again",
    "resent": "Thank you. Your story is waiting for a moderator again.",
}

# The library page's own words, outside the form.
PAGE_WORDS = {
    "title": "Local stories",
    "intro": "Stories and projects from the places we work, next to the research.",
    "tab_find": "Find",
    "tab_share": "Share a story",
    "tab_moderate": "Check stories",
    "search": "Search in your own words",
    "search_hint": "For example: lonely in Old Swan",
    "narrow": "Narrow it down",
    "found_none": "Nothing matches. Try other words.",
    "open": "Read it",
    "close": "Close",
    "source": "Where this comes from",
    "research": "Research on the same thing",
    "research_none": "No study in this review is on the same thing yet.",
    "log_in": "Log in to share a story.",
    "only_moderators": "Only moderators see this part.",
    "queue_empty": "No story is waiting to be checked.",
    "as_published": "How it will look",
    "replaced": "What we took out, and why",
    "replaced_none": "We took nothing out.",
    "changes": "What changed, and why",
    "sent_back_before": "It was sent back before. The reason was",
    "edited_mark": "changed by a moderator",
    "consent": "How they said yes",
    "sent_by": "Sent by",
    "similar": "Stories like this one",
    "edit": "Change it before it goes out",
    "save_edit": "Save the changes",
    "publish": "Put it in the library",
    "send_back": "Send it back",
    "reject": "Do not use it",
    "reason": "Say why. The person who sent it will see this.",
    "reason_needed": "Please say why first.",
}

ERRORS = {
    "title": "Please give your story a short title.",
    "story": "Please tell the story. Two or three lines is fine.",
    "place": "Please pick where it happened.",
    "other_place": "Please type the name of the place.",
    "topics": "Please pick at least one thing it is about.",
    "about": "Please pick who it is about.",
    "about_other": "Please say in a few words who it is about.",
    "kind": "Please pick what kind of story it is.",
    "years": "Please say when it happened, such as 2023.",
    "audience": "Please pick who can read it.",
    "whose": "Please say whose story it is. A role is fine.",
    "how": "Please say how they said yes.",
    "when": "Please give the day they said yes.",
    "when_future": "That day has not come yet. Please give the day they said yes.",
    "covers": "Please tick what they said yes to.",
    "covers_library": "They must say yes to the library, or we cannot show it.",
    "review": "The day to ask again must be after the day they said yes.",
}


@dataclass
class StoryForm:
    """What a storyteller typed and picked, field by field (all plain values)."""

    title: str = ""
    story: str = ""
    place: str = ""
    other_place: str = ""
    council: str = ""
    topics: list[str] = field(default_factory=list)
    about: str = ""
    about_other: str = ""
    kind: str = next(iter(KINDS))
    years: str = ""
    audience: str = "everyone"
    whose: str = ""
    how: str = ""
    when: str = ""
    covers: list[str] = field(default_factory=lambda: [CONSENT_COVERS[0]])
    review: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> StoryForm:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


class StoryFormError(ReviewkitError):
    """The story was not sent; ``problems`` maps each form field to what to fix."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__(WORDS["not_sent"] + " " + " ".join(problems.values()))


@dataclass(frozen=True)
class Place:
    """A place a story can be about, with its council area."""

    name: str
    council: str


def place_choices(entries: Iterable[LibraryEntry]) -> list[Place]:
    """Return the library's own places (named, short, with a council), sorted by name."""
    found: dict[str, str] = {}
    for entry in entries:
        place, council = entry.place.strip(), entry.local_authority.strip()
        if (not place or len(place) > 40 or "(" in council or "(" in place
                or place.lower().startswith(("not ", "all ", "nine "))
                or council.lower().startswith(("not ", "several"))):
            continue
        found.setdefault(place, council)
    return [Place(name, council) for name, council in sorted(found.items())]


def check_story_form(form: StoryForm, *, places: Iterable[Place] = (),
                     today: date | None = None) -> dict[str, str]:
    """Return what needs fixing, by form field (empty when the form can be sent)."""
    today = today or datetime.now(UTC).date()
    problems: dict[str, str] = {}
    if not form.title.strip():
        problems["title"] = ERRORS["title"]
    if len(form.story.strip()) < 20:
        problems["story"] = ERRORS["story"]
    names = {p.name for p in places}
    if not form.place or (form.place != OTHER_PLACE and names and form.place not in names):
        problems["place"] = ERRORS["place"]
    elif form.place == OTHER_PLACE and not form.other_place.strip():
        problems["other_place"] = ERRORS["other_place"]
    if not [t for t in form.topics if t in TOPICS]:
        problems["topics"] = ERRORS["topics"]
    if form.about not in WHO_OPTIONS:
        problems["about"] = ERRORS["about"]
    elif form.about == "Someone else" and not form.about_other.strip():
        problems["about_other"] = ERRORS["about_other"]
    if form.kind not in KINDS:
        problems["kind"] = ERRORS["kind"]
    if not form.years.strip():
        problems["years"] = ERRORS["years"]
    if form.audience not in ("everyone", "team"):
        problems["audience"] = ERRORS["audience"]
    if not form.whose.strip():
        problems["whose"] = ERRORS["whose"]
    if form.how not in CONSENT_HOW:
        problems["how"] = ERRORS["how"]
    when = as_date(form.when)
    if when is None:
        problems["when"] = ERRORS["when"]
    elif when > today:
        problems["when"] = ERRORS["when_future"]
    covers = [c for c in form.covers if c in CONSENT_COVERS]
    if not covers:
        problems["covers"] = ERRORS["covers"]
    elif CONSENT_COVERS[0] not in covers:
        problems["covers"] = ERRORS["covers_library"]
    review = as_date(form.review) if str(form.review or "").strip() else None
    if review is not None and when is not None and review <= when:
        problems["review"] = ERRORS["review"]
    return problems


def _summary(story: str) -> str:
    """The first two sentences of the story, cut to about 300 characters."""
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(story.split()))
    summary = " ".join(sentences[:2])
    return summary if len(summary) <= 300 else summary[:297].rsplit(" ", 1)[0] + "…"


def _codes(topics: Iterable[str]) -> tuple[list[str], list[str], list[str]]:
    approaches, outcomes, domains = [], [], []
    for topic in topics:
        if topic not in TOPICS:
            continue
        for found, codes in zip((approaches, outcomes, domains), TOPICS[topic], strict=True):
            found.extend(c for c in codes if c not in found)
    return approaches, outcomes, domains


def anonymise_story(text: str, find: Callable[[str], list[Flag]], *, field_name: str
                    ) -> tuple[str, list[dict]]:
    """Replace the personal details ``find`` spots; return the text and what was replaced."""
    from reviewkit.library.personal_details import KIND_LABELS, replace_details

    flags = find(text)
    replaced = replace_details(text, flags)
    return replaced, [{"field": field_name, "kind": f.kind, "original": f.text,
                       "placeholder": f"[{f.kind.replace('_', ' ')}]",
                       "label": KIND_LABELS.get(f.kind, f.kind), "reason": f.reason}
                      for f in flags]


def submit_story(store, form: StoryForm, *, actor: str, places: list[Place],
                 find: Callable[[str], list[Flag]] | None = None,
                 review_id: int | None = None, today: date | None = None) -> int:
    """Check the form, take out personal details, and store the story as waiting.

    ``find`` spots personal details (Presidio with the library's places kept, when None).
    Raises StoryFormError with every problem by field; nothing is stored then.
    """
    problems = check_story_form(form, places=places, today=today)
    if form.audience == "team" and review_id is None and "audience" not in problems:
        problems["audience"] = "Open one of your team's reviews first, or pick: anyone."
    if problems:
        raise StoryFormError(problems)
    by_name = {p.name: p.council for p in places}
    if form.place == OTHER_PLACE:
        place, council = form.other_place.strip(), form.council.strip() or "Not given"
    else:
        place, council = form.place, by_name.get(form.place, "Not given")
    find = find or _finder(places, place, council)
    title, replaced_title = anonymise_story(form.title.strip(), find, field_name="title")
    story, replaced_story = anonymise_story(form.story.strip(), find, field_name="story")
    approaches, outcomes, domains = _codes(form.topics)
    population = form.about_other.strip() if form.about == "Someone else" else form.about
    when = as_date(form.when)
    month = (today or datetime.now(UTC).date()).strftime("%B %Y")
    front_matter = {
        "title": title, "type": KINDS[form.kind], "place": place, "local_authority": council,
        "years": form.years.strip(), "approaches": approaches, "outcomes": outcomes,
        "domains": domains, "population": population, "summary": _summary(story),
        "source": f"A story shared through the library by a peer researcher, {month}",
        "attribution": form.whose.strip(),
        "visibility": "public" if form.audience == "everyone" else "team",
    }
    consent = Consent(who=form.whose.strip(), when=when, purposes=list(form.covers),
                      given_by=form.whose.strip() if form.how != CONSENT_HOW[-1] else actor,
                      how=form.how,
                      review_date=as_date(form.review) or when + timedelta(days=365))
    try:
        return add_contribution(store, front_matter=front_matter, body=story, consent=consent,
                                actor=actor, review_id=review_id,
                                replacements=replaced_title + replaced_story,
                                sent={"title": form.title.strip(), "story": form.story.strip()})
    except ContributionError as exc:  # should not happen: the form checks all of this
        raise StoryFormError({"story": " ".join(exc.problems)}) from None


def _finder(places: Iterable[Place], *names: str) -> Callable[[str], list[Flag]]:
    """Presidio with the library's places (and this story's place) kept."""
    from reviewkit.library.personal_details import find_personal_details

    keep = sorted({p.name for p in places} | {p.council for p in places} | set(names))

    def find(text: str) -> list[Flag]:
        return find_personal_details(text, keep=keep)

    return find


def resend_story(store, entry_id: int, *, actor: str, title: str, story: str,
                 places: list[Place], find: Callable[[str], list[Flag]] | None = None) -> None:
    """Send a story that was sent back in again, changed: it waits for a moderator once more.

    Only the person who sent it may, and only while it is sent back.  The new words are
    anonymised as a new story is; the audit line says it came again and what kinds of detail
    were taken out, never the words.  Raises StoryFormError by field when a field is empty.
    """
    problems = {}
    if not title.strip():
        problems["title"] = ERRORS["title"]
    if len(story.strip()) < 20:
        problems["story"] = ERRORS["story"]
    if problems:
        raise StoryFormError(problems)
    user = store.get_user(actor)
    with store.read() as conn:
        row = story_row(conn, entry_id)
    if row is None:
        raise NotFoundError(f"There is no story with id {entry_id}.")
    if user is None or row.created_by != user.id:
        raise PermissionDenied(f"{actor} did not send this story, so cannot send it again.")
    if row.status != "sent_back":
        raise ReviewkitError(f"This story is {row.status.replace('_', ' ')}; only a story "
                             "that was sent back can be sent again.")
    fields = dict(row.front_matter or {})
    find = find or _finder(places, fields.get("place", ""), fields.get("local_authority", ""))
    new_title, replaced_title = anonymise_story(title.strip(), find, field_name="title")
    new_story, replaced_story = anonymise_story(story.strip(), find, field_name="story")
    fields.update(title=new_title, summary=_summary(new_story), status="pending")
    entry = entry_from_front_matter(fields, new_story)
    replaced = replaced_title + replaced_story
    with store.write() as conn:
        row = story_row(conn, entry_id)
        if row is None or row.status != "sent_back":  # changed meanwhile: say so, change nothing
            raise ReviewkitError("This story changed while you were editing it; look again.")
        update_story(conn, entry_id, title=entry.title, front_matter=entry.front_matter(),
                     body=new_story, status="pending", replacements=replaced,
                     sent_text={"title": title.strip(), "story": story.strip()})
        store.audit(conn, actor_id=user.id, action="library.resend", entity="library_entry",
                    entity_id=entry_id, review_id=row.review_id,
                    details={"slug": row.slug, "sent_at": datetime.now(UTC).isoformat(
                        timespec="seconds"), "personal_detail_flags": dict(
                        Counter(item["kind"] for item in replaced))})


def save_story_draft(store, username: str, form: StoryForm) -> None:
    """Keep what ``username`` has typed so far, so a reload does not lose it."""
    from reviewkit.store.library_rows import save_draft

    user_id = store.ensure_user(username).id
    with store.write() as conn:
        save_draft(conn, user_id, form.as_dict())


def load_story_draft(store, username: str) -> StoryForm | None:
    """Return what ``username`` typed last time, or None."""
    from reviewkit.store.library_rows import load_draft

    user = store.get_user(username)
    if user is None:
        return None
    with store.read() as conn:
        data = load_draft(conn, user.id)
    return StoryForm.from_dict(data) if data else None


def clear_story_draft(store, username: str) -> None:
    """Forget ``username``'s draft (after the story is sent)."""
    from reviewkit.store.library_rows import clear_draft

    user = store.get_user(username)
    if user is not None:
        with store.write() as conn:
            clear_draft(conn, user.id)
