"""Entries contributed through reviewkit: stored pending with a consent record, then moderated.

A contribution is checked as a whole before anything is stored, so a half-filled form gets
back every missing or invalid field at once and the database is untouched.  It is stored as
``pending``; only a moderator's ``publish`` lets other people see it, and every step writes
who did what to the audit log.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from reviewkit.accounts import PermissionDenied
from reviewkit.errors import NotFoundError, ReviewkitError
from reviewkit.library.anonymise import flag_personal_details
from reviewkit.library.entries import (
    CASE_STUDIES_DIR,
    REQUIRED_FIELDS,
    LibraryEntry,
    check_front_matter,
    entry_files,
    entry_from_front_matter,
)
from reviewkit.library.visibility import Viewer, can_moderate, visible_to
from reviewkit.store import Store, library_rows, people
from reviewkit.store.library_rows import forget_audit_details
from reviewkit.store.rows import now

DECISIONS = {"publish": "published", "reject": "rejected", "send_back": "sent_back"}
# What a contributor reads about their story, by status.
STATUS_WORDS = {"pending": "waiting", "published": "published", "sent_back": "sent back",
                "rejected": "not published", "withdrawn": "withdrawn"}

# What a contributor must fill in.  The id, status and consent fields are set here, and the
# source defaults to saying the entry was contributed.
CONTRIBUTION_FIELDS = {name: hint for name, hint in REQUIRED_FIELDS.items()
                       if name not in ("id", "status", "consent", "source")}


class ContributionError(ReviewkitError):
    """A contribution was not stored; ``problems`` says every field that needs fixing."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("The contribution was not saved. Please fix:\n- " + "\n- ".join(problems))


@dataclass(frozen=True)
class Consent:
    """Consent to use a contributed account.

    ``who`` is the person the account is about or comes from (a role is enough), ``when`` the
    date consent was given, ``purposes`` what it covers (e.g. "publish in the library",
    "quote in briefings"), and ``given_by`` who gave it and how (e.g. "the resident, signed
    form" or "parent, verbally, recorded by the facilitator").
    """

    who: str
    when: date | datetime | str
    purposes: tuple[str, ...] | list[str]
    given_by: str
    how: str = ""  # e.g. "signed a form", "said yes out loud, written down by me"
    review_date: date | datetime | str | None = None  # when to ask again; a year on if None

    def problems(self, *, today: date | None = None) -> list[str]:
        """Return every gap in this consent record, in plain words."""
        found = []
        if not str(self.who or "").strip():
            found.append("Consent: say whose account this is (a role is enough).")
        if not str(self.given_by or "").strip():
            found.append("Consent: say who gave consent and how.")
        purposes = [str(p).strip() for p in (self.purposes or ()) if str(p).strip()]
        if not purposes:
            found.append("Consent: say what the consent covers, such as 'publish in the library'.")
        when = as_date(self.when)
        if when is None:
            found.append("Consent: give the date consent was given, as YYYY-MM-DD.")
        elif when > (today or datetime.now(UTC).date()):
            found.append(f"Consent: the date {when.isoformat()} is in the future.")
        review = as_date(self.review_date) if self.review_date not in (None, "") else None
        if self.review_date not in (None, "") and review is None:
            found.append("Consent: give the date to check consent again, as YYYY-MM-DD.")
        elif review is not None and when is not None and review <= when:
            found.append("Consent: the date to check again must be after consent was given.")
        return found

    def as_record(self, *, recorded_by: str) -> dict:
        when = as_date(self.when)
        review = as_date(self.review_date) if self.review_date not in (None, "") else None
        return {"who": str(self.who).strip(), "when": when.isoformat(),
                "purposes": [str(p).strip() for p in self.purposes if str(p).strip()],
                "given_by": str(self.given_by).strip(), "how": str(self.how or "").strip(),
                "review_date": (review or when + timedelta(days=365)).isoformat(),
                "recorded_by": recorded_by,
                "recorded_at": datetime.now(UTC).isoformat(timespec="seconds")}


def as_date(value: object) -> date | None:
    """Return ``value`` as a date (a datetime, a date or text starting YYYY-MM-DD), or None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].rstrip("-") or "entry"


def _free_slug(conn, wanted: str, folder: str | Path) -> str:
    taken = {path.stem for path in entry_files(folder)} if Path(folder).is_dir() else set()
    taken |= library_rows.taken_slugs(conn)
    slug, number = wanted, 2
    while slug in taken:
        slug, number = f"{wanted}-{number}", number + 1
    return slug


def add_contribution(store: Store, *, front_matter: Mapping, body: str, consent: Consent,
                     actor: str, review_id: int | None = None,
                     folder: str | Path = CASE_STUDIES_DIR,
                     replacements: list[dict] | None = None, sent: Mapping | None = None) -> int:
    """Store a contributed entry as pending and return its database id.

    ``review_id`` (or ``review_id`` in the front matter) names the review team that owns a
    team-only entry.  ``replacements`` says what anonymising replaced (kind, original,
    placeholder, reason, field), for the moderator; ``sent`` the contributor's own words before
    anonymising ({"title", "story"}), for the moderator's diff.  Raises ContributionError
    listing every problem; nothing is stored then.
    """
    fields = dict(front_matter)
    fields.pop("status", None)  # a contribution always waits for a moderator
    review_id = review_id if review_id is not None else fields.get("review_id")
    problems = check_front_matter(fields, required=CONTRIBUTION_FIELDS)
    if not str(body or "").strip():
        problems.append("'body' is missing: write the account itself.")
    problems.extend(consent.problems())
    if fields.get("visibility") == "team" and review_id is None:
        problems.append("'visibility' is team, so say which review team it belongs to.")
    if isinstance(review_id, int) and not _review_exists(store, review_id):
        problems.append(f"There is no review with id {review_id} to own this entry.")
    if problems:
        raise ContributionError(problems)

    actor_id = store.ensure_user(actor).id
    fields["consent"] = "consent recorded"
    fields.setdefault("source", f"Contributed to reviewkit by {actor}")
    fields.setdefault("source_url", "")
    fields["status"] = "pending"
    if replacements is not None:
        flags = Counter(str(item.get("kind")) for item in replacements)
    else:
        flags = Counter(flag.kind for text in (fields.get("title", ""), fields.get("summary", ""),
                                               body) for flag in flag_personal_details(str(text)))
    with store.write() as conn:
        wanted = str(fields.get("id") or "").strip() or _slugify(str(fields["title"]))
        fields["id"] = _free_slug(conn, wanted, folder)
        if review_id is not None:
            fields["review_id"] = int(review_id)
        entry = entry_from_front_matter(fields, str(body).strip())
        new_id = library_rows.insert_entry(
            conn, slug=entry.id, title=entry.title, entry_type=entry.type,
            front_matter=entry.front_matter(), body=entry.body, status="pending",
            visibility=entry.visibility, review_id=review_id,
            consent=consent.as_record(recorded_by=actor), created_by=actor_id,
            replacements=list(replacements or []),
            sent_text=dict(sent) if sent else None)
        # The audit line says what kinds of personal detail were spotted, never the details.
        store.audit(conn, actor_id=actor_id, action="library.contribute", entity="library_entry",
                    entity_id=new_id, review_id=review_id,
                    details={"slug": entry.id, "visibility": entry.visibility,
                             "consent_purposes": list(consent.purposes),
                             "personal_detail_flags": dict(flags)})
    return new_id


def _review_exists(store: Store, review_id: int) -> bool:
    with store.read() as conn:
        return library_rows.live_review_exists(conn, review_id)


def moderate(store: Store, entry_id: int, decision: str, *, actor: str,
             note: str = "") -> LibraryEntry:
    """Publish, send back or reject a waiting story and return it as it now stands.

    Sending back or rejecting needs a reason (``note``), which the contributor sees.  Only a
    moderator may decide: an admin, or a lead of the review team that owns the story.
    Publishing drops the originals of what anonymising replaced.
    """
    if decision not in DECISIONS:
        raise ReviewkitError("A moderation decision is 'publish', 'send_back' or 'reject', "
                             f"not '{decision}'.")
    actor_id = store.ensure_user(actor).id
    viewer = viewer_for(store, actor)
    with store.write() as conn:
        row = library_rows.entry_row(conn, entry_id)
        if row is None:
            raise NotFoundError(f"There is no contributed entry with id {entry_id}.")
        if row.status != "pending":
            raise ReviewkitError(f"Entry '{row.slug}' is already {row.status}; only pending "
                                 "entries can be moderated.")
        if decision != "publish" and not str(note or "").strip():
            raise ContributionError(["Say why, so the person who sent it knows what to do."])
        if not can_moderate(_entry(row), viewer):
            raise PermissionDenied(f"{actor} may not moderate this story: it takes an admin, "
                                   "or a lead of the team that owns it.")
        status = DECISIONS[decision]
        front_matter = dict(row.front_matter or {}, status=status)
        values = {"status": status, "front_matter": front_matter,
                  "decision_note": str(note or "").strip() or None}
        if decision == "publish":
            values["replacements"] = [{k: v for k, v in item.items() if k != "original"}
                                      for item in (row.replacements or [])]
        if decision != "send_back":  # only a story sent back may come again in its own words
            values["sent_text"] = None
        library_rows.update_entry(conn, entry_id, **values)
        store.audit(conn, actor_id=actor_id, action=f"library.{decision}",
                    entity="library_entry", entity_id=entry_id, review_id=row.review_id,
                    details={"slug": row.slug, "note": note})
        row = library_rows.entry_row(conn, entry_id, live_only=False)
    return _entry(row)


# Set by reviewkit, never by an edit: the slug, the moderation status and the consent note.
_FIXED_FIELDS = ("id", "status", "consent", "review_id")


def edit_contribution(store: Store, entry_id: int, *, actor: str, body: str | None = None,
                      front_matter: Mapping | None = None, note: str = "") -> LibraryEntry:
    """Change a contributed story's body and/or front matter fields; return it as it now is.

    ``front_matter`` holds only the fields to change.  The whole result is checked as a new
    contribution is, and the audit line keeps every changed field's old and new value.  The
    story keeps its moderation status.
    """
    changes = dict(front_matter or {})
    fixed = sorted(set(changes) & set(_FIXED_FIELDS))
    if fixed:
        raise ReviewkitError(f"These fields cannot be edited: {', '.join(fixed)}.")
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        row = library_rows.entry_row(conn, entry_id)
        if row is None:
            raise NotFoundError(f"There is no contributed entry with id {entry_id}.")
        old_fields = dict(row.front_matter or {})
        fields = {**old_fields, **changes}
        new_body = row.body if body is None else str(body).strip()
        problems = check_front_matter(fields, required=CONTRIBUTION_FIELDS)
        if not new_body:
            problems.append("'body' is missing: write the account itself.")
        if fields.get("visibility") == "team" and row.review_id is None:
            problems.append("'visibility' is team, but no review team owns this entry.")
        if problems:
            raise ContributionError(problems)
        entry = entry_from_front_matter(fields, new_body)
        stored = entry.front_matter()
        old = {k: old_fields.get(k) for k in sorted(set(stored) | set(old_fields))
               if old_fields.get(k) != stored.get(k)}
        new = {k: stored.get(k) for k in old}
        if new_body != row.body:
            old["body"], new["body"] = row.body, new_body
        if not new:
            return _entry(row)
        library_rows.update_entry(conn, entry_id, title=entry.title, entry_type=entry.type,
                                  visibility=entry.visibility, front_matter=stored,
                                  body=new_body)
        store.audit(conn, actor_id=actor_id, action="library.edit", entity="library_entry",
                    entity_id=entry_id, review_id=row.review_id,
                    details={"slug": row.slug, "old": old, "new": new, "note": note})
        row = library_rows.entry_row(conn, entry_id, live_only=False)
    return _entry(row)


def _entry(row) -> LibraryEntry:
    front_matter = dict(row.front_matter or {})
    return entry_from_front_matter(
        front_matter, row.body or "", id=row.slug, title=row.title, type=row.entry_type,
        status=row.status, visibility=row.visibility, review_id=row.review_id, db_id=row.id)


def stored_entries(store: Store, *, statuses: Iterable[str] = ("published", "pending")
                   ) -> list[LibraryEntry]:
    """Return contributed entries with the given statuses, oldest first (no viewer applied)."""
    with store.read() as conn:
        rows = library_rows.entry_rows(conn, statuses=statuses)
    return [_entry(row) for row in rows]


def pending_contributions(store: Store, *, viewer: Viewer) -> list[LibraryEntry]:
    """Return the moderation queue as ``viewer`` may see it (empty for non-moderators)."""
    return [entry for entry in stored_entries(store, statuses=("pending",))
            if visible_to(entry, viewer)]


def viewer_for(store: Store, username: str | None) -> Viewer:
    """Return the Viewer for a signed-in user: their review teams; admins moderate, and so do
    a team's leads for that team's stories."""
    user = store.get_user(username) if username else None
    if user is None:
        return Viewer.public()
    with store.read() as conn:
        rows = people.memberships(conn, user.id)
    return Viewer(team_review_ids=frozenset(r.review_id for r in rows),
                  moderator=user.role == "admin",
                  moderated_review_ids=frozenset(r.review_id for r in rows if r.role == "admin"))


# -- what a contributor and a moderator see -------------------------------------------------


@dataclass(frozen=True)
class StoryStatus:
    """One of a contributor's stories as they see it: its title and where it stands."""

    db_id: int
    title: str
    status: str
    note: str = ""
    sent: dict | None = None  # the contributor's own words, kept while a story is sent back

    @property
    def words(self) -> str:
        """The status in plain words, with the moderator's reason where there is one."""
        said = STATUS_WORDS.get(self.status, self.status)
        return f"{said}: {self.note}" if self.note and self.status in ("sent_back", "rejected") \
            else said


def my_stories(store: Store, username: str) -> list[StoryStatus]:
    """Return the stories ``username`` sent, newest first, with where each one stands."""
    user = store.get_user(username)
    if user is None:
        return []
    with store.read() as conn:
        rows = library_rows.entry_rows(conn, created_by=user.id, newest_first=True)
    return [StoryStatus(row.id, row.title, row.status, row.decision_note or "",
                        dict(row.sent_text) if row.status == "sent_back" and row.sent_text
                        else None) for row in rows]


@dataclass(frozen=True)
class ModerationView:
    """Everything a moderator needs to decide on one waiting story."""

    entry: LibraryEntry
    consent: dict
    contributor: str
    replacements: list[dict]
    sent_at: datetime | None
    sent: dict | None = None  # the contributor's own words before anonymising
    sent_back_before: str = ""  # the reason it was sent back last time, when it came again


def moderation_queue(store: Store, *, viewer: Viewer) -> list[ModerationView]:
    """Return the waiting stories ``viewer`` may moderate, oldest first, with the whole picture."""
    with store.read() as conn:
        rows = library_rows.entry_rows(conn, statuses=("pending",), with_contributor=True)
    found = []
    for row in rows:
        entry = _entry(row)
        if can_moderate(entry, viewer):
            found.append(ModerationView(entry, dict(row.consent or {}), row.username,
                                        list(row.replacements or []), row.created_at,
                                        dict(row.sent_text) if row.sent_text else None,
                                        row.decision_note or ""))
    return found


def withdraw_consent(store: Store, entry_id: int, *, actor: str) -> None:
    """Take a story out of everything at once because its consent was withdrawn.

    The story's words, title, consent record and what anonymising replaced are wiped, the
    audit lines about it lose their details, and one line records that consent was
    withdrawn.  The person who sent it, an admin, or a lead of the owning team may do this.
    """
    user = store.ensure_user(actor)
    viewer = viewer_for(store, actor)
    with store.write() as conn:
        row = library_rows.entry_row(conn, entry_id)
        if row is None:
            raise NotFoundError(f"There is no contributed story with id {entry_id}.")
        if row.status == "withdrawn":
            return
        if row.created_by != user.id and not can_moderate(_entry(row), viewer, any_status=True):
            raise PermissionDenied(f"{actor} may not withdraw this story: only the person who "
                                   "sent it or a moderator can.")
        library_rows.update_entry(
            conn, entry_id, slug=f"withdrawn-{entry_id}", title="Withdrawn story", body="",
            front_matter={"status": "withdrawn"}, status="withdrawn", replacements=[],
            decision_note=None, sent_text=None,
            consent={"withdrawn_at": now().isoformat(timespec="seconds")})
        withdrawn = _entry(row)
        forget_audit_details(conn, entity="library_entry", entity_id=entry_id)
        store.audit(conn, actor_id=user.id, action="library.withdraw", entity="library_entry",
                    entity_id=entry_id, review_id=row.review_id, details={})
    _forget_vectors(withdrawn)


def _forget_vectors(entry: LibraryEntry) -> None:
    """Drop a withdrawn story's embeddings from the library's and the resolver's caches."""
    from reviewkit.approach_search import forget_entry
    from reviewkit.library.search import embedding_text
    from reviewkit.library.vectors import VectorCache

    cache = VectorCache()
    if cache.path.exists() and cache.forget([embedding_text(entry),
                                             embedding_text(entry, with_body=True)]):
        cache.save()
    forget_entry(entry)  # the approach resolver's cache holds its title and summary too
