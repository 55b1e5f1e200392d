"""Who may see a library entry.  Every path that shows entries (search, facet counts, pairing,
export, the moderation queue) asks ``visible_to``; no other code decides this.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewkit.library.entries import LibraryEntry


@dataclass(frozen=True)
class Viewer:
    """The person looking: the review teams they belong to, and whether they moderate."""

    team_review_ids: frozenset[int] = field(default_factory=frozenset)
    moderator: bool = False
    # the teams this person leads: they moderate those teams' stories
    moderated_review_ids: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self):
        # Accept any iterable of ids but keep the viewer hashable (indexes cache per viewer).
        object.__setattr__(self, "team_review_ids", frozenset(self.team_review_ids))
        object.__setattr__(self, "moderated_review_ids", frozenset(self.moderated_review_ids))

    @classmethod
    def public(cls) -> Viewer:
        """Anyone using the toolkit, signed in or not: published public entries only."""
        return cls()


def visible_to(entry: LibraryEntry, viewer: Viewer) -> bool:
    """Return whether ``viewer`` may see ``entry``.

    Team-only entries show only to members of the owning review team (a team entry with no
    owning team shows to nobody), pending entries only to moderators, and rejected or unknown
    states to nobody.  Moderators get no exception to the team rule.
    """
    if entry.visibility == "public":
        in_audience = True
    elif entry.visibility == "team":
        in_audience = entry.review_id is not None and entry.review_id in viewer.team_review_ids
    else:
        in_audience = False
    if not in_audience:
        return False
    if entry.status == "published":
        return True
    if entry.status == "pending":
        return can_moderate(entry, viewer)
    return False


def can_moderate(entry: LibraryEntry, viewer: Viewer, *, any_status: bool = False) -> bool:
    """Return whether ``viewer`` may decide on ``entry``: a lead of its team, or an admin
    who may see it.  Only waiting entries are decided on, unless ``any_status``."""
    if entry.status != "pending" and not any_status:
        return False
    if entry.review_id is not None and entry.review_id in viewer.moderated_review_ids:
        return True
    if not viewer.moderator:
        return False
    if entry.visibility == "public":
        return True
    return entry.review_id is not None and entry.review_id in viewer.team_review_ids


def visible_entries(entries: Iterable[LibraryEntry], viewer: Viewer) -> list[LibraryEntry]:
    """Return the entries ``viewer`` may see, in their original order."""
    return [entry for entry in entries if visible_to(entry, viewer)]
