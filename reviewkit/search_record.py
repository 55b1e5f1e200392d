"""The full search record (PRISMA-S): for every import, how and where its records were found.

PRISMA-S asks a review to report, for each source, the database and the platform it was
searched on, the date, the exact search string, the limits and filters, and for citation
searching, websites and other methods what was done.  reviewkit keeps one such record per
import: :func:`record_search` writes or edits it (every change in the audit log), and
:func:`search_record` / :func:`search_records` read it back.  An import nobody has described
yet is reported from what was stored with it (database name, search date, query).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from reviewkit.errors import NotFoundError, ReviewkitError
from reviewkit.store import DEFAULT_USER, Store
from reviewkit.store.search_record import (
    SEARCH_FIELDS,
    import_row,
    import_rows,
    load_search_record,
    load_search_records,
    save_search_record,
)

__all__ = ["METHODS", "SEARCH_FIELDS", "SearchRecord", "check_search_fields", "record_search",
           "search_record", "search_records"]

# How records were found, in PRISMA 2020's and PRISMA-S's words.
METHODS = ("database", "register", "website", "citation searching", "other")
FIELD_LABELS = {
    "method": "Method",
    "database": "Database or source",
    "platform": "Platform or interface",
    "date_searched": "Date searched",
    "search_string": "Search string",
    "limits": "Limits and filters",
    "run_by": "Searched by",
    "notes": "Notes",
}
_MAX_CHARS = 100_000  # a pasted search history runs to a few thousand characters at most


@dataclass(frozen=True)
class SearchRecord:
    """One import's search, as reported; ``recorded`` is False until someone describes it."""

    import_id: int
    review_id: int
    filename: str
    record_count: int
    imported_at: datetime
    round_number: int = 0  # the update round its import belongs to
    method: str = "database"
    database: str = ""
    platform: str = ""
    date_searched: str = ""
    search_string: str = ""
    limits: str = ""
    run_by: str = ""
    notes: str = ""
    recorded: bool = False
    updated_by: str = ""
    updated_at: datetime | None = None

    def fields(self) -> dict[str, str]:
        """Return the fields a person fills in, by name, in their reporting order."""
        return {name: getattr(self, name) for name in SEARCH_FIELDS}


def check_search_fields(fields: dict) -> dict[str, str]:
    """Return the fields cleaned (text, outer spaces trimmed); refuse unknown or bad ones."""
    unknown = sorted(set(fields) - set(SEARCH_FIELDS))
    if unknown:
        raise ReviewkitError(f"Unknown search record field(s): {', '.join(unknown)}; the fields "
                             f"are {', '.join(SEARCH_FIELDS)}.")
    cleaned = {}
    for name, value in fields.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise ReviewkitError(f"The search record's {FIELD_LABELS[name].lower()} must be text.")
        if "\x00" in value:
            raise ReviewkitError(f"The search record's {FIELD_LABELS[name].lower()} holds a NUL "
                                 "character; remove it.")
        if len(value) > _MAX_CHARS:
            raise ReviewkitError(f"The search record's {FIELD_LABELS[name].lower()} is "
                                 f"{len(value):,} characters long; at most {_MAX_CHARS:,} fit.")
        cleaned[name] = value.strip()
    if "method" in cleaned:
        method = cleaned["method"].lower()
        if method not in METHODS:
            raise ReviewkitError(f"Unknown search method '{cleaned['method']}'; choose one of "
                                 f"{', '.join(METHODS)}.")
        cleaned["method"] = method
    return cleaned


def _from_rows(batch, stored: dict | None) -> SearchRecord:
    common = dict(import_id=batch.id, review_id=batch.review_id, filename=batch.filename,
                  record_count=batch.record_count, imported_at=batch.imported_at,
                  round_number=batch.round_number or 0)
    if stored is None:
        return SearchRecord(**common, database=batch.database_name,
                            date_searched=batch.search_date, search_string=batch.search_query)
    return SearchRecord(**common, **{name: stored[name] for name in SEARCH_FIELDS},
                        recorded=True, updated_by=stored["updated_by_name"],
                        updated_at=stored["updated_at"])


def search_record(store: Store, import_id: int) -> SearchRecord:
    """Return the search record of one import (raises NotFoundError for no such live import)."""
    with store.read() as conn:
        batch = import_row(conn, import_id)
        if batch is None:
            raise NotFoundError(f"No import with id {import_id}.")
        return _from_rows(batch, load_search_record(conn, import_id))


def search_records(store: Store, review_id: int) -> list[SearchRecord]:
    """Return the search record of every live import of a review, in import order."""
    with store.read() as conn:
        stored = load_search_records(conn, review_id)
        return [_from_rows(batch, stored.get(batch.id)) for batch in import_rows(conn, review_id)]


def record_search(store: Store, import_id: int, *, actor: str = DEFAULT_USER,
                  **fields: str) -> SearchRecord:
    """Write or edit the search record of one import; fields not given keep their value.

    The change is audited (``search_record.update``, old and new value of each field that
    changed) in the same transaction.  Raises ReviewkitError for an unknown field or method,
    NotFoundError for no such live import.
    """
    changes = check_search_fields(fields)
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        batch = import_row(conn, import_id)
        if batch is None:
            raise NotFoundError(f"No import with id {import_id}.")
        stored = load_search_record(conn, import_id)
        current = _from_rows(batch, stored)
        before = current.fields()
        after = {**before, **changes}
        changed = {name: {"old": before[name], "new": after[name]}
                   for name in SEARCH_FIELDS if before[name] != after[name]}
        if stored is None or changed:
            save_search_record(conn, batch_id=import_id, review_id=batch.review_id,
                               values=after, actor_id=actor_id, now=datetime.now(UTC))
            store.audit(conn, actor_id=actor_id, action="search_record.update",
                        entity="import_batch", entity_id=import_id, review_id=batch.review_id,
                        details={"filename": batch.filename, "changes": changed})
        return _from_rows(batch, load_search_record(conn, import_id))
