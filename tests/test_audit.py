"""The audit trail and soft delete: every change is logged, nothing is erased, restore is exact.

Runs on SQLite and on a real PostgreSQL server through the ``store`` fixture.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from streamlit.testing.v1 import AppTest

from reviewkit import trash
from reviewkit.audit import (
    AuditQuery,
    audit_actions,
    audit_actors,
    audit_row,
    count_audit,
    describe,
    export_audit,
    find_audit,
    read_audit_csv,
    read_audit_jsonl,
    write_audit_csv,
    write_audit_jsonl,
)
from reviewkit.cli import main
from reviewkit.codebook import rename_code, review_codebook, save_codebook
from reviewkit.coding import (
    Suggestion,
    confirm_code,
    record_codes_for_review,
    reject_code,
    repoint_codes,
    set_finding,
    store_suggestions,
)
from reviewkit.errors import ReviewkitError
from reviewkit.evidence_map import coded_studies_for_review
from reviewkit.importing import export_records, import_file
from reviewkit.library import Consent, add_contribution, moderate, stored_entries
from reviewkit.library.contributions import ContributionError, edit_contribution
from reviewkit.prisma import prisma_counts
from reviewkit.records import Record
from reviewkit.review_dedup import deduplicate_review
from reviewkit.store import AuditEntry
from reviewkit.store.schema import audit_log

TA = "title_abstract"


TITLES = ("Community connectors and loneliness in later life",
          "Participatory budgeting in Knowsley: a process evaluation",
          "Debt advice in general practice: a randomised trial",
          "Time banking and social capital in deprived neighbourhoods",
          "Green space use and wellbeing among young carers",
          "Peer support groups for new parents in Halton",
          "Asset-based community development: a realist review")


def _records(database: str, n: int, *, start: int = 0) -> list[Record]:
    """``n`` distinct studies from one database; the same index means the same study."""
    return [Record(title=TITLES[i], authors=[f"Author{i}, A.", "Popay, J."], year=2012 + i,
                   journal="Health & Place", doi=f"10.1000/hp.{i}",
                   abstract=f"Study {i}: a community programme and what residents made of it.",
                   keywords=["resilience", f"k{i}"], database=database)
            for i in range(start, start + n)]


def _import(store, review, recs, sha, *, actor="ana", filename="export.ris", name="Scopus"):
    return store.add_import(review.id, recs, actor=actor, filename=filename, format="ris",
                            sha256=sha, size_bytes=100, database_name=name)


PEOPLE = ("lead", "ana", "ben", "maria", "bot", "facilitator", "moderator")


def _people(store) -> None:
    """Create the accounts first, so their first action is the only line it writes."""
    for name in PEOPLE:
        store.ensure_user(name)


def _mark(store) -> int:
    _people(store)
    latest = find_audit(store, limit=1)
    return latest[0].id if latest else 0


def _since(store, mark: int) -> list[AuditEntry]:
    """Audit lines written after ``mark``, oldest first."""
    return [e for e in reversed(find_audit(store)) if e.id > mark]


def _lines(store, mark: int) -> list[tuple[str, str, str, str]]:
    return [(e.actor, e.action, e.entity, e.entity_id) for e in _since(store, mark)]


def _snapshot(store, review) -> dict:
    """Everything a person can see of a review: records, counts, exports, PRISMA, codes."""
    kept = store.kept_record_ids(review.id)
    return {
        "records": store.list_records(review.id),
        "full_records": [store.get_record(s.id) for s in store.list_records(review.id)],
        "count": store.count_records(review.id),
        "kept": kept,
        "batches": store.list_batches(review.id),
        "sources": store.counts_by_source(review.id),
        "groups": store.duplicate_groups(review.id),
        "duplicates": store.count_duplicates(review.id),
        "pairs": store.duplicate_pairs(review.id),
        "decisions": store.current_decisions(review.id, stage=TA),
        "codes": record_codes_for_review(store, review.id, status=None),
        "studies": coded_studies_for_review(store, review.id),
        "fulltexts": store.records_with_fulltext(review.id),
        "prisma": prisma_counts(store, review),
        "csv": export_records(store, review, "csv"),
    }


@pytest.fixture
def screened(store):
    """A review with two imports sharing one study (merged), decisions, a code, a full text."""
    review = store.create_review("Resilience", actor="lead")
    first = _import(store, review, _records("Scopus", 4), "a" * 64, filename="scopus.ris")
    second = _import(store, review, _records("PubMed", 3, start=3), "b" * 64,
                     filename="pubmed.ris", name="PubMed")
    deduplicate_review(store, review, actor="ana")
    ids = [s.id for s in store.list_records(review.id)]
    store.add_decision(ids[0], stage=TA, decision="include", reviewer="ana")
    store.add_decision(ids[1], stage=TA, decision="exclude", reviewer="ana",
                       reason="Wrong population")
    store.add_decision(ids[5], stage=TA, decision="include", reviewer="ben")
    store.add_decision(ids[5], stage="full_text", decision="include", reviewer="ben")
    confirm_code(store, review.id, ids[0], "approach", "community_connectors", "ana")
    confirm_code(store, review.id, ids[5], "approach", "community_connectors", "ana")
    store.add_fulltext(ids[0], filename="first.pdf", sha256="c" * 64, content=b"%PDF-1",
                       text="The full text of the first study.", actor="ana")
    return review, first, second, ids


# -- every kind of change writes its audit line ----------------------------------------------


def test_decisions_and_dedup_steps_each_write_one_line_with_the_actor(store):
    review = store.create_review("R", actor="lead")
    _import(store, review, _records("Scopus", 3), "a" * 64)
    _import(store, review, _records("PubMed", 2, start=2), "b" * 64, name="PubMed")
    ids = [s.id for s in store.list_records(review.id)]

    mark = _mark(store)
    store.add_decision(ids[0], stage=TA, decision="exclude", reviewer="maria",
                       reason="wrong population")
    (line,) = _since(store, mark)
    assert (line.actor, line.action, line.entity_id) == ("maria", "decision.add", str(ids[0]))
    assert describe(line) == f"maria excluded record {ids[0]} at title/abstract: wrong population"
    assert line.at.tzinfo is not None and abs((datetime.now(UTC) - line.at).total_seconds()) < 60

    mark = _mark(store)
    store.undo_decision(ids[0], stage=TA, reviewer="maria")
    store.add_decision(ids[1], stage="full_text", decision="include", reviewer="lead",
                       kind="resolution")
    assert _lines(store, mark) == [("maria", "decision.undo", "record", str(ids[0])),
                                   ("lead", "decision.resolve", "record", str(ids[1]))]

    mark = _mark(store)
    deduplicate_review(store, review, actor="ana")
    (run,) = _since(store, mark)
    assert (run.actor, run.action) == ("ana", "dedup.run")
    assert run.details["merges"] == {str(ids[3]): ids[2]}

    mark = _mark(store)
    store.unmerge(ids[3], actor="ben")
    assert _lines(store, mark) == [("ben", "dedup.unmerge", "record", str(ids[2]))]
    pair = store.duplicate_pairs(review.id)[0]
    mark = _mark(store)
    store.decide_pair(pair["id"], "same", actor="ana")
    store.decide_pair(pair["id"], "possible", actor="ana")
    assert _lines(store, mark) == [("ana", "dedup.same", "duplicate_pair", str(pair["id"])),
                                   ("ana", "dedup.possible", "duplicate_pair", str(pair["id"]))]


def test_coding_and_codebook_changes_each_write_one_line(store):
    review = store.create_review("R", actor="lead")
    _import(store, review, _records("Scopus", 2), "a" * 64)
    rid = store.list_records(review.id)[0].id
    steps = [
        (lambda: store_suggestions(store, review.id, rid,
                                   [Suggestion("approach", "community_connectors", 0.8)], "bot"),
         ("bot", "coding.suggest", "record", str(rid))),
        (lambda: confirm_code(store, review.id, rid, "approach", "community_connectors", "ana"),
         ("ana", "coding.confirm", "record", str(rid))),
        (lambda: reject_code(store, review.id, rid, "outcome", "reduced_isolation", "ben"),
         ("ben", "coding.reject", "record", str(rid))),
        (lambda: set_finding(store, review.id, rid, "approach", "community_connectors", "positive",
                             "More neighbours met", "ana"),
         ("ana", "coding.finding", "record", str(rid))),
        (lambda: repoint_codes(store, review.id, "approach", "community_connectors", "social_prescribing",
                               "lead"),
         ("lead", "coding.repoint", "code", "approach:community_connectors")),
    ]
    for change, expected in steps:
        mark = _mark(store)
        change()
        assert _lines(store, mark) == [expected]

    mark = _mark(store)
    edited = rename_code(review_codebook(store, review.id), "approach", "community_connectors",
                         "Building on local assets")
    version = save_codebook(store, review.id, edited, "lead")
    (line,) = _since(store, mark)
    assert (line.actor, line.action, line.entity_id) == ("lead", "codebook.save",
                                                         f"{review.id}:{version}")
    assert line.details["changes"] == ["approach:community_connectors label, synonyms changed"]
    assert describe(line).startswith(f"lead saved codebook version {version} (approach:")


FORM = {"title": "Knit and natter in Anytown", "type": "lived-experience story",
        "place": "Anytown", "local_authority": "Halton", "years": "2024",
        "approaches": ["volunteering_peer_support"], "outcomes": ["reduced_isolation"],
        "domains": ["social_connectivity"], "population": "Older residents who live alone",
        "summary": "A weekly knitting group helps people who live alone meet others.",
        "attribution": "Group member, Anytown", "visibility": "public"}
CONSENT = Consent(who="Group member", when=date(2024, 5, 1),
                  purposes=["publish in the library"], given_by="the member, signed form")


def test_story_contribution_moderation_and_edit_are_logged_with_old_and_new(store):
    store.ensure_user("moderator", role="admin")  # only an admin or a team's lead moderates
    mark = _mark(store)
    entry_id = add_contribution(store, front_matter=FORM, body="We meet on Tuesdays.",
                                consent=CONSENT, actor="facilitator")
    moderate(store, entry_id, "publish", actor="moderator", note="checked consent")
    edited = edit_contribution(store, entry_id, actor="moderator", body="We meet on Fridays.",
                               front_matter={"summary": "A knitting group that meets weekly."})
    assert _lines(store, mark) == [
        ("facilitator", "library.contribute", "library_entry", str(entry_id)),
        ("moderator", "library.publish", "library_entry", str(entry_id)),
        ("moderator", "library.edit", "library_entry", str(entry_id))]
    change = _since(store, mark)[-1].details
    assert change["old"] == {"body": "We meet on Tuesdays.", "summary": FORM["summary"]}
    assert change["new"] == {"body": "We meet on Fridays.",
                             "summary": "A knitting group that meets weekly."}
    assert edited.status == "published" and edited.body == "We meet on Fridays."
    (stored,) = stored_entries(store)
    assert stored == edited

    mark = _mark(store)
    with pytest.raises(ContributionError, match="'summary' is missing"):
        edit_contribution(store, entry_id, actor="moderator", front_matter={"summary": " "})
    with pytest.raises(ReviewkitError, match="cannot be edited: status"):
        edit_contribution(store, entry_id, actor="moderator", front_matter={"status": "pending"})
    edit_contribution(store, entry_id, actor="moderator", body="We meet on Fridays.")
    assert _since(store, mark) == []  # refused edits and a no-op edit leave no line
    assert stored_entries(store) == [edited]


def test_every_delete_and_restore_writes_one_line(store, screened):
    review, first, _, ids = screened
    entry_id = add_contribution(store, front_matter=FORM, body="Tuesdays.", consent=CONSENT,
                                actor="facilitator", review_id=review.id)
    fulltext_id = trash.current_fulltext_id(store, ids[0])
    steps = [
        ("import", first.id, "import_batch", str(first.id)),
        ("record", ids[5], "record", str(ids[5])),
        ("story", entry_id, "library_entry", str(entry_id)),
        ("review", review.id, "review", str(review.id)),
    ]
    names = {"import": "import", "record": "record", "story": "library", "review": "review"}
    for kind, item_id, entity, entity_id in steps:
        mark = _mark(store)
        trash.delete(store, kind, item_id, actor="lead", reason="tidying up")
        trash.restore(store, kind, item_id, actor="maria")
        assert _lines(store, mark) == [("lead", f"{names[kind]}.delete", entity, entity_id),
                                       ("maria", f"{names[kind]}.restore", entity, entity_id)]
        assert _since(store, mark)[0].details["reason"] == "tidying up"
    mark = _mark(store)
    trash.delete_fulltext(store, fulltext_id, actor="lead")
    trash.restore_fulltext(store, fulltext_id, actor="lead")
    assert _lines(store, mark) == [("lead", "fulltext.delete", "fulltext", str(fulltext_id)),
                                   ("lead", "fulltext.restore", "fulltext", str(fulltext_id))]
    assert describe(_since(store, mark)[0]) == (
        f"lead deleted the full text first.pdf of record {ids[0]}")


# -- soft delete and exact restore --------------------------------------------------------------


def test_deleting_an_import_hides_it_everywhere_and_restore_is_exact(store, screened):
    review, first, _, ids = screened
    before = _snapshot(store, review)
    assert before["groups"] == {ids[3]: [ids[4]]}  # PubMed's first record duplicates Scopus' last
    assert before["prisma"].identified == 7 and before["prisma"].duplicates_removed == 1

    gone = trash.delete_import(store, first.id, actor="lead", reason="wrong search")
    assert gone == 4
    after = _snapshot(store, review)
    assert after["count"] == 3 and {s.id for s in after["records"]} == set(ids[4:])
    assert after["batches"] == [before["batches"][1]]
    assert after["sources"] == [("PubMed", 3)]
    assert b"10.1000/hp.0" not in after["csv"] and b"10.1000/hp.5" in after["csv"]
    # the duplicate that pointed at a deleted record is screened on its own now
    assert after["groups"] == {} and after["kept"] == ids[4:]
    assert after["prisma"].identified == 3 and after["prisma"].duplicates_removed == 0
    assert after["prisma"].screened == 1 and after["prisma"].awaiting_screening == 2
    assert {d.record_id for d in after["decisions"]} == {ids[5]}
    assert {c.record_id for c in after["codes"]} == {ids[5]}
    assert [s.record_id for s in after["studies"]] == [ids[5]]
    assert after["fulltexts"] == set() and after["pairs"] == []
    assert [(i.kind, i.id) for i in trash.deleted_items(store, review.id)] == [
        ("import", first.id)]
    with pytest.raises(ReviewkitError, match="restore that import first"):
        trash.restore_record(store, ids[0], actor="lead")

    assert trash.restore_import(store, first.id, actor="lead") == 4
    assert _snapshot(store, review) == before
    assert trash.deleted_items(store, review.id) == []


def test_deleting_a_record_hides_it_and_restore_is_exact(store, screened):
    review, first, _, ids = screened
    before = _snapshot(store, review)
    trash.delete_record(store, ids[3], actor="lead")  # the kept record of a duplicate group
    after = _snapshot(store, review)
    assert after["count"] == 6 and ids[3] not in {s.id for s in after["records"]}
    assert after["sources"] == [("PubMed", 3), ("Scopus", 3)]
    assert after["prisma"].identified == 6 and after["groups"] == {}
    assert ids[4] in after["kept"]
    assert [(i.kind, i.id) for i in trash.deleted_items(store, review.id)] == [
        ("record", ids[3])]
    with pytest.raises(ReviewkitError, match="already deleted"):
        trash.delete_record(store, ids[3], actor="lead")

    # deleting the import now, then restoring it, leaves the record deleted on its own
    trash.delete_import(store, first.id, actor="lead")
    trash.restore_import(store, first.id, actor="lead")
    assert _snapshot(store, review) == after

    trash.restore_record(store, ids[3], actor="lead")
    assert _snapshot(store, review) == before
    with pytest.raises(ReviewkitError, match="not deleted"):
        trash.restore_record(store, ids[3], actor="lead")


def test_a_decided_record_deleted_drops_out_of_conflicts_and_comes_back(store, screened):
    review, _, _, ids = screened
    store.add_decision(ids[0], stage=TA, decision="exclude", reviewer="ben")
    trash.delete_record(store, ids[0], actor="lead")
    assert ids[0] not in {d.record_id for d in store.current_decisions(review.id, stage=TA)}
    trash.restore_record(store, ids[0], actor="lead")
    votes = {(d.reviewer, d.decision) for d in store.current_decisions(review.id, stage=TA)
             if d.record_id == ids[0]}
    assert votes == {("ana", "include"), ("ben", "exclude")}


def test_importing_a_deleted_file_again_is_allowed_and_blocks_the_old_restore(store, tmp_path):
    review = store.create_review("R")
    data = (b"TY  - JOUR\nTI  - Community connectors in Halton\nAU  - Popay, J.\n"
            b"PY  - 2019\nDO  - 10.1000/cc.1\nER  - \n")
    old = import_file(store, review, data, "scopus.ris", actor="ana")
    trash.delete_import(store, old.id, actor="ana")
    assert trash.deleted_import_of(store, review.id, old.sha256) == old.id
    new = import_file(store, review, data, "scopus.ris", actor="ana")
    assert new.id != old.id and store.count_records(review.id) == 1
    with pytest.raises(ReviewkitError, match="imported again afterwards"):
        trash.restore_import(store, old.id, actor="ana")
    trash.delete_import(store, new.id, actor="ana")
    trash.restore_import(store, old.id, actor="ana")
    assert [b.id for b in store.list_batches(review.id)] == [old.id]
    assert store.count_records(review.id) == 1


def test_a_deleted_review_leaves_every_list_and_comes_back(store, screened):
    review, _, _, _ = screened
    before = _snapshot(store, review)
    trash.delete_review(store, review.id, actor="lead")
    assert store.find_review("Resilience") is None and store.list_reviews() == []
    with pytest.raises(ReviewkitError, match="is deleted: restore it"):
        store.create_review("Resilience")
    assert [i.label for i in trash.deleted_reviews(store)] == ["Review 'Resilience'"]
    trash.restore_review(store, review.id, actor="lead")
    assert store.get_review("Resilience") == review
    assert _snapshot(store, review) == before


def test_a_deleted_story_leaves_the_library_and_returns_with_its_status(store):
    review = store.create_review("R")
    store.ensure_user("moderator", role="admin")
    entry_id = add_contribution(store, front_matter=FORM, body="Tuesdays.", consent=CONSENT,
                                actor="facilitator", review_id=review.id)
    published = moderate(store, entry_id, "publish", actor="moderator")
    trash.delete_story(store, entry_id, actor="moderator", reason="consent withdrawn")
    assert stored_entries(store) == []
    (item,) = trash.deleted_items(store, review.id)
    assert (item.kind, item.id, item.note) == ("story", entry_id, "was published")
    trash.restore_story(store, entry_id, actor="moderator")
    assert stored_entries(store) == [published]


def test_a_deleted_full_text_can_be_restored_even_after_a_replacement(store, screened):
    review, _, _, ids = screened
    first_id = trash.current_fulltext_id(store, ids[0])
    store.add_fulltext(ids[0], filename="second.pdf", sha256="d" * 64, content=b"%PDF-2",
                       text="A second version.", actor="ana")
    second_id = trash.current_fulltext_id(store, ids[0])
    trash.delete_fulltext(store, second_id, actor="ana")
    assert store.fulltext_file(ids[0]) is None and store.get_record(ids[0]).record.full_text == ""
    assert {(i.kind, i.id) for i in trash.deleted_items(store, review.id)} == {
        ("fulltext", first_id), ("fulltext", second_id)}
    trash.restore_fulltext(store, first_id, actor="ana")
    assert store.fulltext_file(ids[0]) == ("first.pdf", b"%PDF-1")
    trash.restore_fulltext(store, second_id, actor="ana")  # sets the first aside again
    assert store.fulltext_file(ids[0]) == ("second.pdf", b"%PDF-2")
    notes = {i.id: i.note for i in trash.deleted_items(store, review.id)}
    assert notes == {first_id: "replaced by another file"}


# -- finding and exporting ------------------------------------------------------------------


def _line(store, review_id, actor, action, at, details, entity="record", entity_id="42"):
    actor_id = store.ensure_user(actor).id
    with store.write() as conn:
        conn.execute(audit_log.insert().values(
            at=at, actor_id=actor_id, review_id=review_id, action=action, entity=entity,
            entity_id=entity_id, details=details))


def test_filters_and_paging(store):
    review = store.create_review("R", actor="lead")
    other = store.create_review("Other", actor="lead")
    _line(store, review.id, "maria", "decision.add", datetime(2024, 3, 1, 9, tzinfo=UTC),
          {"stage": TA, "decision": "exclude", "reason": "Café users only"})
    _line(store, review.id, "maria", "decision.undo", datetime(2024, 3, 2, 23, 59, tzinfo=UTC),
          {"stage": TA, "withdrawn": "exclude"})
    _line(store, review.id, "ben", "dedup.same", datetime(2024, 3, 3, 0, 0, tzinfo=UTC),
          {"left": 1, "right": 2, "note": "50% overlap"}, entity="duplicate_pair",
          entity_id="7")
    _line(store, review.id, "ben", "decisions_export", datetime(2024, 3, 4, tzinfo=UTC),
          {"note": "50 percent"}, entity="review", entity_id=str(review.id))
    _line(store, other.id, "maria", "decision.add", datetime(2024, 3, 1, tzinfo=UTC),
          {"decision": "include"})

    def actions(**kw) -> list[str]:
        query = AuditQuery(review_id=review.id, **kw)
        found = [e.action for e in find_audit(store, query)]
        assert count_audit(store, query) == len(found)
        return found

    assert actions(actor="maria") == ["decision.undo", "decision.add"]
    assert actions(action="decision.") == ["decision.undo", "decision.add"]
    assert actions(action="dec") == ["decisions_export", "decision.undo", "decision.add"]
    assert actions(action="decision_") == []  # '_' is a letter here, not a wildcard
    assert actions(entity="duplicate_pair") == ["dedup.same"]
    assert actions(entity="review", entity_id=review.id) == ["decisions_export",
                                                             "review.create"]
    assert actions(entity_id="42") == ["decision.undo", "decision.add"]
    assert actions(since=date(2024, 3, 2), until=date(2024, 3, 3)) == ["dedup.same",
                                                                       "decision.undo"]
    assert actions(until=datetime(2024, 3, 2, 23, 59, tzinfo=UTC)) == ["decision.undo",
                                                                       "decision.add"]
    assert actions(text="café USERS") == ["decision.add"]
    assert actions(text="50%") == ["dedup.same"]  # '%' is looked for, not a wildcard
    assert actions(actor="maria", text="withdrawn") == ["decision.undo"]
    everywhere = [e.action for e in find_audit(store, AuditQuery(actor="maria"))]
    assert everywhere == ["decision.add", "decision.undo", "decision.add", "user.create"]
    assert audit_actors(store, review.id) == ["ben", "lead", "maria"]
    assert "review.create" in audit_actions(store, review.id)

    everything = find_audit(store, AuditQuery(review_id=review.id))
    pages = [find_audit(store, AuditQuery(review_id=review.id), limit=2, offset=start)
             for start in range(0, len(everything), 2)]
    assert [e for page in pages for e in page] == everything
    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)


def test_csv_and_json_lines_exports_read_back_to_the_same_lines(store):
    review = store.create_review("Résilience, \"quoted\"", actor="lead")
    _import(store, review, _records("Scopus", 2), "a" * 64, actor="@bob")
    rid = store.list_records(review.id)[0].id
    store.add_decision(rid, stage=TA, decision="exclude", reviewer="=maria",
                       reason="Wrong population,\nsee \"notes\" — ünïcode =SUM(A1)")
    entries = find_audit(store, AuditQuery(review_id=review.id))
    rows = [audit_row(e) for e in entries]
    assert len(rows) == 3

    data = write_audit_csv(entries)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == ("id,at,actor,review_id,action,entity,entity_id,"
                                    "description,details")
    # cells a spreadsheet would run as formulas are defused, and read back unchanged
    assert "'=maria" in text and "'@bob" in text
    assert read_audit_csv(data) == rows
    decided = next(r for r in read_audit_csv(data) if r["action"] == "decision.add")
    assert decided["details"]["reason"] == "Wrong population,\nsee \"notes\" — ünïcode =SUM(A1)"

    lines = write_audit_jsonl(entries)
    assert len(lines.decode("utf-8").splitlines()) == 3
    assert read_audit_jsonl(lines) == rows
    assert rows[0]["at"].endswith("+00:00") and rows[0]["actor"] == "=maria"

    exported, count = export_audit(store, AuditQuery(review_id=review.id, actor="@bob"),
                                   format="jsonl")
    assert count == 1 and read_audit_jsonl(exported)[0]["action"] == "import.create"
    with pytest.raises(ReviewkitError, match="choose one of csv, jsonl"):
        export_audit(store, format="xlsx")


@pytest.mark.parametrize(("action", "entity_id", "details", "expected"), [
    ("decision.add", "7", {"stage": "full_text", "decision": "include", "reason": ""},
     "ana included record 7 at full text"),
    ("decision.add", "7", {"stage": TA, "decision": "not_retrieved"},
     "ana marked as report not retrieved record 7 at title/abstract"),
    ("decision.resolve", "7", {"stage": TA, "decision": "exclude", "reason": "Not a study"},
     "ana settled record 7 at title/abstract as 'exclude': Not a study"),
    ("decision.undo", "7", {"stage": TA, "withdrawn": "include", "restored": "maybe"},
     "ana withdrew their 'include' on record 7 at title/abstract; their earlier 'maybe' "
     "stands again"),
    ("dedup.different", "3", {"left": 1, "right": 2, "was": "possible"},
     "ana marked records 1 and 2 as different works"),
    ("dedup.unmerge", "1", {"records": [1, 2, 3]},
     "ana split the duplicate group of record 1 (3 records)"),
    ("coding.repoint", "approach:a", {"from": "a", "to": "b", "records": [4]},
     "ana moved 1 record from code 'a' to 'b'"),
    ("library.reject", "5", {"slug": "knit", "note": "no consent"},
     "ana rejected the story 'knit': no consent"),
    ("import.create", "2", {"filename": "scopus.ris", "records": 29, "format": "ris"},
     "ana imported scopus.ris (29 records, RIS)"),
    ("user.password", "9", {}, "ana did 'user.password' on user 9"),
])
def test_each_action_reads_as_a_sentence(action, entity_id, details, expected):
    entity = "user" if action.startswith("user") else "record"
    entry = AuditEntry(1, datetime(2024, 1, 1, tzinfo=UTC), "ana", 1, action, entity,
                       entity_id, details)
    assert describe(entry) == expected


# -- command line -----------------------------------------------------------------------------


def test_cli_trash_restore_and_audit(store, tmp_path, capsys):
    review = store.create_review("R", actor="lead")
    batch = _import(store, review, _records("Scopus", 3), "a" * 64)
    other = store.create_review("Other", actor="lead")
    _import(store, other, _records("PubMed", 1), "b" * 64)
    foreign = store.list_records(other.id)[0].id
    rid = store.list_records(review.id)[0].id
    # a researcher who does not lead the review may not delete; its lead may
    assert main(["trash", "--database", store.url, "--user", "maria", "--review", "R",
                 "--record-id", str(rid)]) == 1
    assert "maria (researcher) may not delete or restore items" in capsys.readouterr().err
    assert store.count_records(review.id) == 3
    db = ["--database", store.url, "--user", "lead"]

    assert main(["trash", *db, "--review", "R", "--record-id", str(rid), "--reason", "typo"]) == 0
    assert main(["trash", *db, "--review", "R", "--import-id", str(batch.id)]) == 0
    assert store.count_records(review.id) == 0
    capsys.readouterr()
    assert main(["trash", *db, "--review", "R", "--list"]) == 0
    listed = [line.split("\t")[:2] for line in capsys.readouterr().out.splitlines()]
    assert sorted(listed) == sorted([["import", str(batch.id)], ["record", str(rid)]])
    assert main(["restore", *db, "--review", "R", "--import-id", str(batch.id)]) == 0
    assert store.count_records(review.id) == 2
    assert main(["restore", *db, "--review", "R", "--record-id", str(rid)]) == 0
    assert store.count_records(review.id) == 3
    assert main(["trash", *db, "--review", "R", "--record-id", str(foreign)]) == 1
    assert "belongs to another review" in capsys.readouterr().err
    assert store.count_records(other.id) == 1
    assert main(["trash", *db, "--review", "R"]) == 1
    with pytest.raises(SystemExit):
        main(["restore", *db, "--review", "R"])  # argparse: say what to restore

    assert main(["trash", *db, "--review", "R", "--whole-review"]) == 0
    assert store.find_review("R") is None
    assert main(["restore", *db, "--review", "R", "--whole-review"]) == 0
    assert store.find_review("R") == review

    out = tmp_path / "audit.jsonl"
    assert main(["audit", *db, "--review", "R", "--output", str(out), "--format", "jsonl",
                 "--actor", "lead", "--action", "record."]) == 0
    rows = read_audit_jsonl(out.read_bytes())
    assert [(r["actor"], r["action"]) for r in rows] == [("lead", "record.restore"),
                                                         ("lead", "record.delete")]
    assert rows[1]["details"]["reason"] == "typo"
    out_csv = tmp_path / "audit.csv"
    assert main(["audit", *db, "--review", "R", "--output", str(out_csv)]) == 0
    assert read_audit_csv(out_csv.read_bytes()) == [
        audit_row(e) for e in find_audit(store, AuditQuery(review_id=review.id))]


# -- the page ---------------------------------------------------------------------------------


PAGE = ("from reviewkit.ui import common\n"
        "from reviewkit.ui import audit_page\n"
        "common.sidebar()\n"
        "audit_page.render()\n")


@pytest.fixture
def page_store(tmp_path, monkeypatch):
    import streamlit as st

    from reviewkit.store import Store

    url = f"sqlite:///{tmp_path / 'audit-ui.sqlite'}"
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    monkeypatch.setenv("REVIEWKIT_NO_DEMO", "1")
    monkeypatch.setenv("REVIEWKIT_USER", "lead")
    st.cache_resource.clear()
    opened = Store(url)
    yield opened
    opened.close()
    st.cache_resource.clear()


def test_audit_page_shows_the_trail_and_restores_a_deleted_import(page_store):
    store = page_store
    review = store.create_review("Page review", actor="lead")
    batch = _import(store, review, _records("Scopus", 3), "a" * 64,
                    filename="**bold** <b>scopus</b>.ris")
    rid = store.list_records(review.id)[0].id
    store.add_decision(rid, stage=TA, decision="exclude", reviewer="ana",
                       reason="<script>alert(1)</script>")
    trash.delete_import(store, batch.id, actor="lead")

    at = AppTest.from_string(PAGE, default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Audit trail"
    table = at.dataframe[0].value
    assert list(table.columns) == ["When", "Who", "What", "Action"]
    assert table["Action"].tolist() == ["import.delete", "decision.add", "import.create",
                                        "review.create"]
    assert table["What"][1] == (f"ana excluded record {rid} at title/abstract: "
                                "<script>alert(1)</script>")
    assert "Import: Import '**bold** <b>scopus</b>.ris'" in [t.value for t in at.text]

    at.selectbox(key="audit_actor").select("ana").run()
    assert at.dataframe[0].value["Action"].tolist() == ["decision.add", "import.create"]

    at.button(key=f"restore-import-{batch.id}").click().run()
    assert not at.exception, at.exception
    assert store.count_records(review.id) == 3
    assert any("Restored" in s.value for s in at.success)
    (line,) = find_audit(store, AuditQuery(action="import.restore"))
    assert line.actor == "lead"
    assert not any(b.key and b.key.startswith("restore-") for b in at.button)


def test_audit_page_deletes_a_record_only_when_confirmed(page_store):
    store = page_store
    review = store.create_review("Page review", actor="lead")
    _import(store, review, _records("Scopus", 2), "a" * 64)
    rid = store.list_records(review.id)[1].id

    at = AppTest.from_string(PAGE, default_timeout=60).run()
    at.number_input(key="delete_record_id").set_value(rid)
    at.button(key="delete_record_submit").click().run()  # without the confirmation
    assert store.count_records(review.id) == 2
    assert any("tick the box" in w.value for w in at.warning)

    at.number_input(key="delete_record_id").set_value(rid)
    at.checkbox(key="record_sure").check()
    at.button(key="delete_record_submit").click().run()
    assert not at.exception, at.exception
    assert store.count_records(review.id) == 1
    (line,) = find_audit(store, AuditQuery(action="record.delete"))
    assert (line.actor, line.entity_id) == ("lead", str(rid))
    assert at.button(key=f"restore-record-{rid}") is not None
