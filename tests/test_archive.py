"""Whole-review archives: export, import on another database, and get the same review back.

The review used here is the demo review (five exports, deduplicated, screened by two
reviewers with conflicts settled, coded) plus what the demo lacks: an undone decision, a full
text with its PDF, a saved codebook, cached embeddings, a team-only library entry, a second
team member and a screening hand-out.  A second review and a public library entry sit in the
same database and must stay out of the archive.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import JSON, Integer, select

from reviewkit import accounts, appraisal, extraction, trash
from reviewkit.archive import (
    EXPORT_ACTION,
    IMPORT_ACTION,
    MANIFEST,
    ArchiveError,
    ArchiveLimits,
    export_review,
    import_review,
    read_manifest,
)
from reviewkit.cli import main
from reviewkit.codebook import load_codebook, save_codebook
from reviewkit.coding import repoint_codes
from reviewkit.demo import LEAD, REVIEWERS, load_demo_definition
from reviewkit.embedding_cache import embeddings_for_records
from reviewkit.fulltext import attach_pdf
from reviewkit.importing import import_file
from reviewkit.library import Consent, add_contribution
from reviewkit.records import Record
from reviewkit.rounds import start_update_round
from reviewkit.search_record import record_search
from reviewkit.store import Store
from reviewkit.store import calibration as calibration_rows
from reviewkit.store.schema import (
    AUDIT_DETAIL_IDS,
    SCHEMA_VERSION,
    audit_log,
    fulltexts,
    import_batches,
    library_entries,
    metadata,
    record_codes,
    records,
    screening_assignments,
    users,
)
from tests.templates import copy_demo_database, copy_sqlite, demo_review

ARCHIVE_ACTIONS = {EXPORT_ACTION, IMPORT_ACTION}
CONSENT = Consent(who="Group member", when=date(2024, 5, 1),
                  purposes=["publish in the library"], given_by="the member, signed form")
ENTRY = {
    "title": "Tea and talk at the Halton hub",
    "type": "lived-experience story",
    "place": "Widnes",
    "local_authority": "Halton",
    "years": "2023",
    "approaches": ["volunteering_peer_support"],
    "outcomes": ["reduced_isolation"],
    "domains": ["social_connectivity"],
    "population": "Older residents who live alone",
    "summary": "A weekly drop-in at the community hub helps people who live alone meet others.",
    "attribution": "Hub volunteer",
}
BODY = "## What happened\n\nVolunteers run a Tuesday drop-in with tea and a chat."


def _pdf(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", fname="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    pdf.set_font("DejaVu", size=14)
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


class _HashingModel:
    """A small stand-in embedding model: a fixed vector per text (the cache is under test)."""

    model_name = "archive-test-model"

    def encode(self, texts):
        return np.array([np.frombuffer(hashlib.sha256(t.encode()).digest(), dtype=np.uint8)
                         .astype(np.float32) for t in texts])


def build_review(store: Store):
    """The demo review plus every other kind of row a review can own."""
    review = demo_review(store)
    first, second = REVIEWERS
    decided = store.current_decisions(review.id, stage="title_abstract")
    record_id = next(d.record_id for d in decided if d.reviewer == first)
    # a change of mind, then an undo that brings the earlier call back
    store.add_decision(record_id, stage="title_abstract", decision="maybe", reviewer=first,
                       note="not sure about the setting")
    store.undo_decision(record_id, stage="title_abstract", reviewer=first)
    included = sorted({d.record_id for d in store.current_decisions(review.id, stage="full_text")
                       if d.decision == "include"})
    pdf = _pdf("Community connectors in Halton: a mixed-methods evaluation.\n" * 40)
    attach_pdf(store, included[0], pdf, "connectors.pdf", actor=second)
    attach_pdf(store, included[1], _pdf("An older draft of the connectors report. " * 20), "old.pdf",
               actor=second)
    attach_pdf(store, included[1], _pdf("The final connectors report, replacing the draft. " * 20), "final.pdf",
               actor=second)
    save_codebook(store, review.id, load_codebook(), LEAD)
    first_import = store.list_batches(review.id)[0]
    record_search(store, first_import.id, actor=LEAD, platform="Ovid", limits="English")
    start_update_round(store, review, actor=LEAD, label="next spring")
    _extraction_and_appraisal(store, review, included[0])
    _lines_that_name_rows(store, review.id, included[1])
    kept = store.kept_record_ids(review.id)[:25]
    texts = [store.get_record(rid).record.title for rid in kept]
    embeddings_for_records(store, kept, texts, model=_HashingModel())
    add_contribution(store, front_matter=dict(ENTRY, visibility="team"), body=BODY,
                     consent=CONSENT, actor=second, review_id=review.id)
    _synthesis_rows(store, review, included[0], second)
    accounts.add_member(store, review.id, first, role="researcher", actor="admin")
    accounts.set_password(store, first, "correct horse battery staple", actor="admin")
    with store.write() as conn:
        now = datetime.now(UTC)
        conn.execute(screening_assignments.insert().values(
            review_id=review.id, stage="title_abstract", record_id=kept[-1],
            reviewer_id=store.get_user(second).id, assigned_at=now,
            expires_at=now + timedelta(hours=2)))
        # a rapid-review calibration round with its sample
        calibration_rows.add_round(conn, review.id, "title_abstract", 1, kept[:5])
    # neighbours that must not travel with the review
    other = store.create_review("Another team's review", actor="someone-else")
    scopus = Path(__file__).parent / "data" / "formats" / "scopus.ris"
    import_file(store, other, scopus.read_bytes(), scopus.name, actor="someone-else")
    add_contribution(store, front_matter=dict(ENTRY, visibility="public", title="Public one"),
                     body=BODY, consent=CONSENT, actor="someone-else")
    return store.get_review(review.name), pdf, record_id


def _extraction_and_appraisal(store: Store, review, record_id: int) -> None:
    """A saved form, values extracted and verified with a correction, a lead's own tool and an
    appraisal with it (whatever the demo itself already holds)."""
    first, second = REVIEWERS
    form = extraction.review_form(store, review.id)
    extraction.save_form(store, review, replace(form, workflow="verify"), actor="admin")
    extraction.enter_value(store, review, record_id, "setting", "Halton", actor=first)
    extraction.enter_value(store, review, record_id, "sample_size", "41", actor=first)
    extraction.mark_done(store, review, record_id, actor=first)
    extraction.verify_study(store, review, record_id, actor=second,
                            corrections={"sample_size": "40"})
    appraisal.save_custom_tool(store, review, appraisal.simple_tool(
        "local_check", "Local checklist", ["Were residents involved?", "Is the place named?"]),
        actor="admin")
    appraisal.appraise(store, review, record_id, actor=first, tool="local_check", design="any",
                       answers={"Q1": "yes", "Q2": "cant_tell"})
    appraisal.verify_appraisal(store, review, record_id, actor=second, tool="local_check")


def _lines_that_name_rows(store: Store, review_id: int, replaced_record: int) -> None:
    """Changes whose audit lines name other rows by id inside their details.

    Each is undone again, so the review still looks like the demo, but the lines stay.
    """
    first, second = REVIEWERS
    # deleting the Scopus file re-homes the duplicates it kept; restoring reads that back
    scopus = next(b for b in store.list_batches(review_id) if b.filename.startswith("scopus"))
    trash.delete_import(store, scopus.id, actor=LEAD, reason="wrong search string")
    trash.restore_import(store, scopus.id, actor=LEAD)
    kept, members = next(iter(store.duplicate_groups(review_id).items()))
    trash.delete_record(store, members[0], actor=LEAD)
    trash.restore_record(store, members[0], actor=LEAD)
    # a full text replaced earlier comes back, then the newer one again
    with store.read() as conn:
        older, newer = conn.execute(select(fulltexts.c.id).where(
            fulltexts.c.record_id == replaced_record).order_by(fulltexts.c.id)).scalars()
    trash.restore_fulltext(store, older, actor=second)
    trash.restore_fulltext(store, newer, actor=second)
    # a hand-out taken and given back; a code moved to another and back
    candidates = store.kept_record_ids(review_id)[-5:]
    assert store.claim_next(review_id, "title_abstract", first, candidates) is not None
    assert store.release(review_id, "title_abstract", first) == 1
    with store.read() as conn:
        used = list(conn.execute(select(record_codes.c.code).where(
            record_codes.c.review_id == review_id, record_codes.c.superseded_at.is_(None),
            record_codes.c.scheme == "approach")).scalars())
    unused = next(c.code for c in load_codebook().scheme("approach").codes if c.code not in used)
    assert repoint_codes(store, review_id, "approach", used[0], unused, LEAD) > 0
    repoint_codes(store, review_id, "approach", unused, used[0], LEAD)


# -- a canonical dump, written independently of reviewkit.archive --------------------------


def _plain(value):
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bytes | memoryview):
        data = bytes(value)
        return f"bytes:{len(data)}:{hashlib.sha256(data).hexdigest()}"
    return value


def _id_column(table):
    keys = list(table.primary_key.columns)
    if len(keys) == 1 and isinstance(keys[0].type, Integer) and not keys[0].foreign_keys:
        return keys[0].name
    return None


def canonical_dump(store: Store, review_name: str) -> dict[str, list]:
    """Every row of every table that belongs to the review, with database ids replaced.

    A row belongs when one of its foreign keys points at the review or at a row that belongs.
    Surrogate ids become '<table>#<position>' (position in id order among the review's
    rows), user ids become user names; the archive's own export/import audit lines are left
    out.  Two databases holding the same review give the same dump.
    """
    with store.read() as conn:
        everything = {t.name: [dict(r._mapping) for r in conn.execute(select(t))]
                      for t in metadata.sorted_tables}
    review = next(r for r in everything["reviews"] if r["name"] == review_name)
    usernames = {u["id"]: u["username"] for u in everything["users"]}
    belongs: dict[str, list[dict]] = {"reviews": [review]}
    # tables that hang off accounts alone (a person's story draft) belong to no review
    pending = [t for t in metadata.sorted_tables if t.name not in ("reviews", "users", "meta")
               and any(fk.column.table.name != "users" for c in t.columns for fk in c.foreign_keys)]
    while pending:
        progress = False
        for table in list(pending):
            links = [(c.name, fk.column.table.name) for c in table.columns
                     for fk in c.foreign_keys if fk.column.table.name not in ("users",)]
            direct = [c for c, target in links if target == "reviews"]
            parents = [(c, t) for c, t in links if t != table.name and t != "reviews"]
            if not direct and any(t not in belongs for _c, t in parents):
                continue
            if direct:
                rows = [r for r in everything[table.name] if r[direct[0]] == review["id"]]
            else:
                column, parent = parents[0]
                parent_ids = {r["id"] for r in belongs[parent]}
                rows = [r for r in everything[table.name] if r[column] in parent_ids]
            if table.name == "audit_log":
                rows = [r for r in rows if r["action"] not in ARCHIVE_ACTIONS]
            key = _id_column(table)
            belongs[table.name] = sorted(rows, key=lambda r, k=key: (r[k] if k else 0))
            pending.remove(table)
            progress = True
        assert progress, f"cannot place tables {[t.name for t in pending]}"

    position = {name: {r["id"]: f"{name}#{i}" for i, r in enumerate(rows)}
                for name, rows in belongs.items() if _id_column(metadata.tables[name])}

    def ref(target: str, value):
        if value is None:
            return None
        if target == "users":
            return f"user:{usernames[value]}"
        return position[target][value]

    def refs(target: str, value):
        # an audit detail: one id, a list of them or a list of lists
        if isinstance(value, list):
            return [refs(target, item) for item in value]
        return ref(target, value) if isinstance(value, int) else value

    dump = {}
    for name, rows in belongs.items():
        table = metadata.tables[name]
        key = _id_column(table)
        targets = {c.name: fk.column.table.name for c in table.columns for fk in c.foreign_keys}
        out = []
        for row in rows:
            item = {}
            for column in table.columns:
                value = row[column.name]
                if column.name == key:
                    value = position[name][value]
                elif column.name in targets:
                    value = ref(targets[column.name], value)
                elif name == "audit_log" and column.name == "details":
                    named = AUDIT_DETAIL_IDS.get(row["action"], {})
                    value = {k: (refs(named[k], v) if k in named else v)
                             for k, v in value.items()}
                elif isinstance(column.type, JSON) and isinstance(value, dict):
                    value = {k: (ref(targets[k], v) if k in targets and v == row[k] else v)
                             for k, v in value.items()}
                elif name == "audit_log" and column.name == "entity_id":
                    table_name = {"record": "records", "review": "reviews",
                                  "duplicate_pair": "duplicate_pairs",
                                  "library_entry": "library_entries",
                                  "import_batch": "import_batches"}.get(row["entity"])
                    if table_name and value.isdigit() and int(value) in position[table_name]:
                        value = position[table_name][int(value)]
                    elif row["entity"] == "user" and value.isdigit():
                        value = ref("users", int(value))
                    elif row["entity"] == "codebook":  # '<review id>:<version>'
                        review_part, _, version = value.partition(":")
                        value = f"{ref('reviews', int(review_part))}:{version}"
                item[column.name] = _plain(value)
            out.append(item)
        dump[name] = out
    referenced = {v[5:] for rows in dump.values() for row in rows for v in row.values()
                  if isinstance(v, str) and v.startswith("user:")}
    dump["users"] = sorted((u["username"], u["display_name"], u["role"])
                           for u in everything["users"] if u["username"] in referenced)
    return dump


def _snapshot(store: Store) -> dict[str, list]:
    """Every row of every table, to show that a refused import changed nothing."""
    with store.read() as conn:
        return {t.name: sorted(repr(tuple(r)) for r in conn.execute(select(t)))
                for t in metadata.sorted_tables}


@pytest.fixture(scope="module")
def built_source(tmp_path_factory):
    """The review of build_review, built once for this module; tests get copies (``source``)."""
    path = tmp_path_factory.mktemp("archive-source") / "source.sqlite"
    store = Store(f"sqlite:///{path}")
    review, pdf, undone_record = build_review(store)
    store.close()
    return path, review, pdf, undone_record


def _synthesis_rows(store: Store, review, record_id: int, who: str) -> None:
    """A direction of effect, a written cell and a verified certainty rating."""
    from reviewkit.certainty import certainty_ratings, rate_certainty, verify_rating
    from reviewkit.synthesis import record_direction, write_cell

    cell = ("community_governance", "empowerment_control")
    record_direction(store, review, record_id, *cell, direction="positive", sample_size=120,
                     actor=who)
    write_cell(store, review, *cell, grouping="Primary studies", grouping_reason="Like with like",
               summary="Most found more control.", record_ids=[record_id], actor=who)
    rate_certainty(store, review, *cell, framework="grade", level="low",
                   concerns={"risk_of_bias": ("serious", "No comparison group")}, actor=who)
    verify_rating(store, review, certainty_ratings(store, review.id)[cell].id, actor=LEAD)


@pytest.fixture
def source(tmp_path, built_source):
    path, review, pdf, undone_record = built_source
    store = Store(copy_sqlite(path, tmp_path / "source.sqlite"))
    yield store, review, pdf, undone_record
    store.close()


def _fresh_sqlite(tmp_path, name: str) -> Store:
    return Store(f"sqlite:///{tmp_path / name}")


# -- round trips ----------------------------------------------------------------------------


def test_the_dump_covers_every_kind_of_row(source):
    store, review, _pdf_bytes, _rid = source
    dump = canonical_dump(store, review.name)
    owned = set(metadata.tables) - {"meta", "story_drafts", "login_throttle"}  # a draft is a
    # person's, not a review's; failed logins belong to the install
    assert set(dump) == owned
    for name in owned:
        assert dump[name], f"the test review has no {name} rows, so they are not tested"
    assert all(row["review_id"] == "reviews#0" for row in dump["library_entries"])
    assert not any(row["name"] == "Another team's review" for row in dump["reviews"])


def _occupy(store: Store) -> None:
    """Give a target rows of its own, so imported rows cannot keep their old ids by chance."""
    scopus = Path(__file__).parent / "data" / "formats" / "scopus.ris"
    for name in ("reader-1", "reader-2", REVIEWERS[1]):
        store.ensure_user(name)
    own = store.create_review("The target's own review", actor="reader-1")
    import_file(store, own, scopus.read_bytes(), scopus.name, actor="reader-1")


def _round_trip(tmp_path, source_store, review, targets):
    """Export from the source, import into each target in turn; return dumps and archives."""
    dumps = [canonical_dump(source_store, review.name)]
    archives = []
    current_store, current_review = source_store, review
    for target in targets:
        _occupy(target)
        data = export_review(current_store, current_review.id, actor="admin")
        archives.append(data)
        current_review = import_review(target, data, actor="admin",
                                       filename=f"round-{len(archives)}.zip")
        current_store = target
        dumps.append(canonical_dump(target, current_review.name))
    return dumps, archives, current_review


def _check_identical(dumps):
    for later in dumps[1:]:
        for name in dumps[0]:
            assert later[name] == dumps[0][name], f"table {name} differs after the round trip"


def test_sqlite_to_sqlite_to_sqlite_gives_the_same_review(tmp_path, source):
    store, review, _pdf_bytes, _rid = source
    targets = [_fresh_sqlite(tmp_path, "b.sqlite"), _fresh_sqlite(tmp_path, "c.sqlite")]
    dumps, _archives, _final = _round_trip(tmp_path, store, review, targets)
    _check_identical(dumps)


@pytest.mark.postgres
def test_sqlite_to_postgresql_and_back_gives_the_same_review(tmp_path, source, postgres_url):
    store, review, pdf, undone_record = source
    postgres = Store(postgres_url)
    back = _fresh_sqlite(tmp_path, "back.sqlite")
    try:
        dumps, archives, final = _round_trip(tmp_path, store, review, [postgres, back])
        _check_identical(dumps)
        in_pg = postgres.get_review(review.name)
        # what a person sees is the same too, on PostgreSQL and back on SQLite
        for other, other_review in ((postgres, in_pg), (back, final)):
            assert other.count_records(other_review.id) == store.count_records(review.id)
            assert len(other.duplicate_groups(other_review.id)) == \
                len(store.duplicate_groups(review.id))
            assert sorted((d.reviewer, d.decision, d.kind) for d in other.current_decisions(
                other_review.id, stage="title_abstract")) == sorted(
                (d.reviewer, d.decision, d.kind)
                for d in store.current_decisions(review.id, stage="title_abstract"))
        pdfs = [back.fulltext_file(rid) for rid in back.records_with_fulltext(final.id)]
        assert ("connectors.pdf", pdf) in pdfs
        # both archives describe the same rows
        first, second = (read_manifest(a).rows for a in archives)
        assert {k: v for k, v in first.items() if k != "audit_log"} == \
            {k: v for k, v in second.items() if k != "audit_log"}
    finally:
        postgres.close()
        back.close()


def _same_record(store: Store, record_id: int, other: Store, other_review: int) -> int:
    """The id in ``other`` of the record that came from the same file and place."""
    original = store.get_record(record_id)
    files = {b.id: b.filename for b in store.list_batches(original.review_id)}
    other_files = {b.id: b.filename for b in other.list_batches(other_review)}
    return next(s.id for s in other.list_records(other_review)
                if other_files[s.batch_id] == files[original.batch_id]
                and s.position == original.position)


def test_the_imported_review_behaves_like_the_original(tmp_path, source):
    store, review, _pdf_bytes, undone_record = source
    target = _fresh_sqlite(tmp_path, "target.sqlite")
    imported = import_review(target, export_review(store, review.id, actor="admin"),
                             actor="archivist", filename="demo.zip")
    first = REVIEWERS[0]
    new_record = _same_record(store, undone_record, target, imported.id)

    def standing(s, review_id, record_id):
        return [d.decision for d in s.current_decisions(review_id, stage="title_abstract")
                if d.record_id == record_id and d.reviewer == first]

    assert standing(target, imported.id, new_record) == standing(store, review.id, undone_record)
    # decisions kept their order: an undo in the copy brings back the same earlier call
    target.add_decision(new_record, stage="title_abstract", decision="exclude", reviewer=first)
    restored = target.undo_decision(new_record, stage="title_abstract", reviewer=first)
    assert restored is not None
    assert [restored.decision] == standing(store, review.id, undone_record)

    [line] = [e for e in target.audit_entries(imported.id) if e.action == IMPORT_ACTION]
    assert line.actor == "archivist" and line.details["archive"] == "demo.zip"
    assert set(line.details["users_created"]) >= {*REVIEWERS, LEAD}
    assert any(e.action == EXPORT_ACTION for e in store.audit_entries(review.id))
    # the imported reviewers exist, with their roles, and without a password
    from reviewkit.store.schema import users

    with target.read() as conn:
        hashes = dict(conn.execute(select(users.c.username, users.c.password_hash)).all())
    assert hashes[first] is None


def _links(store: Store, review_id: int) -> dict[tuple, tuple | None]:
    """Each record's duplicate link, with records named by (file, position in the file)."""
    with store.read() as conn:
        files = dict(conn.execute(select(import_batches.c.id, import_batches.c.filename)
                                  .where(import_batches.c.review_id == review_id)).all())
        rows = conn.execute(select(records.c.id, records.c.batch_id, records.c.position,
                                   records.c.duplicate_of)
                            .where(records.c.review_id == review_id)).all()
    place = {r.id: (files[r.batch_id], r.position) for r in rows}
    return {place[r.id]: place.get(r.duplicate_of) for r in rows}


def test_a_deletion_restored_after_a_move_relinks_the_moved_records(tmp_path):
    """Restoring reads the re-homed duplicates back from the audit line: ids must follow."""
    source = _fresh_sqlite(tmp_path, "source.sqlite")
    review = demo_review(source)
    before = _links(source, review.id)
    scopus = next(b for b in source.list_batches(review.id) if b.filename.startswith("scopus"))
    trash.delete_import(source, scopus.id, actor=LEAD)
    [line] = [e for e in source.audit_entries(review.id) if e.action == "import.delete"]
    assert line.details["repointed"], "the deleted file kept no duplicates: nothing is tested"
    target = _fresh_sqlite(tmp_path, "target.sqlite")
    _occupy(target)  # the target's own records take the ids the source's had
    own = target.get_review("The target's own review")
    theirs = _links(target, own.id)
    moved = import_review(target, export_review(source, review.id, actor="admin"),
                          actor="admin", filename="moved.zip")
    with target.read() as conn:
        batch = conn.execute(select(import_batches.c.id).where(
            import_batches.c.review_id == moved.id,
            import_batches.c.filename == scopus.filename)).scalar_one()
    trash.restore_import(target, batch, actor=LEAD)
    assert _links(target, moved.id) == before
    assert _links(target, own.id) == theirs


# counts and other numbers in audit details that are not ids of rows
_NOT_IDS = {("import.create", "records"), ("import.create", "duplicates_in_file"),
            ("import.delete", "records"), ("import.restore", "records"),
            ("dedup.run", "merged"), ("dedup.run", "pairs"), ("coding.suggest", "replaced"),
            ("fulltext.attach", "characters"), ("dedup.run", "compared"),
            ("codebook.save", "version"), ("synthesis.direction", "sample_size"),
            ("extraction.form", "version"),
            *((f"extraction.{status}", "values") for status in ("draft", "done", "verified"))}


def test_every_id_in_an_audit_detail_is_declared(source):
    """A number in a detail is either declared an id (so a move rewrites it) or a count."""
    store, review, _pdf_bytes, _rid = source
    entries = store.audit_entries(review.id)
    seen = set()
    for entry in entries:
        for key, value in entry.details.items():
            numbers = value if isinstance(value, list) else [value]
            flat = [n for item in numbers for n in (item if isinstance(item, list) else [item])]
            if flat and all(isinstance(n, int) and not isinstance(n, bool) or n is None
                            for n in flat) and any(n is not None for n in flat):
                seen.add((entry.action, key))
    undeclared = {(a, k) for a, k in seen if k not in AUDIT_DETAIL_IDS.get(a, {})}
    assert undeclared <= _NOT_IDS, f"declare these in AUDIT_DETAIL_IDS: {undeclared - _NOT_IDS}"
    # the test review exercises most of the declared ones
    declared = {(a, k) for a, keys in AUDIT_DETAIL_IDS.items() for k in keys}
    assert len(seen & declared) >= 8, sorted(seen & declared)


def test_no_password_hash_leaves_the_database(source):
    store, review, _pdf_bytes, _rid = source
    from reviewkit.store.schema import users

    with store.read() as conn:
        secret = conn.execute(select(users.c.password_hash)
                              .where(users.c.username == REVIEWERS[0])).scalar()
    assert secret
    data = export_review(store, review.id, actor="admin")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        everything = b"".join(archive.read(n) for n in archive.namelist())
        manifest = json.loads(archive.read(MANIFEST))
        user_rows = [json.loads(line) for line in archive.read("tables/users.jsonl").splitlines()]
    assert secret.encode() not in everything
    assert "password_hash" not in manifest["tables"]["users"]["columns"]
    assert "not exported" in manifest["passwords"]
    assert {r["username"] for r in user_rows} >= {*REVIEWERS, LEAD, "admin"}
    assert "someone-else" not in {r["username"] for r in user_rows}


def test_the_manifest_lists_every_member_with_its_checksum(source):
    store, review, pdf, _rid = source
    data = export_review(store, review.id, actor="admin")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        manifest = json.loads(archive.read(MANIFEST))
        names = set(archive.namelist()) - {MANIFEST}
        assert set(manifest["members"]) == names
        for name in names:
            content = archive.read(name)
            assert manifest["members"][name]["sha256"] == hashlib.sha256(content).hexdigest()
        # the PDF travels as its own member, byte for byte
        assert archive.read(f"files/{hashlib.sha256(pdf).hexdigest()}") == pdf
        decisions = [json.loads(x) for x in archive.read("tables/decisions.jsonl").splitlines()]
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert manifest["review"]["name"] == review.name
    assert manifest["tables"]["decisions"]["rows"] == len(decisions)
    # time zones are kept on every date and time
    assert all(datetime.fromisoformat(d["created_at"]).tzinfo is not None for d in decisions)
    assert any(d["undone_at"] for d in decisions)


# -- refusals -------------------------------------------------------------------------------


def _rebuild(data: bytes, change, *, fix_checksums: bool) -> bytes:
    """Rewrite an archive: ``change(members, manifest)`` edits it in place."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    manifest = json.loads(members.pop(MANIFEST))
    change(members, manifest)
    if fix_checksums:
        manifest["members"] = {n: {"bytes": len(c), "sha256": hashlib.sha256(c).hexdigest()}
                               for n, c in members.items()}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest))
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def _edit_title(members, _manifest):
    """Change one letter of a title: same size, different content."""
    content = members["tables/records.jsonl"]
    at = content.index(b'"title": "') + len(b'"title": "')
    changed = b"Z" if content[at:at + 1] != b"Z" else b"Y"
    members["tables/records.jsonl"] = content[:at] + changed + content[at + 1:]


def _add_a_line(members, _manifest):
    members["tables/records.jsonl"] += members["tables/records.jsonl"].splitlines()[0] + b"\n"


def _add_member(name):
    def change(members, _manifest):
        members[name] = b"whatever"
    return change


def _newer_schema(_members, manifest):
    manifest["schema_version"] = SCHEMA_VERSION + 1


def _drop_a_record_with_decisions(members, manifest):
    """Consistent checksums, but decisions point at a record the archive no longer holds."""
    decided = {json.loads(x)["record_id"] for x in members["tables/decisions.jsonl"].splitlines()}
    lines = members["tables/records.jsonl"].decode().splitlines()
    kept = [x for x in lines if json.loads(x)["id"] != min(decided)]
    members["tables/records.jsonl"] = ("\n".join(kept) + "\n").encode()
    manifest["tables"]["records"]["rows"] = len(kept)


def _dangling_detail(members, _manifest):
    """Consistent checksums, but a hand dedup line names a record that is not in the archive."""
    lines = members["tables/audit_log.jsonl"].decode().splitlines()
    at = next(i for i, x in enumerate(lines) if json.loads(x)["action"] == "dedup.same")
    line = json.loads(lines[at])
    line["details"]["left"] = 10**9
    lines[at] = json.dumps(line)
    members["tables/audit_log.jsonl"] = ("\n".join(lines) + "\n").encode()


def _hostile_setting(members, _manifest):
    """A setting no form would accept: the number of reviewers per record as '99; drop'."""
    review = json.loads(members["tables/reviews.jsonl"])
    review["settings"] = {**(review.get("settings") or {}), "reviewers_required": "99; drop"}
    members["tables/reviews.jsonl"] = (json.dumps(review) + "\n").encode()


def _duplicate_loop(members, _manifest):
    """Two records, each marked a duplicate of the other."""
    lines = [json.loads(x) for x in members["tables/records.jsonl"].decode().splitlines()]
    first, second = lines[0], lines[1]
    first["duplicate_of"], second["duplicate_of"] = second["id"], first["id"]
    members["tables/records.jsonl"] = "".join(json.dumps(x) + "\n" for x in lines).encode()


BROKEN = [
    ("hostile setting", lambda d: _rebuild(d, _hostile_setting, fix_checksums=True),
     r"review setting 'reviewers_required': .*99; drop"),
    ("duplicate loop", lambda d: _rebuild(d, _duplicate_loop, fix_checksums=True),
     r"a chain or a loop of duplicates"),
    ("truncated", lambda d: d[: len(d) // 2], "not a readable zip"),
    ("tampered", lambda d: _rebuild(d, _edit_title, fix_checksums=False),
     r"checksum of 'tables/records\.jsonl' does not match"),
    ("resized", lambda d: _rebuild(d, _add_a_line, fix_checksums=False),
     r"'tables/records\.jsonl' is [\d,]+ bytes, but manifest\.json says"),
    ("traversal", lambda d: _rebuild(d, _add_member("../../evil.txt"), fix_checksums=True),
     r"'\.\./\.\./evil\.txt' is not allowed"),
    ("absolute", lambda d: _rebuild(d, _add_member("/etc/cron.d/evil"), fix_checksums=True),
     "absolute"),
    ("unlisted", lambda d: _rebuild(d, _add_member("extra.txt"), fix_checksums=False),
     "'extra.txt' is not listed"),
    ("newer schema", lambda d: _rebuild(d, _newer_schema, fix_checksums=True),
     f"schema version {SCHEMA_VERSION + 1}, newer"),
    ("dangling key", lambda d: _rebuild(d, _drop_a_record_with_decisions, fix_checksums=True),
     r"points at records \d+, which the archive does not hold"),
    ("dangling detail", lambda d: _rebuild(d, _dangling_detail, fix_checksums=True),
     r"audit_log\.jsonl row \d+: the detail 'left' names records 1000000000, which the "
     "archive does not hold"),
    ("not an archive", lambda d: b"TY  - JOUR\nER  - \n", "not a readable zip"),
]


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory):
    """The demo review as an archive (bytes: each test gets the same, and cannot change it)."""
    folder = tmp_path_factory.mktemp("archive-source")
    store = Store(copy_demo_database(folder / "demo.sqlite"))
    review = store.find_review(load_demo_definition()["name"])
    data = export_review(store, review.id, actor="admin")
    store.close()
    return data


@pytest.mark.parametrize("label, breaking, message", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_archive_is_refused_and_changes_nothing(store, demo_archive, label, breaking,
                                                         message):
    store.create_review("Already here", actor="admin")
    before = _snapshot(store)
    with pytest.raises(ArchiveError, match=message) as caught:
        # someone new to this database: not even their account may be left behind
        import_review(store, breaking(demo_archive), actor="newcomer", filename="backup.zip")
    assert str(caught.value).startswith("backup.zip: ")
    assert _snapshot(store) == before


def test_a_member_bigger_than_allowed_is_refused(tmp_path, demo_archive):
    target = _fresh_sqlite(tmp_path, "t.sqlite")
    with pytest.raises(ArchiveError, match="over the limit"):
        import_review(target, demo_archive, actor="admin",
                      limits=ArchiveLimits(max_member_bytes=1000))
    bomb = _rebuild(demo_archive, _add_member("files/" + "0" * 64), fix_checksums=True)
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    members["files/" + "0" * 64] = bytes(50 * 1024 * 1024)  # 50 MB of zeros, ~50 KB packed
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(ArchiveError, match="over the limit"):
        import_review(target, out.getvalue(), actor="admin",
                      limits=ArchiveLimits(max_total_bytes=10 * 1024 * 1024))
    assert target.list_reviews() == []


def test_a_taken_name_is_refused_unless_a_new_one_is_given(tmp_path, demo_archive):
    target = _fresh_sqlite(tmp_path, "t.sqlite")
    first = import_review(target, demo_archive, actor="admin")
    with pytest.raises(ArchiveError, match="already exists here.*new name"):
        import_review(target, demo_archive, actor="admin")
    copy = import_review(target, demo_archive, actor="admin", new_name="  Demo   copy ")
    assert copy.name == "Demo copy"
    assert target.count_records(copy.id) == target.count_records(first.id)
    with pytest.raises(ArchiveError, match="'Demo copy' already exists"):
        import_review(target, demo_archive, actor="admin", new_name="Demo copy")
    assert len(target.list_reviews()) == 2


def test_a_team_entry_whose_slug_is_taken_gets_a_free_one(tmp_path, source):
    store, review, _pdf_bytes, _rid = source
    data = export_review(store, review.id, actor="admin")
    copy = import_review(store, data, actor="admin", new_name="Copy on the same install")
    from reviewkit.store.schema import library_entries

    with store.read() as conn:
        slugs = dict(conn.execute(select(library_entries.c.review_id, library_entries.c.slug)
                                  .where(library_entries.c.review_id.in_([review.id, copy.id]))).all())
    assert slugs[copy.id] == f"{slugs[review.id]}-2"
    with store.read() as conn:
        front = conn.execute(select(library_entries.c.front_matter)
                             .where(library_entries.c.review_id == copy.id)).scalar()
    # the entry's own front matter follows the new slug and the new review
    assert front["id"] == slugs[copy.id] and front["review_id"] == copy.id
    renamed = store.audit_entries(copy.id)[0].details["renamed"]
    assert renamed == {"library_entries.slug": {slugs[review.id]: slugs[copy.id]}}


# -- command line ---------------------------------------------------------------------------


def test_command_line_round_trip(tmp_path, capsys, source):
    store, review, _pdf_bytes, _rid = source
    archive = tmp_path / "backup.zip"
    target = f"sqlite:///{tmp_path / 'cli-target.sqlite'}"
    assert main(["--database", store.url, "export-review", "--review", review.name,
                 "--output", str(archive)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"Review '{review.name}' (") and str(archive) in out
    assert main(["--database", target, "import-review", str(archive)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"Review '{review.name}' imported from backup.zip (")
    assert len(out.splitlines()) == 1

    assert main(["--database", target, "import-review", str(archive)]) == 1
    err = capsys.readouterr().err
    assert "backup.zip: a review called" in err and "already exists" in err
    copied = Store(target)
    try:
        assert canonical_dump(copied, review.name) == canonical_dump(store, review.name)
    finally:
        copied.close()
    assert main(["--database", target, "import-review", str(archive), "--name", "Second"]) == 0
    assert "Review 'Second' imported" in capsys.readouterr().out

    archive.write_bytes(archive.read_bytes()[:1000])
    assert main(["--database", target, "import-review", str(archive), "--name", "Third"]) == 1
    assert "not a readable zip" in capsys.readouterr().err


# -- the page -------------------------------------------------------------------------------


def _backup_page():
    from reviewkit.ui import backup_page, common

    common.sidebar()
    backup_page.render()


@pytest.fixture
def app_database(tmp_path, monkeypatch):
    import streamlit as st

    url = copy_demo_database(tmp_path / "ui.sqlite")  # what the app would build on first start
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    st.cache_resource.clear()
    yield url
    st.cache_resource.clear()


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_the_page_downloads_and_imports_an_archive(app_database, demo_archive):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_backup_page, default_timeout=60).run()
    assert not at.exception
    _button(at, "Prepare the archive").click().run()
    assert "The archive is ready" in at.success[0].value
    assert at.get("download_button")[0].proto.label.startswith("Download developing-resilient")

    at.file_uploader[0].set_value(("demo-backup.zip", demo_archive, "application/zip")).run()
    assert "this name is taken here" in at.text_input[0].label
    _button(at, "Import the review").click().run()
    assert "demo-backup.zip: a review called" in at.error[0].value.replace("\\", "")  # shown escaped

    at.text_input[0].input("Demo, moved")
    _button(at, "Import the review").click().run()
    assert not at.error and "Imported **Demo, moved**" in at.success[-1].value
    store = Store(app_database)
    try:
        demo = next(r for r in store.list_reviews() if r.name != "Demo, moved")
        moved = store.get_review("Demo, moved")
        assert store.count_records(moved.id) == store.count_records(demo.id)
    finally:
        store.close()

    at.file_uploader[0].set_value(("broken.zip", demo_archive[:5000], "application/zip")).run()
    assert "broken.zip: this is not a readable zip" in at.error[0].value.replace("\\", "")


def _zero_bomb(demo_archive: bytes, members: int, size: int) -> bytes:
    """The demo archive plus ``members`` zero-filled files of ``size`` bytes, each listed in
    the manifest with its true size and checksum (so only size and ratio give them away)."""
    with zipfile.ZipFile(io.BytesIO(demo_archive)) as archive:
        contents = {n: archive.read(n) for n in archive.namelist()}
    manifest = json.loads(contents.pop(MANIFEST))
    zeros = bytes(size)
    digest = hashlib.sha256(zeros).hexdigest()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number in range(members):
            name = f"files/{number:064d}"
            manifest["members"][name] = {"bytes": size, "sha256": digest}
            archive.writestr(name, zeros)
        archive.writestr(MANIFEST, json.dumps(manifest))
        for name, content in contents.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_an_archive_of_zeros_is_refused_unread_or_streamed_in_little_memory(tmp_path,
                                                                          demo_archive):
    import tracemalloc

    bomb = _zero_bomb(demo_archive, members=3, size=64 * 1024 * 1024)
    assert len(bomb) < 2 * len(demo_archive) + 1024 * 1024  # 192 MB unpacked, < 1 MB packed
    target = _fresh_sqlite(tmp_path, "t.sqlite")
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveError, match="zip bomb"):
            import_review(target, bomb, actor="admin")
        refused_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        # Allowed to unpack (no ratio check): every member is streamed through its checksum,
        # never held whole, so memory stays far below the 192 MB of zeros.
        import_review(target, bomb, actor="admin", new_name="Unpacked",
                      limits=ArchiveLimits(max_ratio=10**9))
        streamed_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert refused_peak < 16 * 1024 * 1024
    assert streamed_peak < 64 * 1024 * 1024, streamed_peak
    assert [r.name for r in target.list_reviews()] == ["Unpacked"]


def test_archive_content_arrives_as_if_typed_here(tmp_path, source):
    """An archive cannot make an admin, publish a story, or name another review's rows."""
    store, review, _pdf_bytes, _rid = source
    data = export_review(store, review.id, actor="admin")

    def promote_and_publish(members, _manifest):
        people = [json.loads(x) for x in members["tables/users.jsonl"].decode().splitlines()]
        for person in people:
            person["role"] = "admin"
        members["tables/users.jsonl"] = "".join(json.dumps(x) + "\n" for x in people).encode()
        entries = [json.loads(x)
                   for x in members["tables/library_entries.jsonl"].decode().splitlines()]
        for entry in entries:
            entry["status"], entry["visibility"] = "published", "public"
        members["tables/library_entries.jsonl"] = "".join(
            json.dumps(x) + "\n" for x in entries).encode()
        lines = [json.loads(x) for x in members["tables/audit_log.jsonl"].decode().splitlines()]
        lines[0]["entity"], lines[0]["entity_id"] = "record", "1"  # a row this archive lacks
        members["tables/audit_log.jsonl"] = "".join(json.dumps(x) + "\n" for x in lines).encode()

    hostile = _rebuild(data, promote_and_publish, fix_checksums=True)
    target = _fresh_sqlite(tmp_path, "t.sqlite")
    target.create_review("Someone else's", actor="admin")
    target.add_import(target.get_review("Someone else's").id, [Record(title="Theirs")],
                      filename="x.ris", format="ris", sha256="e" * 64, size_bytes=1)
    moved = import_review(target, hostile, actor="admin", filename="hostile.zip")
    with target.read() as conn:
        admins = set(conn.execute(select(users.c.username).where(users.c.role == "admin"))
                     .scalars())
        statuses = set(conn.execute(select(library_entries.c.status).where(
            library_entries.c.review_id == moved.id)).scalars())
        entity_ids = set(conn.execute(select(audit_log.c.entity_id).where(
            audit_log.c.review_id == moved.id, audit_log.c.entity == "record")).scalars())
    assert admins == {"admin"}
    assert statuses == {"pending"}
    theirs = {str(i) for i in target.kept_record_ids(target.get_review("Someone else's").id)}
    assert not entity_ids & theirs
