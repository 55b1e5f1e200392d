"""Rows of one review, found by walking foreign keys, read out for an archive and written
back into another database (see :mod:`reviewkit.archive` for the archive itself)."""

from __future__ import annotations

from sqlalchemy import Column, Connection, Integer, Table, bindparam, select

from reviewkit.errors import ReviewkitError
from reviewkit.store.schema import audit_log, metadata, reviews, users


def foreign_targets(column: Column) -> list[Table]:
    return [fk.column.table for fk in column.foreign_keys]


def review_tables() -> list[Table]:
    """Tables (other than reviews and users) whose rows hang off a review, parents first.

    A table belongs when one of its foreign keys points at reviews, or at a table that
    belongs.  The audit log comes last: its entity ids may name rows of any other table.
    """
    owned: list[Table] = []
    changed = True
    while changed:
        changed = False
        for table in metadata.sorted_tables:
            if table in owned or table in (reviews, users):
                continue
            parents = {t for c in table.columns for t in foreign_targets(c)} - {table}
            if reviews in parents or parents & set(owned):
                owned.append(table)
                changed = True
    order = {t.name: i for i, t in enumerate(metadata.sorted_tables)}
    return sorted(owned, key=lambda t: (t is audit_log, order[t.name]))


def scope(table: Table, review_id: int, owned: list[Table]):
    """The WHERE clause picking a table's rows that belong to one review."""
    for column in table.columns:
        if reviews in foreign_targets(column):
            return column == review_id
    for column in sorted(table.columns, key=lambda c: c.nullable):
        for parent in foreign_targets(column):
            if parent in owned and parent is not table:
                parent_key = surrogate_key(parent)
                if parent_key is None:
                    continue
                return column.in_(select(parent_key).where(scope(parent, review_id, owned)))
    raise ReviewkitError(f"Cannot tell which rows of '{table.name}' belong to a review.")


def surrogate_key(table: Table) -> Column | None:
    """The table's single integer id column that the database numbers, if it has one."""
    keys = list(table.primary_key.columns)
    if len(keys) == 1 and isinstance(keys[0].type, Integer) and not keys[0].foreign_keys:
        return keys[0]
    return None


def fk_columns(table: Table) -> list[tuple[Column, Table]]:
    return [(c, target) for c in table.columns for target in foreign_targets(c)]


def dump_rows(conn: Connection, review_id: int) -> dict[str, list[dict]]:
    """Every row of the review, table by table, plus the users they point at."""
    owned = review_tables()
    found: dict[str, list] = {}
    review_row = conn.execute(select(reviews).where(reviews.c.id == review_id)).first()
    if review_row is None:
        raise ReviewkitError(f"There is no review with id {review_id} to export.")
    found[reviews.name] = [review_row]
    for table in owned:
        query = select(table).where(scope(table, review_id, owned))
        found[table.name] = list(conn.execute(query.order_by(*table.primary_key.columns)))
    user_ids: set[int] = set()
    for name, rows in found.items():
        for column, target in fk_columns(metadata.tables[name]):
            if target is users:
                user_ids.update(r._mapping[column.name] for r in rows
                                if r._mapping[column.name] is not None)
    found[users.name] = list(conn.execute(
        select(users).where(users.c.id.in_(sorted(user_ids))).order_by(users.c.id)))
    return found


def name_taken(conn: Connection, column: Column, value: str) -> bool:
    """Whether some row already holds ``value`` in ``column`` (a unique text column)."""
    return conn.execute(select(column).where(column == value)).first() is not None


def insert_row(conn: Connection, table: Table, values: dict) -> int:
    """Insert one row; return its new id."""
    return conn.execute(table.insert().values(**values)).inserted_primary_key[0]


def insert_rows(conn: Connection, table: Table, rows: list[dict], key: Column | None
                ) -> list[int]:
    """Insert rows in order; return the ids the database gave them (none without ``key``)."""
    if key is None:
        conn.execute(table.insert(), rows)
        return []
    inserted = conn.execute(table.insert().returning(key, sort_by_parameter_order=True), rows)
    return list(inserted.scalars())


def set_by_key(conn: Connection, table: Table, key: Column, column: str,
               updates: list[dict]) -> None:
    """Set ``column`` row by row: each update is {"_key": id, "_value": new value}."""
    if updates:
        conn.execute(table.update().where(key == bindparam("_key"))
                     .values({column: bindparam("_value")}), updates)
