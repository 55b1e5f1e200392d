"""The database schema, its version, and the upgrades between versions.

Every table and every column added after the first release carries ``info={"since": N}``:
the schema version that introduced it.  A new database is built straight at the latest
version; an older one is brought forward one version at a time by creating the tables and
adding the columns that version introduced (plus any data step registered for it), each
version in its own transaction, so an upgrade never leaves a half-built schema behind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
    text,
)

SCHEMA_VERSION = 5

metadata = MetaData()


def _since(version: int) -> dict:
    return {"since": version}


meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(120), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False, default=""),
    # admin | researcher | peer_researcher | commissioner
    Column("role", String(32), nullable=False, default="researcher"),
    Column("password_hash", String(255)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(300), nullable=False, unique=True),
    Column("question", Text, nullable=False, default=""),
    Column("inclusion_criteria", Text, nullable=False, default=""),
    Column("exclusion_criteria", Text, nullable=False, default=""),
    # exclusion reasons, highlight keywords, blinding and other per-review choices
    Column("settings", JSON, nullable=False, default=dict),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
)

review_members = Table(
    "review_members",
    metadata,
    Column("review_id", Integer, ForeignKey("reviews.id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("role", String(32), nullable=False, default="researcher"),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

import_batches = Table(
    "import_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False, index=True),
    Column("filename", String(500), nullable=False),
    Column("format", String(32), nullable=False),
    # the bibliographic database searched ("Scopus", "PubMed"): PRISMA counts per source
    Column("database_name", Text, nullable=False, default=""),
    Column("search_date", Text, nullable=False, default=""),
    Column("search_query", Text, nullable=False, default=""),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False, default=0),
    Column("record_count", Integer, nullable=False, default=0),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("imported_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    # the update round the import belongs to: 0 (or NULL, before version 5) for the review's
    # first searches, then 1, 2, ... as rounds are started (review_rounds)
    Column("round_number", Integer, info=_since(5)),
    Index("ix_import_batches_review_sha", "review_id", "sha256"),
)

records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False),
    Column("batch_id", Integer, ForeignKey("import_batches.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),  # 1-based place in its file
    Column("source_id", Text, nullable=False, default=""),
    Column("title", Text, nullable=False, default=""),
    Column("authors", JSON, nullable=False, default=list),
    Column("year", Integer),
    Column("journal", Text, nullable=False, default=""),
    Column("volume", Text, nullable=False, default=""),
    Column("issue", Text, nullable=False, default=""),
    Column("pages", Text, nullable=False, default=""),
    Column("doi", String(300), nullable=False, default=""),
    Column("pmid", String(32), nullable=False, default=""),
    Column("isbn", Text, nullable=False, default=""),
    Column("issn", Text, nullable=False, default=""),
    Column("abstract", Text, nullable=False, default=""),
    Column("keywords", JSON, nullable=False, default=list),
    Column("url", Text, nullable=False, default=""),
    Column("fulltext_url", Text, nullable=False, default=""),
    Column("publisher", Text, nullable=False, default=""),
    Column("place_published", Text, nullable=False, default=""),
    Column("record_type", String(64), nullable=False, default="journal article"),
    Column("language", Text, nullable=False, default=""),
    Column("database", Text, nullable=False, default=""),
    Column("accession", Text, nullable=False, default=""),
    Column("notes", Text, nullable=False, default=""),
    Column("extra", JSON, nullable=False, default=dict),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    # deduplication: the record this one was merged into (NULL for a kept record)
    Column("duplicate_of", Integer, ForeignKey("records.id"), info=_since(2)),
    Index("ix_records_review", "review_id"),
    Index("ix_records_review_doi", "review_id", "doi"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False),
    Column("record_id", Integer, ForeignKey("records.id"), nullable=False),
    Column("stage", String(32), nullable=False),  # title_abstract | full_text
    Column("reviewer_id", Integer, ForeignKey("users.id"), nullable=False),
    # include | exclude | maybe | not_retrieved
    Column("decision", String(32), nullable=False),
    # vote: one reviewer's screening call; resolution: settles a conflict between reviewers
    Column("kind", String(16), nullable=False, default="vote"),
    Column("reason", Text, nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # a decision is never deleted: a change of mind marks it superseded, an undo marks it
    # undone (and brings back the one it had superseded)
    Column("superseded_at", DateTime(timezone=True)),
    Column("undone_at", DateTime(timezone=True)),
    Index("ix_decisions_record_stage", "record_id", "stage", "reviewer_id"),
    Index("ix_decisions_review_stage", "review_id", "stage"),
)

fulltexts = Table(
    "fulltexts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("record_id", Integer, ForeignKey("records.id"), nullable=False, index=True),
    Column("filename", String(500), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary),
    Column("text", Text, nullable=False, default=""),
    Column("attached_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("attached_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
)

codebooks = Table(
    "codebooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("content", JSON, nullable=False),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("review_id", "version"),
)

record_codes = Table(
    "record_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False),
    Column("record_id", Integer, ForeignKey("records.id"), nullable=False, index=True),
    Column("scheme", String(64), nullable=False),  # approach | outcome | domain | measure | design
    Column("code", String(120), nullable=False),
    Column("confidence", Float),
    Column("source", String(16), nullable=False, default="human"),  # auto | human
    Column("status", String(16), nullable=False, default="confirmed"),  # suggested | confirmed | rejected
    Column("direction", String(16), nullable=False, default=""),  # positive | mixed | none | negative
    Column("finding", Text, nullable=False, default=""),
    Column("coder_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("superseded_at", DateTime(timezone=True)),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("review_id", Integer, ForeignKey("reviews.id")),
    Column("action", String(64), nullable=False),  # e.g. import.create, decision.add
    Column("entity", String(64), nullable=False),
    Column("entity_id", String(64), nullable=False, default=""),
    Column("details", JSON, nullable=False, default=dict),
    Index("ix_audit_review_at", "review_id", "at"),
)

# Audit details that name rows by their database id, action by action: {detail key: table}.
# The id stands alone, in a list, or in a list of lists (the 'repointed' links that restoring
# a deleted import or record reads back).  Moving a review to another database
# (reviewkit.archive) rewrites them with the rows' new ids, so they must all be listed here;
# every other number in the details is a count.
_PAIR_IDS = {"left": "records", "right": "records"}
AUDIT_DETAIL_IDS: dict[str, dict[str, str]] = {
    "decision.add": {"decision_id": "decisions"},
    "decision.resolve": {"decision_id": "decisions"},
    **{f"dedup.{status}": _PAIR_IDS for status in ("same", "different", "skipped", "possible")},
    "dedup.unmerge": {"records": "records"},
    "screening.claim": {"taken_over_from": "users"},
    "screening.release": {"records": "records"},
    "coding.repoint": {"records": "records"},
    "import.delete": {"repointed": "records"},
    "record.delete": {"batch_id": "import_batches", "repointed": "records"},
    "fulltext.delete": {"record_id": "records"},
    "fulltext.restore": {"record_id": "records", "set_aside": "fulltexts"},
    "synthesis.direction": {"record_id": "records"},
    "synthesis.direction_clear": {"record_id": "records"},
    "synthesis.cell": {"studies": "records"},
}

duplicate_pairs = Table(
    "duplicate_pairs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False, index=True),
    Column("left_id", Integer, ForeignKey("records.id"), nullable=False),
    Column("right_id", Integer, ForeignKey("records.id"), nullable=False),
    Column("score", Float, nullable=False),
    Column("reasons", JSON, nullable=False, default=dict),
    # engine's call: duplicate | possible; a person's: same | different | skipped
    Column("status", String(16), nullable=False),
    Column("decided_by", Integer, ForeignKey("users.id")),
    Column("decided_at", DateTime(timezone=True)),
    info=_since(2),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("record_id", Integer, ForeignKey("records.id"), primary_key=True),
    Column("model", String(200), primary_key=True),
    Column("text_sha256", String(64), nullable=False),
    Column("vector", LargeBinary, nullable=False),
    info=_since(2),
)

library_entries = Table(
    "library_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(200), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("entry_type", String(64), nullable=False),
    Column("front_matter", JSON, nullable=False, default=dict),
    Column("body", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="pending"),  # pending | published | rejected | sent_back | withdrawn
    Column("visibility", String(16), nullable=False, default="team"),  # public | team
    Column("review_id", Integer, ForeignKey("reviews.id")),  # the team that owns a team-only entry
    Column("consent", JSON, nullable=False, default=dict),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True)),
    # What anonymising replaced, and why, for the moderator's diff: [{kind, original,
    # placeholder, reason, field}].  The originals are dropped once the story is published.
    Column("replacements", JSON, info=_since(4)),
    # The moderator's reason for sending a story back or not publishing it; the contributor
    # sees it.
    Column("decision_note", Text, info=_since(4)),
    # The story in the contributor's own words as last sent, before anonymising ({title,
    # story}): the moderator's diff is against it, and a contributor edits it to send a story
    # back in.  Dropped, like the originals above, once the story is published or turned down.
    Column("sent_text", JSON, info=_since(5)),
    info=_since(2),
)

# A half-written story, one per person, so the "share a story" form survives a page reload.
story_drafts = Table(
    "story_drafts",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("form", JSON, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    info=_since(4),
)


# Failed logins per account ("user:<name>") and per address ("address:<ip>"), kept in the
# database so that a reload, a second app process or the command line all count together.
login_throttle = Table(
    "login_throttle",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_failure_at", DateTime(timezone=True)),
    Column("locked_until", DateTime(timezone=True)),
    info=_since(4),
)


screening_assignments = Table(
    "screening_assignments",
    metadata,
    # When a review splits screening between reviewers, each record at a stage is handed to
    # one reviewer at a time: the primary key makes a second hand-out of the same record fail.
    Column("review_id", Integer, ForeignKey("reviews.id"), primary_key=True),
    Column("stage", String(32), primary_key=True),
    Column("record_id", Integer, ForeignKey("records.id"), primary_key=True),
    Column("reviewer_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    # an unanswered hand-out lapses, and the record can go to someone else
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_assignments_reviewer", "review_id", "stage", "reviewer_id"),
    info=_since(3),
)

# -- synthesis without meta-analysis (SWiM) and certainty, per approach x outcome ---------
# Rows are never updated in place: a change supersedes the standing row and adds a new one,
# so the history of every judgement stays, as for codes.  Approach and outcome are codebook
# slugs (as in record_codes).

effect_directions = Table(
    "effect_directions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False, index=True),
    Column("record_id", Integer, ForeignKey("records.id"), nullable=False, index=True),
    Column("approach", String(120), nullable=False),
    Column("outcome", String(120), nullable=False),
    # positive | negative | no_clear | mixed  (reviewkit.synthesis.DIRECTIONS)
    Column("direction", String(16), nullable=False),
    Column("sample_size", Integer),
    Column("design", String(120), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("recorded_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("superseded_at", DateTime(timezone=True)),
    info=_since(5),
)

synthesis_cells = Table(
    "synthesis_cells",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False, index=True),
    Column("approach", String(120), nullable=False),
    Column("outcome", String(120), nullable=False),
    Column("grouping", Text, nullable=False, default=""),
    Column("grouping_reason", Text, nullable=False, default=""),
    Column("summary", Text, nullable=False, default=""),
    Column("written_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("written_at", DateTime(timezone=True), nullable=False),
    Column("superseded_at", DateTime(timezone=True)),
    info=_since(5),
)

# The studies a cell's narrative summary rests on (one row each, so archives re-point them).
synthesis_cell_studies = Table(
    "synthesis_cell_studies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cell_id", Integer, ForeignKey("synthesis_cells.id"), nullable=False, index=True),
    Column("record_id", Integer, ForeignKey("records.id"), nullable=False),
    info=_since(5),
)

certainty_ratings = Table(
    "certainty_ratings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False, index=True),
    Column("approach", String(120), nullable=False),
    Column("outcome", String(120), nullable=False),
    Column("framework", String(16), nullable=False),  # grade | cerqual
    Column("level", String(16), nullable=False),  # high | moderate | low | very_low
    Column("finding", Text, nullable=False, default=""),  # the statement rated
    # {domain: {"concern": "none|minor|serious|very_serious", "reason": text}}
    Column("concerns", JSON, nullable=False, default=dict),
    Column("rated_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("rated_at", DateTime(timezone=True), nullable=False),
    Column("verified_by", Integer, ForeignKey("users.id")),
    Column("verified_at", DateTime(timezone=True)),
    Column("superseded_at", DateTime(timezone=True)),
    info=_since(5),
)


# A review kept up to date runs update rounds: re-run searches imported after a round starts
# belong to it (import_batches.round_number).  Round 0, the first version, has no row.
review_rounds = Table(
    "review_rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False),
    Column("number", Integer, nullable=False),  # 1, 2, ...
    Column("label", Text, nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("started_by", Integer, ForeignKey("users.id"), nullable=False),
    UniqueConstraint("review_id", "number"),
    info=_since(5),
)


# The search behind each import, as PRISMA-S asks it to be reported: how the records were
# found (a database, a register, a website, citation searching or another method), where,
# when, with which exact search string and limits, and by whom.  One row per import, written
# when someone records or edits it; an import without a row is reported from the database
# name, date and query stored with the import itself.
search_records = Table(
    "search_records",
    metadata,
    Column("batch_id", Integer, ForeignKey("import_batches.id"), primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False, index=True),
    # database | register | website | citation searching | other
    Column("method", String(32), nullable=False, default="database"),
    Column("database", Text, nullable=False, default=""),
    Column("platform", Text, nullable=False, default=""),  # interface or host: Ovid, EBSCOhost
    Column("date_searched", Text, nullable=False, default=""),
    Column("search_string", Text, nullable=False, default=""),
    Column("limits", Text, nullable=False, default=""),  # limits and filters applied
    Column("run_by", Text, nullable=False, default=""),
    Column("notes", Text, nullable=False, default=""),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", Integer, ForeignKey("users.id"), nullable=False),
    info=_since(5),
)


# Rapid-review screening: two reviewers screen the same random sample of records (a
# calibration round) until they agree well enough; the round's figures are kept as they stood
# when it closed, for the methods text and PRISMA.
calibration_rounds = Table(
    "calibration_rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False),
    Column("stage", String(32), nullable=False),
    Column("number", Integer, nullable=False),  # 1, 2, ... within the review and stage
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("records", Integer),  # records both reviewers screened, when it closed
    Column("agreed", Integer),
    Column("kappa", Float),
    Column("ac1", Float),
    Column("passed", Boolean),  # met the lead's kappa and agreement thresholds
    Column("thresholds", JSON),  # {"kappa": .., "agreement": ..} the round was judged by
    UniqueConstraint("review_id", "stage", "number", name="uq_calibration_round"),
    info=_since(5),
)

calibration_samples = Table(
    "calibration_samples",
    metadata,
    Column("round_id", Integer, ForeignKey("calibration_rounds.id"), primary_key=True),
    Column("record_id", Integer, ForeignKey("records.id"), primary_key=True),
    info=_since(5),
)


# -- extraction and quality appraisal (version 5) --------------------------------------------

# A review's data-extraction form: its fields (key, label, kind text | number | choice |
# multi_choice, per study | per outcome, options, help) and how extraction is checked
# ("verify": one extracts, a second verifies; "reconcile": two extract, then agree one value).
# One row per review, changed in place; every change is in the audit log.
extraction_forms = Table(
    "extraction_forms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False, unique=True),
    Column("fields", JSON, nullable=False, default=list),
    Column("workflow", String(16), nullable=False, default="verify"),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    info=_since(5),
)

# One extracted value: a study's (record's) field, for one outcome where the field is per
# outcome ("" otherwise), as typed by one person.  'extraction' rows are each extractor's own;
# a 'consensus' row is the agreed value (a verifier's correction, or two extractors
# reconciled).  A change never overwrites: the old row is marked superseded.
extraction_values = Table(
    "extraction_values",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False),
    Column("record_id", Integer, ForeignKey("records.id"), nullable=False),
    Column("field", String(120), nullable=False),
    Column("outcome", String(120), nullable=False, default=""),
    Column("kind", String(16), nullable=False, default="extraction"),  # extraction | consensus
    Column("value", JSON),  # text, a number, or a list of chosen options
    Column("status", String(16), nullable=False, default="draft"),  # draft | done | verified
    Column("entered_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False),
    Column("verified_by", Integer, ForeignKey("users.id")),
    Column("verified_at", DateTime(timezone=True)),
    Column("superseded_at", DateTime(timezone=True)),
    Index("ix_extraction_values_record", "review_id", "record_id"),
    info=_since(5),
)

# Appraisal tools a review's lead wrote for the review (the built-in ones live in code):
# the definition is the tool as plain data (key, name, designs, criteria with help).
appraisal_tools = Table(
    "appraisal_tools",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False),
    Column("key", String(64), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("created_by", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("superseded_at", DateTime(timezone=True)),
    Index("ix_appraisal_tools_review", "review_id", "key"),
    info=_since(5),
)

# One person's appraisal of one study (for one outcome where it matters, "" otherwise) with
# one tool: the design category it was appraised as, an answer per criterion (yes | no |
# cant_tell, plus notes), and an overall judgement in words.  'consensus' rows are what two
# appraisers agreed; a verifier's check sets verified_by.  Changes supersede, never overwrite.
appraisals = Table(
    "appraisals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("review_id", Integer, ForeignKey("reviews.id"), nullable=False),
    Column("record_id", Integer, ForeignKey("records.id"), nullable=False),
    Column("tool", String(64), nullable=False),
    Column("design", String(64), nullable=False, default=""),
    Column("outcome", String(120), nullable=False, default=""),
    Column("kind", String(16), nullable=False, default="appraisal"),  # appraisal | consensus
    Column("answers", JSON, nullable=False, default=dict),
    Column("notes", JSON, nullable=False, default=dict),
    Column("overall", Text, nullable=False, default=""),
    Column("status", String(16), nullable=False, default="draft"),  # draft | done | verified
    Column("appraiser_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("appraised_at", DateTime(timezone=True), nullable=False),
    Column("verified_by", Integer, ForeignKey("users.id")),
    Column("verified_at", DateTime(timezone=True)),
    Column("superseded_at", DateTime(timezone=True)),
    Index("ix_appraisals_record", "review_id", "record_id"),
    info=_since(5),
)


def _table_since(table: Table) -> int:
    return table.info.get("since", 1)


def _column_since(column: Column) -> int:
    return column.info.get("since", _table_since(column.table))


def tables_at(version: int) -> MetaData:
    """Return a MetaData holding the schema exactly as it stood at ``version``."""
    shaped = MetaData()
    for table in metadata.sorted_tables:
        if _table_since(table) > version:
            continue
        columns = []
        for original in table.columns:
            if _column_since(original) <= version:
                copy = original._copy()
                # indexes and unique constraints are copied below, once each
                copy.index = copy.unique = None
                columns.append(copy)
        kept = {c.name for c in columns}
        extras = []
        for item in table.indexes:
            if all(c.name in kept for c in item.columns):
                extras.append(Index(item.name, *[c.name for c in item.columns], unique=item.unique))
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint) and all(c.name in kept for c in constraint.columns):
                extras.append(UniqueConstraint(*[c.name for c in constraint.columns]))
        Table(table.name, shaped, *columns, *extras)
    return shaped


def _one_current_vote(conn: Connection) -> None:
    """Version 3: at most one standing decision per record, stage, reviewer and kind.

    Two browser tabs or two processes saving at the same instant could otherwise both leave a
    decision standing.  Older databases may hold such pairs already: the older of each pair is
    marked superseded first (nothing is deleted), then a partial unique index guards the rule.
    """
    d = decisions
    standing = select(d.c.id, d.c.record_id, d.c.stage, d.c.reviewer_id, d.c.kind,
                      d.c.created_at).where(d.c.superseded_at.is_(None)).order_by(d.c.id)
    latest: dict[tuple, int] = {}
    older: list[tuple[int, object]] = []
    for row in conn.execute(standing):
        key = (row.record_id, row.stage, row.reviewer_id, row.kind)
        if key in latest:
            older.append((latest[key], row.created_at))
        latest[key] = row.id
    for decision_id, when in older:
        conn.execute(d.update().where(d.c.id == decision_id).values(superseded_at=when))
    CURRENT_VOTE_INDEX.create(conn)


# Indexes that need a WHERE clause live outside the table definitions (tables_at copies plain
# indexes only); they are made by the data step of the version that introduced them.
CURRENT_VOTE_INDEX = Index(
    "ux_decisions_current", decisions.c.record_id, decisions.c.stage, decisions.c.reviewer_id,
    decisions.c.kind, unique=True,
    sqlite_where=decisions.c.superseded_at.is_(None),
    postgresql_where=decisions.c.superseded_at.is_(None),
)
decisions.indexes.discard(CURRENT_VOTE_INDEX)

# Columns that were String(n) up to version 3 and are unbounded text from version 4, because
# real exports hold longer values (issue "Suppl. 2, Proceedings of ...", ten languages, long
# accession lists).  SQLite never enforced the lengths; PostgreSQL did.
WIDENED_IN_4 = {
    "records": ("source_id", "volume", "issue", "pages", "isbn", "issn", "language",
                "database", "accession"),
    "import_batches": ("database_name", "search_date"),
}


def _widen_text_columns(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return  # SQLite keeps any length in any text column
    preparer = conn.dialect.identifier_preparer
    for table, columns in WIDENED_IN_4.items():
        for column in columns:
            conn.execute(text(f"ALTER TABLE {preparer.quote(table)} ALTER COLUMN "
                              f"{preparer.quote(column)} TYPE TEXT"))


# The same file (by its bytes) is stored at most once per review among live imports: two
# imports of it at the same moment cannot both commit.  A deleted import does not count, so a
# file can be imported afresh after its import was deleted.
LIVE_IMPORT_INDEX = Index(
    "ux_import_batches_live_file", import_batches.c.review_id, import_batches.c.sha256,
    unique=True,
    sqlite_where=import_batches.c.deleted_at.is_(None),
    postgresql_where=import_batches.c.deleted_at.is_(None),
)
import_batches.indexes.discard(LIVE_IMPORT_INDEX)


def _one_live_import_per_file(conn: Connection) -> None:
    """Version 4: the unique index above.  A database that already holds the same file twice
    (imported at the same instant by an older version) keeps the first; the later copies are
    marked deleted, so they stay restorable from the deleted items."""
    b = import_batches
    seen: set[tuple[int, str]] = set()
    now = datetime.now(UTC)
    for row in conn.execute(select(b.c.id, b.c.review_id, b.c.sha256)
                            .where(b.c.deleted_at.is_(None)).order_by(b.c.id)):
        key = (row.review_id, row.sha256)
        if key in seen:
            conn.execute(b.update().where(b.c.id == row.id).values(deleted_at=now))
            conn.execute(records.update().where(records.c.batch_id == row.id,
                                                records.c.deleted_at.is_(None))
                         .values(deleted_at=now))
        seen.add(key)
    LIVE_IMPORT_INDEX.create(conn)


# Version 4: the ids of a review's kept records (what the Screen page reads on every run)
# come from this index alone, without visiting the wide record rows (10,000 records: ten
# times quicker on SQLite).
KEPT_RECORDS_INDEX = Index("ix_records_kept", records.c.review_id, records.c.duplicate_of,
                           records.c.deleted_at, records.c.id)
records.indexes.discard(KEPT_RECORDS_INDEX)


def _version_4(conn: Connection) -> None:
    _widen_text_columns(conn)
    _one_live_import_per_file(conn)
    KEPT_RECORDS_INDEX.create(conn)


def _standing_index(name: str, table: Table, *columns: str) -> Index:
    """A unique index over the rows not yet superseded (made by the version-5 data step)."""
    index = Index(name, *[table.c[c] for c in columns], unique=True,
                  sqlite_where=table.c.superseded_at.is_(None),
                  postgresql_where=table.c.superseded_at.is_(None))
    table.indexes.discard(index)
    return index


# Version 5: at most one standing direction per study and cell, one standing synthesis text
# and one standing certainty rating per cell, even when two people save at the same instant.
STANDING_SYNTHESIS_INDEXES = (
    _standing_index("ux_effect_directions_standing", effect_directions, "review_id",
                    "record_id", "approach", "outcome"),
    _standing_index("ux_synthesis_cells_standing", synthesis_cells, "review_id", "approach",
                    "outcome"),
    _standing_index("ux_certainty_ratings_standing", certainty_ratings, "review_id",
                    "approach", "outcome"),
)


def _version_5(conn: Connection) -> None:
    for index in STANDING_SYNTHESIS_INDEXES:
        index.create(conn)


# Data steps that a version needs beyond new tables and columns: {version: fn(conn)}.
DATA_STEPS: dict[int, Callable[[Connection], None]] = {3: _one_current_vote, 4: _version_4,
                                                       5: _version_5}


def stored_version(conn: Connection) -> int:
    """Return the schema version recorded in the database (0 for an empty database)."""
    if not inspect(conn).has_table("meta"):
        return 0
    value = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
    return int(value) if value is not None else 0


def _set_version(conn: Connection, version: int) -> None:
    updated = conn.execute(
        meta.update().where(meta.c.key == "schema_version").values(value=str(version))
    )
    if updated.rowcount == 0:
        conn.execute(meta.insert().values(key="schema_version", value=str(version)))


def _add_column(conn: Connection, column: Column) -> None:
    copy = column._copy()
    col_type = copy.type.compile(dialect=conn.dialect)
    preparer = conn.dialect.identifier_preparer
    conn.execute(text(
        f"ALTER TABLE {preparer.quote(column.table.name)} "
        f"ADD COLUMN {preparer.quote(column.name)} {col_type}"
    ))


def upgrade_step(conn: Connection, target: int) -> None:
    """Bring a database at ``target - 1`` to ``target`` (the caller owns the transaction)."""
    new_tables = [t for t in tables_at(target).sorted_tables if _table_since(metadata.tables[t.name]) == target]
    for table in new_tables:
        table.create(conn)
    for table in metadata.sorted_tables:
        if _table_since(table) >= target:
            continue
        for column in table.columns:
            if _column_since(column) == target:
                _add_column(conn, column)
    if target in DATA_STEPS:
        DATA_STEPS[target](conn)
    _set_version(conn, target)


def create_at(conn: Connection, version: int) -> None:
    """Create an empty schema exactly as it stood at ``version`` (new databases, and tests)."""
    tables_at(version).create_all(conn)
    for step_version, step in sorted(DATA_STEPS.items()):
        if step_version <= version:
            step(conn)
    _set_version(conn, version)
