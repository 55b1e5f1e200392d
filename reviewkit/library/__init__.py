"""The case-study and lived-experience library: load, search, pair, contribute and moderate.

Who may see an entry is decided in one place, ``visible_to``; search, facet counts, pairing
and the moderation queue all go through it.
"""

from reviewkit.library.anonymise import Flag, anonymise, flag_personal_details
from reviewkit.library.contributions import (
    Consent,
    ContributionError,
    add_contribution,
    moderate,
    pending_contributions,
    stored_entries,
    viewer_for,
)
from reviewkit.library.entries import (
    CASE_STUDIES_DIR,
    EntryProblem,
    LibraryEntry,
    LibraryEntryError,
    LibraryEntryWarning,
    check_entries,
    library_entries,
    load_entries,
    read_entry,
)
from reviewkit.library.pairing import (
    CodedStudy,
    entries_for_codes,
    entries_for_study,
    studies_for_entry,
)
from reviewkit.library.search import (
    FACETS,
    LibraryIndex,
    ParsedQuery,
    SearchHit,
    facet_counts,
    search_public,
)
from reviewkit.library.vectors import VectorCache
from reviewkit.library.visibility import Viewer, visible_entries, visible_to

__all__ = [
    "CASE_STUDIES_DIR",
    "FACETS",
    "CodedStudy",
    "Consent",
    "ContributionError",
    "EntryProblem",
    "Flag",
    "LibraryEntry",
    "LibraryEntryError",
    "LibraryEntryWarning",
    "LibraryIndex",
    "ParsedQuery",
    "SearchHit",
    "VectorCache",
    "Viewer",
    "add_contribution",
    "anonymise",
    "check_entries",
    "entries_for_codes",
    "entries_for_study",
    "facet_counts",
    "flag_personal_details",
    "library_entries",
    "load_entries",
    "moderate",
    "pending_contributions",
    "read_entry",
    "search_public",
    "stored_entries",
    "studies_for_entry",
    "viewer_for",
    "visible_entries",
    "visible_to",
]
