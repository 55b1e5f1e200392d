"""Back up a whole review as one zip archive, and bring it into another reviewkit database.

An archive holds every row that belongs to one review: the review itself, every table whose
foreign keys lead back to it (records, decisions, full texts with their files, codes, ...),
the review's own library entries and audit lines, and the accounts those rows point at (by
user name; password hashes never leave the database).  Which tables and columns to carry is
read from the schema's foreign keys, so a table or column added later travels without new
code here.

Layout of the zip::

    manifest.json            format and schema version, the review, who made it and when,
                             per table its row count and columns, per member size and SHA-256
    tables/<table>.jsonl     one JSON object per row, ordered by primary key
    files/<sha256>           binary values too large to sit inside a row (PDFs)

Rows keep the ids of the database they came from.  On import every surrogate id is given
anew by the target database, rows are inserted in their original order (so "older" and
"newer" keep their meaning), and every foreign key is pointed at the new ids.  The whole
import is one transaction: an archive that fails any check leaves the target untouched.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Date,
    DateTime,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)

from reviewkit.errors import ReviewkitError
from reviewkit.store import Review, Store, people
from reviewkit.store import archive as archive_rows
from reviewkit.store.schema import (
    AUDIT_DETAIL_IDS,
    SCHEMA_VERSION,
    audit_log,
    library_entries,
    metadata,
    records,
    review_members,
    reviews,
    users,
)

__all__ = [
    "ARCHIVE_FORMAT",
    "FORMAT_VERSION",
    "ArchiveError",
    "ArchiveLimits",
    "ArchiveSummary",
    "archive_counts",
    "export_review",
    "import_review",
    "read_manifest",
]

ARCHIVE_FORMAT = "reviewkit review archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TABLES_DIR = "tables"
FILES_DIR = "files"
# Binary values up to this size sit in their row as base64; larger ones get their own member.
INLINE_BINARY_BYTES = 4096
# Columns that never leave the database.
SECRET_COLUMNS = frozenset({"password_hash"})
PASSWORD_NOTE = ("Password hashes are not exported. Accounts created by an import have no "
                 "password: an admin sets one before they can log in.")
IMPORT_ACTION = "review.import_archive"
EXPORT_ACTION = "review.export_archive"

_SAFE_PART = re.compile(r"^[A-Za-z0-9._-]+$")


class ArchiveError(ReviewkitError):
    """An archive was refused; the message names the archive and what is wrong with it."""

    def __init__(self, archive: str, problem: str):
        self.archive = archive
        self.problem = problem
        super().__init__(f"{archive}: {problem} Nothing was imported.")


@dataclass(frozen=True)
class ArchiveLimits:
    """Sizes an archive may not pass when unpacked (guards against zip bombs)."""

    max_members: int = 100_000
    max_member_bytes: int = 1024 * 1024 * 1024
    max_total_bytes: int = 4 * 1024 * 1024 * 1024
    max_manifest_bytes: int = 16 * 1024 * 1024
    # Members larger than ratio_from_bytes may unpack to at most max_ratio times their size.
    max_ratio: int = 200
    ratio_from_bytes: int = 1024 * 1024


DEFAULT_LIMITS = ArchiveLimits()


@dataclass(frozen=True)
class ArchiveSummary:
    """What an archive holds, read from its manifest."""

    review_name: str
    schema_version: int
    format_version: int
    created_at: str
    created_by: str
    rows: dict[str, int]


# -- which tables belong to a review ------------------------------------------------------


def _exported_columns(table: Table) -> list[Column]:
    return [c for c in table.columns if c.name not in SECRET_COLUMNS]


# -- values to and from JSON --------------------------------------------------------------


def _as_utc(value: datetime) -> datetime:
    # SQLite gives back the stored wall-clock time without an offset; reviewkit writes UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class _Blobs:
    """Binary values of an export: small ones inline, large ones as members by content."""

    def __init__(self):
        self.members: dict[str, bytes] = {}

    def encode(self, data: bytes) -> dict:
        if len(data) <= INLINE_BINARY_BYTES:
            return {"base64": base64.b64encode(data).decode("ascii")}
        name = f"{FILES_DIR}/{hashlib.sha256(data).hexdigest()}"
        self.members[name] = bytes(data)
        return {"file": name}


def _to_json(column: Column, value, blobs: _Blobs):
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        return _as_utc(value).isoformat()
    if isinstance(column.type, Date):
        return value.isoformat()
    if isinstance(column.type, LargeBinary):
        return blobs.encode(value)
    return value


def _from_json(column: Column, value, files: dict[str, bytes], where: str, archive: str):
    if value is None:
        return None
    try:
        if isinstance(column.type, DateTime):
            parsed = datetime.fromisoformat(value)
            # stored as UTC everywhere, so a SQLite target keeps the right instant
            return _as_utc(parsed).astimezone(UTC)
        if isinstance(column.type, Date):
            return date.fromisoformat(value)
        if isinstance(column.type, LargeBinary):
            if "file" in value:
                if value["file"] not in files:
                    raise ArchiveError(archive, f"{where} refers to '{value['file']}', which "
                                                "the archive does not hold.")
                return files[value["file"]]
            return base64.b64decode(value["base64"], validate=True)
    except (TypeError, ValueError, KeyError) as exc:
        raise ArchiveError(archive, f"{where}: the value of '{column.name}' cannot be read "
                                    f"({exc}).") from None
    return value


# -- export -------------------------------------------------------------------------------


def _reviewkit_version() -> str:
    try:
        from importlib.metadata import version

        return version("reviewkit")
    except Exception:  # noqa: BLE001 - a source checkout without installed metadata
        return "unknown"


def _map_ids(value, change):
    """An audit detail (one id, a list of them, or a list of lists) with each id changed."""
    if isinstance(value, list):
        return [_map_ids(item, change) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return change(value)
    return value  # None, or anything else that is not an id


def _jsonl(table: Table, rows: list, blobs: _Blobs) -> bytes:
    columns = _exported_columns(table)
    lines = []
    for row in rows:
        values = row._mapping
        item = {c.name: _to_json(c, values[c.name], blobs) for c in columns}
        lines.append(json.dumps(item, ensure_ascii=False, sort_keys=True))
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def export_review(store: Store, review_id: int, *, actor: str) -> bytes:
    """Return one review, with everything that belongs to it, as the bytes of a zip archive."""
    actor_user = store.ensure_user(actor)
    with store.read() as conn:
        found = archive_rows.dump_rows(conn, review_id)
    review_name = found[reviews.name][0].name
    created_at = datetime.now(UTC)
    blobs = _Blobs()
    members: dict[str, bytes] = {}
    tables: dict[str, dict] = {}
    for name, rows in found.items():
        table = metadata.tables[name]
        member = f"{TABLES_DIR}/{name}.jsonl"
        members[member] = _jsonl(table, rows, blobs)
        tables[name] = {"member": member, "rows": len(rows),
                        "columns": [c.name for c in _exported_columns(table)]}
    members.update(blobs.members)
    manifest = {
        "format": ARCHIVE_FORMAT,
        "format_version": FORMAT_VERSION,
        "schema_version": SCHEMA_VERSION,
        "reviewkit_version": _reviewkit_version(),
        "review": {"name": review_name, "id": review_id},
        "created_at": created_at.isoformat(),
        "created_by": actor_user.username,
        "source_database": store.engine.dialect.name,
        "passwords": PASSWORD_NOTE,
        "tables": tables,
        "members": {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                    for name, data in sorted(members.items())},
    }
    stamp = created_at.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False)
                            .encode("utf-8")), *sorted(members.items())]:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    data = buffer.getvalue()
    with store.write() as conn:
        store.audit(conn, actor_id=actor_user.id, action=EXPORT_ACTION, entity="review",
                    entity_id=review_id, review_id=review_id,
                    details={"rows": {name: t["rows"] for name, t in tables.items()},
                             "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return data


# -- reading and checking an archive ------------------------------------------------------


def _check_member_name(name: str, archive: str) -> None:
    if name.startswith(("/", "\\")) or "\\" in name or re.match(r"^[A-Za-z]:", name):
        raise ArchiveError(archive, f"the member '{name}' has an absolute or Windows path.")
    parts = name.split("/")
    if any(p in ("", ".", "..") or not _SAFE_PART.match(p) for p in parts):
        raise ArchiveError(archive, f"the member name '{name}' is not allowed (only plain "
                                    "names inside the archive, no '..').")


def _member_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, archive: str
                   ) -> Iterator[bytes]:
    """Unpack one member a megabyte at a time, never more than its header declares or
    ``limit`` allows."""
    if info.file_size > limit:
        raise ArchiveError(archive, f"the member '{info.filename}' would unpack to "
                                    f"{info.file_size:,} bytes, over the limit of {limit:,}.")
    total = 0
    try:
        with zf.open(info) as handle:
            while True:
                chunk = handle.read(1024 * 1024)
                if not chunk:
                    break
                total += len(chunk)
                if total > info.file_size:
                    raise ArchiveError(archive, f"the member '{info.filename}' unpacks to more "
                                                "than its header declares (a possible zip bomb).")
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ArchiveError(archive, f"the member '{info.filename}' is damaged ({exc}).") from None


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, archive: str) -> bytes:
    """Read one member whole (see :func:`_member_chunks` for the limits)."""
    return b"".join(_member_chunks(zf, info, limit, archive))


def _open_zip(data: bytes, archive: str, limits: ArchiveLimits
              ) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError):
        raise ArchiveError(archive, "this is not a readable zip archive (is it truncated or "
                                    "another kind of file?).") from None
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > limits.max_members:
        raise ArchiveError(archive, f"it holds {len(infos):,} members; the limit is "
                                    f"{limits.max_members:,}.")
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        _check_member_name(info.filename, archive)
        if info.filename in by_name:
            raise ArchiveError(archive, f"the member '{info.filename}' appears twice.")
        by_name[info.filename] = info
    total = sum(i.file_size for i in infos)
    if total > limits.max_total_bytes:
        raise ArchiveError(archive, f"it would unpack to {total:,} bytes, over the limit of "
                                    f"{limits.max_total_bytes:,}.")
    for info in infos:
        # Real rows and PDFs shrink a few times at most; a member that unpacks to hundreds of
        # times its packed size is padding (a zip bomb), refused before anything is unpacked.
        if info.file_size > limits.ratio_from_bytes and \
                info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise ArchiveError(archive, f"the member '{info.filename}' would unpack to "
                                        f"{info.file_size:,} bytes from {info.compress_size:,}: "
                                        "far more than real content compresses (a possible zip "
                                        "bomb).")
    return zf, by_name


def _parse_manifest(zf, by_name, archive: str, limits: ArchiveLimits) -> dict:
    if MANIFEST not in by_name:
        raise ArchiveError(archive, f"it has no {MANIFEST}; it is not a reviewkit review archive.")
    raw = _read_member(zf, by_name[MANIFEST], limits.max_manifest_bytes, archive)
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArchiveError(archive, f"{MANIFEST} is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        raise ArchiveError(archive, f"{MANIFEST} does not describe a reviewkit review archive.")
    for key, kind in (("format_version", int), ("schema_version", int), ("tables", dict),
                      ("members", dict), ("review", dict)):
        if not isinstance(manifest.get(key), kind):
            raise ArchiveError(archive, f"{MANIFEST} lacks a valid '{key}'.")
    if manifest["format_version"] > FORMAT_VERSION:
        raise ArchiveError(archive, f"it uses archive format {manifest['format_version']}, newer "
                                    f"than this reviewkit reads ({FORMAT_VERSION}). Upgrade "
                                    "reviewkit to import it.")
    if manifest["schema_version"] > SCHEMA_VERSION:
        raise ArchiveError(archive, f"it was made by a reviewkit with schema version "
                                    f"{manifest['schema_version']}, newer than this one "
                                    f"({SCHEMA_VERSION}). Upgrade reviewkit to import it.")
    return manifest


def read_manifest(data: bytes, *, filename: str = "archive.zip",
                  limits: ArchiveLimits = DEFAULT_LIMITS) -> ArchiveSummary:
    """Return what an archive says it holds, after checking its manifest (not its rows)."""
    zf, by_name = _open_zip(data, filename, limits)
    manifest = _parse_manifest(zf, by_name, filename, limits)
    return ArchiveSummary(
        review_name=str(manifest["review"].get("name", "")),
        schema_version=manifest["schema_version"], format_version=manifest["format_version"],
        created_at=str(manifest.get("created_at", "")), created_by=str(manifest.get("created_by", "")),
        rows={name: int(t.get("rows", 0)) for name, t in manifest["tables"].items()})


class _Members(Mapping):
    """The archive's listed members under ``prefix``, each read (and size-checked) only when
    asked for, so at most one member's bytes are in memory at a time."""

    def __init__(self, zf: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], listed: dict,
                 archive: str, limits: ArchiveLimits, prefix: str = ""):
        self._zf, self._by_name, self._archive, self._limits = zf, by_name, archive, limits
        self._sizes = {name: entry["bytes"] for name, entry in listed.items()
                       if name.startswith(prefix)}

    def __getitem__(self, name: str) -> bytes:
        if name not in self._sizes:
            raise KeyError(name)
        limit = min(self._limits.max_member_bytes, self._sizes[name])
        return _read_member(self._zf, self._by_name[name], limit, self._archive)

    def __iter__(self):
        return iter(self._sizes)

    def __len__(self) -> int:
        return len(self._sizes)


def _verified_members(zf, by_name, manifest: dict, archive: str, limits: ArchiveLimits
                      ) -> _Members:
    """Check every member against the manifest's size and SHA-256, streaming each through the
    hash without keeping it; return the members, to be read one at a time afterwards."""
    listed = manifest["members"]
    unlisted = sorted(set(by_name) - set(listed) - {MANIFEST})
    if unlisted:
        raise ArchiveError(archive, f"the member '{unlisted[0]}' is not listed in {MANIFEST}.")
    for name, expected in sorted(listed.items()):
        _check_member_name(name, archive)
        if name not in by_name:
            raise ArchiveError(archive, f"the member '{name}' listed in {MANIFEST} is missing.")
        if not isinstance(expected, dict) or not isinstance(expected.get("bytes"), int):
            raise ArchiveError(archive, f"{MANIFEST} gives no size for '{name}'.")
        if by_name[name].file_size != expected["bytes"]:
            raise ArchiveError(archive, f"the member '{name}' is {by_name[name].file_size:,} "
                                        f"bytes, but {MANIFEST} says {expected['bytes']:,}.")
        digest = hashlib.sha256()
        limit = min(limits.max_member_bytes, expected["bytes"])
        for chunk in _member_chunks(zf, by_name[name], limit, archive):
            digest.update(chunk)
        if digest.hexdigest() != expected.get("sha256"):
            raise ArchiveError(archive, f"the checksum of '{name}' does not match {MANIFEST}: "
                                        "the archive was changed or damaged.")
    return _Members(zf, by_name, listed, archive, limits)


def _parse_tables(manifest: dict, contents: dict[str, bytes], archive: str
                  ) -> dict[str, list[dict]]:
    """Turn each table's JSON lines into row dicts, checking tables, columns and counts."""
    carried = {reviews.name, users.name} | {t.name for t in archive_rows.review_tables()}
    parsed: dict[str, list[dict]] = {}
    for name, entry in manifest["tables"].items():
        if name not in carried:
            raise ArchiveError(archive, f"it holds a table '{name}' that this reviewkit does "
                                        "not keep per review.")
        table = metadata.tables[name]
        columns = entry.get("columns") if isinstance(entry, dict) else None
        if not isinstance(columns, list):
            raise ArchiveError(archive, f"{MANIFEST} lists no columns for '{name}'.")
        unknown = sorted(set(columns) - {c.name for c in _exported_columns(table)})
        if unknown:
            raise ArchiveError(archive, f"table '{name}' has columns this reviewkit does not "
                                        f"know: {', '.join(unknown)}.")
        member = entry.get("member")
        if member not in contents:
            raise ArchiveError(archive, f"the rows of '{name}' ({member}) are missing.")
        rows = []
        text = contents[member].decode("utf-8", errors="strict")
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ArchiveError(archive, f"{member} line {number} is not valid JSON "
                                            f"({exc.msg}).") from None
            if not isinstance(row, dict) or set(row) != set(columns):
                raise ArchiveError(archive, f"{member} line {number} does not have the "
                                            "columns the manifest lists.")
            rows.append(row)
        if len(rows) != entry.get("rows"):
            raise ArchiveError(archive, f"'{name}' has {len(rows)} rows, but {MANIFEST} says "
                                        f"{entry.get('rows')}.")
        parsed[name] = rows
    if len(parsed.get(reviews.name, [])) != 1:
        raise ArchiveError(archive, "it does not hold exactly one review.")
    return parsed


# -- import -------------------------------------------------------------------------------


def _unique_text_columns(table: Table) -> list[Column]:
    found = [c for c in table.columns if c.unique and not c.primary_key]
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and len(constraint.columns) == 1:
            found.extend(constraint.columns)
    return [c for c in dict.fromkeys(found) if isinstance(c.type, String)]


def _entity_table(entity: str) -> str | None:
    """The table an audit line's entity names ('record' -> records), if there is one."""
    for name in (f"{entity}s", f"{entity}es", f"{entity[:-1]}ies" if entity.endswith("y") else ""):
        if name in metadata.tables:
            return name
    return None


class _Importer:
    """Writes one parsed archive into a database inside the caller's transaction."""

    def __init__(self, conn: Connection, tables: dict[str, list[dict]], files: dict[str, bytes],
                 archive: str):
        self.conn = conn
        self.tables = tables
        self.files = files
        self.archive = archive
        self.ids: dict[str, dict[int, int]] = {}
        self.users_created: list[str] = []
        self.renamed: dict[str, dict[str, str]] = {}

    def value(self, table: Table, row: dict, column: Column, number: int):
        where = f"{TABLES_DIR}/{table.name}.jsonl row {number}"
        return _from_json(column, row[column.name], self.files, where, self.archive)

    def new_id(self, target: Table, old, table: Table, column: Column, number: int):
        if old is None:
            return None
        found = self.ids.get(target.name, {}).get(old)
        if found is None:
            raise ArchiveError(self.archive, f"{TABLES_DIR}/{table.name}.jsonl row {number}: "
                                             f"'{column.name}' points at {target.name} {old}, "
                                             "which the archive does not hold.")
        return found

    def import_users(self) -> None:
        known = {}
        for number, row in enumerate(self.tables.get(users.name, []), start=1):
            name = row["username"]
            existing = people.user_id(self.conn, name)
            if existing is None:
                values = {c.name: self.value(users, row, c, number)
                          for c in _exported_columns(users)
                          if c.name in row and c is not users.c.id}
                existing = archive_rows.insert_row(self.conn, users, values)
                self.users_created.append(name)
            known[row["id"]] = existing
        self.ids[users.name] = known

    def import_review_row(self, name: str) -> int:
        row = self.tables[reviews.name][0]
        values = {c.name: self.value(reviews, row, c, 1) for c in reviews.columns
                  if c.name in row and c is not reviews.c.id}
        values["name"] = name
        for column, target in archive_rows.fk_columns(reviews):
            values[column.name] = self.new_id(target, row[column.name], reviews, column, 1)
        new = archive_rows.insert_row(self.conn, reviews, values)
        self.ids[reviews.name] = {row["id"]: new}
        return new

    def _free_text(self, table: Table, column: Column, wanted: str, taken: set[str]) -> str:
        candidate, number = wanted, 2
        while candidate in taken or archive_rows.name_taken(self.conn, column, candidate):
            candidate, number = f"{wanted}-{number}", number + 1
        taken.add(candidate)
        if candidate != wanted:
            self.renamed.setdefault(f"{table.name}.{column.name}", {})[wanted] = candidate
        return candidate

    def import_table(self, table: Table) -> None:
        rows = self.tables.get(table.name, [])
        if not rows:
            self.ids[table.name] = {}
            return
        key = archive_rows.surrogate_key(table)
        fks = archive_rows.fk_columns(table)
        later = [(c, t) for c, t in fks if t is table]
        unique = _unique_text_columns(table)
        taken: dict[str, set[str]] = {c.name: set() for c in unique}
        prepared = []
        for number, row in enumerate(rows, start=1):
            values = {c.name: self.value(table, row, c, number) for c in table.columns
                      if c.name in row and c is not key}
            new_fk = {}
            for column, target in fks:
                if target is not table:
                    new_fk[column.name] = self.new_id(target, row[column.name], table, column,
                                                      number)
                    values[column.name] = new_fk[column.name]
                else:
                    values[column.name] = None
            for column in table.columns:
                # a JSON object that repeats the row's own foreign key keeps it in step
                current = values.get(column.name)
                if isinstance(column.type, JSON) and isinstance(current, dict):
                    values[column.name] = {
                        k: (new_fk[k] if k in new_fk and v == row[k] and isinstance(v, int)
                            else v) for k, v in current.items()}
            for column in unique:
                old = values.get(column.name)
                if old is None:
                    continue
                values[column.name] = new = self._free_text(table, column, old,
                                                            taken[column.name])
                if new == old:
                    continue
                for other in table.columns:
                    # a JSON object repeating the renamed value (an entry's own slug) follows it
                    current = values.get(other.name)
                    if isinstance(other.type, JSON) and isinstance(current, dict):
                        values[other.name] = {k: (new if v == old else v)
                                              for k, v in current.items()}
            if table is audit_log:
                values["entity_id"] = self._audit_entity_id(row)
                values["details"] = self._audit_details(row, values["details"], number)
            prepared.append(values)
        new_ids = archive_rows.insert_rows(self.conn, table, prepared, key)
        self.ids[table.name] = ({row[key.name]: new for row, new in zip(rows, new_ids)}
                                if key is not None else {})
        for column, _target in later:
            updates = [{"_key": self.ids[table.name][row[key.name]],
                        "_value": self.new_id(table, row[column.name], table, column, number)}
                       for number, row in enumerate(rows, start=1)
                       if row[column.name] is not None]
            archive_rows.set_by_key(self.conn, table, key, column.name, updates)

    def _audit_details(self, row: dict, details, number: int):
        """The line's details with the ids and renamed slugs they hold rewritten for here."""
        if not isinstance(details, dict):
            return details
        details = dict(details)
        for key, target in AUDIT_DETAIL_IDS.get(row.get("action"), {}).items():
            if key in details:
                details[key] = _map_ids(details[key], lambda old, t=target, k=key:
                                        self._detail_id(old, t, k, number))
        slugs = self.renamed.get("library_entries.slug", {})
        if row.get("entity") == "library_entry" and details.get("slug") in slugs:
            details["slug"] = slugs[details["slug"]]
        return details

    def _detail_id(self, value: int, target: str, key: str, number: int) -> int:
        found = self.ids.get(target, {}).get(value)
        if found is None:
            raise ArchiveError(self.archive, f"{TABLES_DIR}/{audit_log.name}.jsonl row {number}: "
                                             f"the detail '{key}' names {target} {value}, which "
                                             "the archive does not hold.")
        return found

    def _audit_entity_id(self, row: dict) -> str:
        entity_id = str(row.get("entity_id") or "")
        review_part, colon, version = entity_id.partition(":")
        if row.get("entity") == "codebook" and colon and review_part.isdigit():
            # a codebook version is named '<review id>:<version>'
            return f"{self.ids[reviews.name].get(int(review_part), review_part)}:{version}"
        target = _entity_table(str(row.get("entity") or ""))
        if target is None or not entity_id.isdigit():
            return entity_id
        new = self.ids.get(target, {}).get(int(entity_id))
        # An id the archive does not hold would name whatever row has it here (another
        # review's): it is kept only as a note of where it came from.
        return str(new) if new is not None else f"archive:{entity_id}"


def _acting_user(store: Store, conn: Connection, username: str) -> int:
    """The acting user's id, made inside the import's transaction when new (as ensure_user)."""
    username = username.strip()
    if not username:
        raise ReviewkitError("A user name cannot be empty.")
    found = people.user_id(conn, username)
    if found is not None:
        return found
    role = "admin" if username == "admin" else "researcher"
    new_id = people.insert_user(conn, username, role=role)
    store.audit(conn, actor_id=new_id, action="user.create", entity="user", entity_id=new_id,
                details={"username": username, "role": role})
    return new_id


def _as_if_typed(tables: dict[str, list[dict]], archive: str) -> None:
    """Hold an archive's content to what a person could have typed here, before any of it is
    stored: an archive is a file from elsewhere, not a trusted copy of this install.

    Accounts it brings arrive with a known role and never as admins; stories wait for this
    install's moderators; review settings must read as the settings form would read them;
    records merged as duplicates point at a record that is itself kept (no chains, no
    cycles); roles in the team are known ones.
    """
    from reviewkit.accounts import MEMBER_ROLES, ROLES
    from reviewkit.review_settings import SETTINGS, parse_setting

    for number, row in enumerate(tables.get(users.name, []), start=1):
        if row.get("role") not in ROLES:
            raise ArchiveError(archive, f"{TABLES_DIR}/{users.name}.jsonl row {number}: the "
                                        f"role '{row.get('role')}' is not one reviewkit knows.")
        if row["role"] == "admin":
            row["role"] = "researcher"  # an admin here is made by an admin here
    for number, row in enumerate(tables.get(review_members.name, []), start=1):
        if row.get("role") not in MEMBER_ROLES:
            raise ArchiveError(archive, f"{TABLES_DIR}/{review_members.name}.jsonl row "
                                        f"{number}: the team role '{row.get('role')}' is not "
                                        "one reviewkit knows.")
    for row in tables.get(library_entries.name, []):
        if row.get("status") != "pending":
            row["status"] = "pending"
            if isinstance(row.get("front_matter"), dict):
                row["front_matter"] = {**row["front_matter"], "status": "pending"}
    review = tables[reviews.name][0]
    settings = review.get("settings")
    if settings is not None and not isinstance(settings, dict):
        raise ArchiveError(archive, "the review's settings are not a set of named values.")
    known = {s.name for s in SETTINGS}
    for key, value in (settings or {}).items():
        if key in known:
            try:
                settings[key] = parse_setting(key, value)
            except ReviewkitError as exc:
                raise ArchiveError(archive, f"the review setting '{key}': {exc}") from None
    kept_by = {row["id"]: row.get("duplicate_of") for row in tables.get(records.name, [])}
    for record_id, kept in kept_by.items():
        if kept is None or kept not in kept_by:
            continue  # a missing record is reported with the other dangling keys
        if kept == record_id or kept_by[kept] is not None:
            raise ArchiveError(archive, f"record {record_id} is marked a duplicate of record "
                                        f"{kept}, which is not a record kept in its own right "
                                        "(a chain or a loop of duplicates).")


def _clean_name(name: str) -> str:
    return " ".join(str(name or "").split())


def import_review(store: Store, data: bytes, *, actor: str, new_name: str | None = None,
                  filename: str = "archive.zip", limits: ArchiveLimits = DEFAULT_LIMITS
                  ) -> Review:
    """Bring a review archive into this database as a new review, all or nothing.

    The archive is checked in full first (manifest, versions, member names, sizes, checksums,
    rows).  Its review keeps its name unless ``new_name`` is given; a name already in use is
    refused.  Accounts the rows point at are matched by user name and created, without a
    password, when missing.
    """
    zf, by_name = _open_zip(data, filename, limits)
    manifest = _parse_manifest(zf, by_name, filename, limits)
    contents = _verified_members(zf, by_name, manifest, filename, limits)
    tables = _parse_tables(manifest, contents, filename)
    _as_if_typed(tables, filename)
    files = _Members(zf, by_name, manifest["members"], filename, limits,
                     prefix=f"{FILES_DIR}/")
    original = _clean_name(tables[reviews.name][0].get("name", ""))
    name = _clean_name(new_name) if new_name is not None else original
    if not name:
        raise ArchiveError(filename, "the review needs a name: give a new one.")
    with store.write() as conn:
        if archive_rows.name_taken(conn, reviews.c.name, name):
            hint = "" if new_name else " Give it a new name to import it beside the existing one."
            raise ArchiveError(filename, f"a review called '{name}' already exists here.{hint}")
        importer = _Importer(conn, tables, files, filename)
        # the person importing first, so an account of theirs named in the archive is theirs
        actor_id = _acting_user(store, conn, actor)
        importer.import_users()
        review_id = importer.import_review_row(name)
        for table in archive_rows.review_tables():
            importer.import_table(table)
        rows = {t: len(r) for t, r in tables.items()}
        for username in importer.users_created:
            store.audit(conn, actor_id=actor_id, action="user.create", entity="user",
                        entity_id=importer.ids[users.name][next(
                            r["id"] for r in tables[users.name] if r["username"] == username)],
                        details={"username": username, "from_archive": filename,
                                 "password": "none (set one before this account can log in)"})
        store.audit(conn, actor_id=actor_id, action=IMPORT_ACTION, entity="review",
                    entity_id=review_id, review_id=review_id, details={
                        "archive": filename, "sha256": hashlib.sha256(data).hexdigest(),
                        "source_review": original,
                        "source_review_id": manifest["review"].get("id"),
                        "exported_at": manifest.get("created_at"),
                        "exported_by": manifest.get("created_by"),
                        "schema_version": manifest["schema_version"], "rows": rows,
                        "users_created": importer.users_created, "renamed": importer.renamed})
    return store.review_by_id(review_id)


def archive_counts(summary: ArchiveSummary, names: Iterable[str] = ("records", "decisions",
                                                                    "fulltexts", "record_codes")
                   ) -> str:
    """A short line such as '137 records, 269 decisions' for messages."""
    return ", ".join(f"{summary.rows.get(n, 0):,} {n.replace('_', ' ')}" for n in names)
