"""The storage module on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.exc import StatementError

from reviewkit.errors import DuplicateImportError, NotFoundError, ReviewkitError
from reviewkit.records import Record
from reviewkit.store import SCHEMA_VERSION, Store, schema


def _records(n: int, prefix: str = "Study") -> list[Record]:
    return [Record(title=f"{prefix} {i} of community resilience", authors=[f"Author{i}, A.", "Smith, J."],
                   year=2010 + i % 10, journal="Health & Place", doi=f"10.1000/hp.{prefix}.{i}",
                   keywords=["resilience", f"k{i}"], extra={"M3": [f"note {i}"]})
            for i in range(n)]


def _import(store: Store, review, recs, sha="a" * 64, **kw):
    return store.add_import(review.id, recs, filename=kw.pop("filename", "scopus.ris"),
                            format="ris", sha256=sha, size_bytes=123, **kw)


def test_new_database_is_at_latest_schema(store):
    assert store.schema_version() == SCHEMA_VERSION
    names = set(inspect(store.engine).get_table_names())
    assert {"reviews", "users", "import_batches", "records", "decisions", "record_codes",
            "codebooks", "audit_log", "fulltexts", "duplicate_pairs", "embeddings",
            "library_entries", "review_members", "meta"} <= names


def test_review_round_trip_and_audit(store):
    review = store.create_review("  Loneliness   in older adults ", actor="maria",
                                 question="Does social prescribing reduce loneliness?",
                                 inclusion_criteria="Adults 65+", settings={"exclusion_reasons": ["Wrong population"]})
    assert review.name == "Loneliness in older adults"
    again = store.get_review("Loneliness in older adults")
    assert again.settings == {"exclusion_reasons": ["Wrong population"]}
    assert again.question.startswith("Does social")
    with pytest.raises(ReviewkitError, match="already exists"):
        store.create_review("Loneliness in older adults")
    with pytest.raises(NotFoundError):
        store.get_review("missing")
    store.update_review(review.id, actor="maria", question="New question?")
    assert store.get_review(review.name).question == "New question?"
    actions = [(e.actor, e.action) for e in store.audit_entries(review.id)]
    assert actions == [("maria", "review.update"), ("maria", "review.create")]
    change = store.audit_entries(review.id)[0].details["question"]
    assert change == {"old": "Does social prescribing reduce loneliness?", "new": "New question?"}


def test_import_stores_every_field_and_counts_by_source(store):
    review = store.create_review("R")
    recs = _records(3)
    recs[1].full_text = "Full text of the second study."
    batch = _import(store, review, recs, database_name="Scopus", search_date="2024-01-02",
                    search_query="resilien* AND communit*", actor="ana")
    assert (batch.record_count, batch.database_name, batch.imported_by) == (3, "Scopus", "ana")
    _import(store, review, _records(2, "Other"), sha="b" * 64, database_name="PubMed")
    assert store.counts_by_source(review.id) == [("PubMed", 2), ("Scopus", 3)]
    stored = store.list_records(review.id)
    assert [s.record.title for s in stored[:3]] == [r.title for r in recs]
    first = stored[0].record
    assert first.authors == ["Author0, A.", "Smith, J."]
    assert first.keywords == ["resilience", "k0"] and first.extra == {"M3": ["note 0"]}
    assert store.get_record(stored[1].id).record.full_text == "Full text of the second study."
    assert [b.filename for b in store.list_batches(review.id)] == ["scopus.ris", "scopus.ris"]


def test_same_file_twice_is_refused_and_changes_nothing(store):
    review = store.create_review("R")
    _import(store, review, _records(3))
    with pytest.raises(DuplicateImportError, match="already imported"):
        _import(store, review, _records(3), filename="copy.ris")
    assert store.count_records(review.id) == 3
    assert len(store.list_batches(review.id)) == 1
    # the same file may go into a different review
    other = store.create_review("Other")
    _import(store, other, _records(3))
    assert store.count_records(other.id) == 3


def test_failed_import_leaves_nothing_behind(store):
    review = store.create_review("R")
    _import(store, review, _records(2))
    audit_before = len(store.audit_entries())
    broken = _records(4, "Broken")
    broken[3].extra = {"X": {1, 2}}  # a set cannot be stored as JSON: fails mid-insert
    with pytest.raises((StatementError, TypeError), match="not JSON serializable"):
        _import(store, review, broken, sha="c" * 64)
    assert store.count_records(review.id) == 2
    assert len(store.list_batches(review.id)) == 1
    assert len(store.audit_entries()) == audit_before


def test_search_and_sort(store):
    review = store.create_review("R")
    recs = _records(5)
    recs[2].abstract = "Participatory budgeting in Knowsley"
    recs[4].authors = ["Popay, Jennie"]
    _import(store, review, recs)
    assert [s.record.title for s in store.list_records(review.id, search="participatory KNOWSLEY")] == [recs[2].title]
    assert store.count_records(review.id, search="popay") == 1
    years = [s.record.year for s in store.list_records(review.id, order_by="year", descending=True)]
    assert years == sorted(years, reverse=True)
    page = store.list_records(review.id, limit=2, offset=2)
    assert [s.position for s in page] == [3, 4]
    with pytest.raises(ReviewkitError):
        store.list_records(review.id, order_by="nonsense")


def test_decisions_carry_reviewer_supersede_and_undo(store):
    review = store.create_review("R")
    _import(store, review, _records(2))
    rid = store.list_records(review.id)[0].id
    store.add_decision(rid, stage="title_abstract", decision="include", reviewer="ana")
    store.add_decision(rid, stage="title_abstract", decision="exclude", reviewer="ben",
                       reason="Wrong population", note="children only")
    store.add_decision(rid, stage="title_abstract", decision="maybe", reviewer="ana")
    current = {(d.reviewer, d.decision) for d in store.current_decisions(review.id, stage="title_abstract")}
    assert current == {("ana", "maybe"), ("ben", "exclude")}
    restored = store.undo_decision(rid, stage="title_abstract", reviewer="ana")
    assert restored.decision == "include"
    current = {(d.reviewer, d.decision) for d in store.current_decisions(review.id, stage="title_abstract")}
    assert current == {("ana", "include"), ("ben", "exclude")}
    # undoing the first decision leaves the record unscreened by ana; nothing more to undo
    assert store.undo_decision(rid, stage="title_abstract", reviewer="ana") is None
    assert {d.reviewer for d in store.current_decisions(review.id, stage="title_abstract")} == {"ben"}
    assert store.undo_decision(rid, stage="title_abstract", reviewer="ana") is None
    assert store.add_decision(rid, stage="title_abstract", decision="include", reviewer="ana")
    with pytest.raises(ReviewkitError, match="Unknown decision"):
        store.add_decision(rid, stage="title_abstract", decision="yes", reviewer="ana")
    log = [e.action for e in store.audit_entries(review.id) if e.entity == "record"]
    assert log.count("decision.add") == 4 and log.count("decision.undo") == 2


def test_older_database_is_upgraded_without_losing_data(database_url):
    engine = create_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        schema.create_at(conn, 1)
        conn.execute(schema.users.insert().values(id=1, username="admin", display_name="admin",
                                                  role="admin", created_at=now, disabled=False))
        conn.execute(schema.reviews.insert().values(
            id=1, name="Old review", question="Q", inclusion_criteria="", exclusion_criteria="",
            settings={}, created_at=now, created_by=1))
        conn.execute(schema.import_batches.insert().values(
            id=1, review_id=1, filename="old.ris", format="ris", database_name="Scopus",
            search_date="", search_query="", sha256="d" * 64, size_bytes=1, record_count=1,
            imported_at=now, imported_by=1))
        conn.execute(schema.tables_at(1).tables["records"].insert().values(
            id=1, review_id=1, batch_id=1, position=1, source_id="", title="Kept title",
            authors=["Old, A."], journal="", volume="", issue="", pages="", doi="", pmid="",
            isbn="", issn="", abstract="", keywords=[], url="", fulltext_url="", publisher="",
            place_published="", record_type="journal article", language="", database="",
            accession="", notes="", extra={}, created_at=now))
    assert "duplicate_of" not in {c["name"] for c in inspect(engine).get_columns("records")}
    engine.dispose()

    store = Store(database_url)
    assert store.schema_version() == SCHEMA_VERSION
    kept = store.list_records(store.get_review("Old review").id)
    assert [(k.record.title, k.record.authors, k.duplicate_of) for k in kept] == [("Kept title", ["Old, A."], None)]
    inspector = inspect(store.engine)
    for table in schema.metadata.sorted_tables:
        assert {c["name"] for c in inspector.get_columns(table.name)} == {c.name for c in table.columns}
    with store.read() as conn:
        assert conn.execute(select(schema.meta.c.value)).scalar() == str(SCHEMA_VERSION)
    store.close()
    # opening again is a no-op
    assert Store(database_url).schema_version() == SCHEMA_VERSION


def test_newer_database_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    store = Store(url)
    with store.write() as conn:
        conn.execute(schema.meta.update().values(value=str(SCHEMA_VERSION + 5)))
    store.close()
    with pytest.raises(ReviewkitError, match="newer"):
        Store(url)


def test_default_url_uses_environment(monkeypatch, tmp_path):
    from reviewkit.store import default_database_url

    monkeypatch.delenv("REVIEWKIT_DATABASE_URL", raising=False)
    monkeypatch.setenv("REVIEWKIT_DATA_DIR", str(tmp_path))
    assert default_database_url() == f"sqlite:///{tmp_path / 'reviewkit.sqlite'}"
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", "postgresql://x@127.0.0.1/db")
    assert default_database_url() == "postgresql://x@127.0.0.1/db"


# The lengths version 3 gave the columns that version 4 made text.
_VERSION_3_LENGTHS = {
    "records": {"source_id": 200, "volume": 64, "issue": 64, "pages": 64, "isbn": 64,
                "issn": 64, "language": 64, "database": 200, "accession": 200},
    "import_batches": {"database_name": 200, "search_date": 32},
}


def test_upgrade_to_4_lets_long_values_in_where_version_3_refused_them(database_url):
    from sqlalchemy import text

    engine = create_engine(database_url)
    with engine.begin() as conn:
        schema.create_at(conn, 3)
        if conn.dialect.name == "postgresql":  # SQLite never enforced a length
            for table, lengths in _VERSION_3_LENGTHS.items():
                for column, length in lengths.items():
                    conn.execute(text(f'ALTER TABLE {table} ALTER COLUMN "{column}" '
                                      f"TYPE VARCHAR({length})"))
    engine.dispose()
    assert set(_VERSION_3_LENGTHS["records"]) == set(schema.WIDENED_IN_4["records"])

    store = Store(database_url)
    assert store.schema_version() == SCHEMA_VERSION
    review = store.create_review("Long values")
    long_issue = "Suppl. 2 " + "(Proceedings of the annual meeting) " * 5
    languages = "; ".join(["English", "French", "German", "Spanish", "Italian"] * 4)
    store.add_import(review.id, [Record(title="A", issue=long_issue, language=languages,
                                        volume="9" * 100, source_id="id" * 150)],
                     filename="long.ris", format="ris", sha256="e" * 64, size_bytes=1,
                     database_name="D" * 250, search_date="from 1 March 2024 to 3 March 2024")
    [stored] = store.list_records(review.id)
    assert (stored.record.issue, stored.record.language) == (long_issue, languages)
    assert stored.record.volume == "9" * 100 and stored.record.source_id == "id" * 150
    store.close()
