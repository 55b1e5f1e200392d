"""Soft delete and restore: nothing in reviewkit is ever deleted in place.

Deleting marks a row's ``deleted_at``; every normal view (counts, lists, exports, PRISMA,
screening, the library) leaves such rows out, and restoring clears the mark so the item comes
back exactly as it was, with its decisions and codes.  Each delete and each restore is one
transaction with one audit line.

What can be deleted: an import (the file's batch and all its records), a single record, a
review, a contributed story (library entry), and an attached full text.

Two rules keep the rest of the review sound:

* When a deleted record was the one kept of a group of duplicates, the group's first
  remaining member takes its place (so the duplicates are screened rather than lost); the
  audit line keeps the old links, and restoring puts them back.
* Importing the same file again while its earlier import is deleted is allowed: the file is
  stored afresh, with new record ids and no decisions.  The earlier import can then only be
  restored after the new one is deleted, so a review never holds one file twice.
  :func:`deleted_import_of` lets a page suggest restoring instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from reviewkit.errors import NotFoundError, ReviewkitError
from reviewkit.store import Store
from reviewkit.store import trash as rows
from reviewkit.store.rows import now as _now
from reviewkit.store.schema import fulltexts, library_entries, records, reviews

KINDS = ("import", "record", "story", "fulltext", "review")


@dataclass(frozen=True)
class DeletedItem:
    """Something soft-deleted that can be restored."""

    kind: str  # one of KINDS
    id: int
    label: str  # what it is, in plain words
    deleted_at: datetime
    note: str = ""  # e.g. how many records an import holds


def _actor_id(store: Store, actor: str) -> int:
    return store.ensure_user(actor).id


def _reason(reason: str) -> dict:
    reason = " ".join((reason or "").split())
    return {"reason": reason} if reason else {}


# -- imports ------------------------------------------------------------------------------------


def _batch_row(conn, batch_id: int):
    row = rows.batch_row(conn, batch_id)
    if row is None:
        raise NotFoundError(f"There is no import with id {batch_id}.")
    return row


def delete_import(store: Store, batch_id: int, *, actor: str, reason: str = "") -> int:
    """Delete an imported file and every record it brought; return how many records went."""
    actor_id = _actor_id(store, actor)
    now = _now()
    with store.write() as conn:
        batch = _batch_row(conn, batch_id)
        if batch.deleted_at is not None:
            raise ReviewkitError(f"The import '{batch.filename}' (id {batch_id}) is already "
                                 "deleted.")
        gone, ids = rows.delete_batch(conn, batch_id, now)
        changes = rows.promote_orphans(conn, batch.review_id, ids)
        store.audit(conn, actor_id=actor_id, action="import.delete", entity="import_batch",
                    entity_id=batch_id, review_id=batch.review_id,
                    details={"filename": batch.filename, "records": gone,
                             "sha256": batch.sha256, "repointed": changes, **_reason(reason)})
    return gone


def restore_import(store: Store, batch_id: int, *, actor: str) -> int:
    """Bring back a deleted import with the records deleted along with it; return their count."""
    actor_id = _actor_id(store, actor)
    with store.write() as conn:
        batch = _batch_row(conn, batch_id)
        if batch.deleted_at is None:
            raise ReviewkitError(f"The import '{batch.filename}' (id {batch_id}) is not deleted.")
        _check_review_live(conn, batch.review_id)
        twin = rows.live_batch_of(conn, batch.review_id, batch.sha256)
        if twin is not None:
            raise ReviewkitError(
                f"The same file was imported again afterwards as '{twin.filename}' (import "
                f"{twin.id}). Delete that import first if you want this one back; a review "
                "never holds the same file twice.")
        back = rows.restore_batch(conn, batch_id, batch.deleted_at)
        rows.unpromote(conn, batch.review_id, rows.last_deletion(
            conn, "import.delete", "import_batch", batch_id).get("repointed"))
        store.audit(conn, actor_id=actor_id, action="import.restore", entity="import_batch",
                    entity_id=batch_id, review_id=batch.review_id,
                    details={"filename": batch.filename, "records": back})
    return back


def deleted_import_of(store: Store, review_id: int, sha256: str) -> int | None:
    """The id of a deleted import of the same bytes into this review, if there is one."""
    with store.read() as conn:
        return rows.deleted_batch_of(conn, review_id, sha256)


# -- single records -----------------------------------------------------------------------------


def _record_row(conn, record_id: int):
    row = rows.record_row(conn, record_id)
    if row is None:
        raise NotFoundError(f"There is no record with id {record_id}.")
    return row


def delete_record(store: Store, record_id: int, *, actor: str, reason: str = "") -> None:
    """Delete one record (its decisions and codes stay on file and return with it)."""
    actor_id = _actor_id(store, actor)
    with store.write() as conn:
        row = _record_row(conn, record_id)
        if row.deleted_at is not None:
            raise ReviewkitError(f"Record {record_id} is already deleted.")
        rows.mark_deleted(conn, records, record_id, _now())
        changes = rows.promote_orphans(conn, row.review_id, [record_id])
        store.audit(conn, actor_id=actor_id, action="record.delete", entity="record",
                    entity_id=record_id, review_id=row.review_id,
                    details={"title": row.title[:200], "batch_id": row.batch_id,
                             "repointed": changes, **_reason(reason)})


def restore_record(store: Store, record_id: int, *, actor: str) -> None:
    """Bring back a record deleted on its own (a record deleted with its import comes back
    with the import)."""
    actor_id = _actor_id(store, actor)
    with store.write() as conn:
        row = _record_row(conn, record_id)
        if row.deleted_at is None:
            raise ReviewkitError(f"Record {record_id} is not deleted.")
        _check_review_live(conn, row.review_id)
        batch = _batch_row(conn, row.batch_id)
        if batch.deleted_at is not None:
            raise ReviewkitError(
                f"Record {record_id} belongs to the deleted import '{batch.filename}' (import "
                f"{batch.id}); restore that import first.")
        rows.mark_deleted(conn, records, record_id, None)
        rows.unpromote(conn, row.review_id, rows.last_deletion(
            conn, "record.delete", "record", record_id).get("repointed"))
        store.audit(conn, actor_id=actor_id, action="record.restore", entity="record",
                    entity_id=record_id, review_id=row.review_id,
                    details={"title": row.title[:200]})


# -- reviews ------------------------------------------------------------------------------------


def _review_row(conn, review_id: int):
    row = rows.review_row(conn, review_id)
    if row is None:
        raise NotFoundError(f"There is no review with id {review_id}.")
    return row


def _check_review_live(conn, review_id: int) -> None:
    row = _review_row(conn, review_id)
    if row.deleted_at is not None:
        raise ReviewkitError(f"The review '{row.name}' is deleted; restore the review first.")


def delete_review(store: Store, review_id: int, *, actor: str, reason: str = "") -> None:
    """Delete a whole review: it leaves every list, and everything in it stays on file."""
    actor_id = _actor_id(store, actor)
    with store.write() as conn:
        row = _review_row(conn, review_id)
        if row.deleted_at is not None:
            raise ReviewkitError(f"The review '{row.name}' is already deleted.")
        rows.mark_deleted(conn, reviews, review_id, _now())
        store.audit(conn, actor_id=actor_id, action="review.delete", entity="review",
                    entity_id=review_id, review_id=review_id,
                    details={"name": row.name, **_reason(reason)})


def restore_review(store: Store, review_id: int, *, actor: str) -> None:
    """Bring back a deleted review exactly as it was."""
    actor_id = _actor_id(store, actor)
    with store.write() as conn:
        row = _review_row(conn, review_id)
        if row.deleted_at is None:
            raise ReviewkitError(f"The review '{row.name}' is not deleted.")
        rows.mark_deleted(conn, reviews, review_id, None)
        store.audit(conn, actor_id=actor_id, action="review.restore", entity="review",
                    entity_id=review_id, review_id=review_id, details={"name": row.name})


def deleted_reviews(store: Store) -> list[DeletedItem]:
    """Every deleted review, most recently deleted first."""
    with store.read() as conn:
        found = rows.deleted_review_rows(conn)
    return [DeletedItem("review", r.id, f"Review '{r.name}'", r.deleted_at) for r in found]


def deleted_review_named(store: Store, name: str) -> int | None:
    """The id of the most recently deleted review called ``name`` (spaces as typed do not
    matter), or None."""
    wanted = " ".join(name.split())
    with store.read() as conn:
        found = rows.deleted_review_rows(conn)
    return next((r.id for r in found if " ".join(r.name.split()) == wanted), None)


# -- contributed stories ------------------------------------------------------------------------


def _story_row(conn, entry_id: int):
    row = rows.story_row(conn, entry_id)
    if row is None:
        raise NotFoundError(f"There is no contributed story with id {entry_id}.")
    return row


def delete_story(store: Store, entry_id: int, *, actor: str, reason: str = "") -> None:
    """Take a contributed story (library entry) out of the library, whatever its status."""
    actor_id = _actor_id(store, actor)
    with store.write() as conn:
        row = _story_row(conn, entry_id)
        if row.deleted_at is not None:
            raise ReviewkitError(f"The story '{row.slug}' is already deleted.")
        rows.mark_deleted(conn, library_entries, entry_id, _now())
        store.audit(conn, actor_id=actor_id, action="library.delete", entity="library_entry",
                    entity_id=entry_id, review_id=row.review_id,
                    details={"slug": row.slug, "status": row.status, **_reason(reason)})


def restore_story(store: Store, entry_id: int, *, actor: str) -> None:
    """Put a deleted story back, with the status it had (pending, published or rejected)."""
    actor_id = _actor_id(store, actor)
    with store.write() as conn:
        row = _story_row(conn, entry_id)
        if row.deleted_at is None:
            raise ReviewkitError(f"The story '{row.slug}' is not deleted.")
        rows.mark_deleted(conn, library_entries, entry_id, None)
        store.audit(conn, actor_id=actor_id, action="library.restore", entity="library_entry",
                    entity_id=entry_id, review_id=row.review_id,
                    details={"slug": row.slug, "status": row.status})


# -- full texts ---------------------------------------------------------------------------------


def _fulltext_row(conn, fulltext_id: int):
    row = rows.fulltext_row(conn, fulltext_id)
    if row is None:
        raise NotFoundError(f"There is no attached full text with id {fulltext_id}.")
    return row


def current_fulltext_id(store: Store, record_id: int) -> int | None:
    """The id of the full text now attached to a record (None when there is none)."""
    with store.read() as conn:
        attached = rows.attached_fulltext_ids(conn, record_id)
    return attached[0] if attached else None


def delete_fulltext(store: Store, fulltext_id: int, *, actor: str, reason: str = "") -> None:
    """Detach a full text from its record (the file stays on file and can be restored)."""
    actor_id = _actor_id(store, actor)
    with store.write() as conn:
        row = _fulltext_row(conn, fulltext_id)
        if row.deleted_at is not None:
            raise ReviewkitError(f"The full text '{row.filename}' is already deleted.")
        rows.mark_deleted(conn, fulltexts, fulltext_id, _now())
        store.audit(conn, actor_id=actor_id, action="fulltext.delete", entity="fulltext",
                    entity_id=fulltext_id, review_id=row.review_id,
                    details={"filename": row.filename, "record_id": row.record_id,
                             **_reason(reason)})


def restore_fulltext(store: Store, fulltext_id: int, *, actor: str) -> None:
    """Make a deleted (or replaced) full text the record's attachment again.

    A record shows one full text at a time: one attached now is set aside, and can itself be
    restored later.
    """
    actor_id = _actor_id(store, actor)
    now = _now()
    with store.write() as conn:
        row = _fulltext_row(conn, fulltext_id)
        if row.deleted_at is None:
            raise ReviewkitError(f"The full text '{row.filename}' is not deleted.")
        if row.record_deleted_at is not None:
            raise ReviewkitError(f"The full text '{row.filename}' belongs to the deleted record "
                                 f"{row.record_id}; restore the record first.")
        current = sorted(rows.attached_fulltext_ids(conn, row.record_id))
        rows.set_aside_fulltexts(conn, current, now)
        rows.mark_deleted(conn, fulltexts, fulltext_id, None)
        store.audit(conn, actor_id=actor_id, action="fulltext.restore", entity="fulltext",
                    entity_id=fulltext_id, review_id=row.review_id,
                    details={"filename": row.filename, "record_id": row.record_id,
                             "set_aside": current})


# -- what can be restored -----------------------------------------------------------------------


def deleted_items(store: Store, review_id: int) -> list[DeletedItem]:
    """Everything deleted in a review that can be restored, most recently deleted first.

    Records deleted together with their import are not listed on their own (they come back
    with it); full texts are listed only for records still in the review.  Stories are those
    the review's team owns plus those no team owns.
    """
    found: list[DeletedItem] = []
    with store.read() as conn:
        for b in rows.deleted_batches(conn, review_id):
            found.append(DeletedItem("import", b.id, f"Import '{b.filename}'", b.deleted_at,
                                     f"{b.record_count} records from "
                                     f"{b.database_name or b.format.upper()}"))
        for r in rows.records_deleted_alone(conn, review_id):
            found.append(DeletedItem("record", r.id, f"Record {r.id}: {r.title[:120]}",
                                     r.deleted_at))
        for s in rows.deleted_stories(conn, review_id):
            found.append(DeletedItem("story", s.id, f"Story '{s.title}'", s.deleted_at,
                                     f"was {s.status}"))
        texts, attached = rows.deleted_fulltexts(conn, review_id)
        for f in texts:
            note = "replaced by another file" if f.record_id in attached else ""
            found.append(DeletedItem("fulltext", f.id,
                                     f"Full text '{f.filename}' of record {f.record_id}",
                                     f.deleted_at, note))
    found.sort(key=lambda item: (_sortable(item.deleted_at), item.id), reverse=True)
    return found


def _sortable(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def count_deleted_records(store: Store, review_id: int) -> int:
    """How many of a review's records are deleted (on their own or with their import)."""
    with store.read() as conn:
        return rows.count_deleted_records(conn, review_id)


def review_of(store: Store, kind: str, item_id: int) -> int | None:
    """The id of the review an item belongs to (None for a story no team owns)."""
    readers = {"import": _batch_row, "record": _record_row, "story": _story_row,
               "fulltext": _fulltext_row, "review": _review_row}
    if kind not in readers:
        raise ReviewkitError(f"Unknown kind of item '{kind}'; choose one of {', '.join(KINDS)}.")
    with store.read() as conn:
        row = readers[kind](conn, item_id)
    return row.id if kind == "review" else row.review_id


def check_in_review(store: Store, kind: str, item_id: int, review_id: int) -> None:
    """Refuse an item that belongs to another review (a story no team owns is allowed)."""
    owner = review_of(store, kind, item_id)
    if owner is not None and owner != review_id:
        raise ReviewkitError(f"{KIND_NAMES[kind]} {item_id} belongs to another review.")


KIND_NAMES = {"import": "Import", "record": "Record", "story": "Story", "fulltext": "Full text",
              "review": "Review"}
RESTORERS = {"import": restore_import, "record": restore_record, "story": restore_story,
             "fulltext": restore_fulltext, "review": restore_review}
DELETERS = {"import": delete_import, "record": delete_record, "story": delete_story,
            "fulltext": delete_fulltext, "review": delete_review}


def restore(store: Store, kind: str, item_id: int, *, actor: str) -> None:
    """Restore a deleted item of one of KINDS by its id."""
    if kind not in RESTORERS:
        raise ReviewkitError(f"Cannot restore a '{kind}'; choose one of {', '.join(KINDS)}.")
    RESTORERS[kind](store, item_id, actor=actor)


def delete(store: Store, kind: str, item_id: int, *, actor: str, reason: str = "") -> None:
    """Soft-delete an item of one of KINDS by its id."""
    if kind not in DELETERS:
        raise ReviewkitError(f"Cannot delete a '{kind}'; choose one of {', '.join(KINDS)}.")
    DELETERS[kind](store, item_id, actor=actor, reason=reason)
