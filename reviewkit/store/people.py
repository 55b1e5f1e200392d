"""Users, their passwords and switches, and who belongs to which review in what role.

Every function takes the caller's connection, so a check and the change it guards happen in
one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from reviewkit.store.rows import now
from reviewkit.store.schema import meta, review_members, reviews, users

ACCOUNTS_KEY = "accounts"


# -- the install's accounts switch ---------------------------------------------------------

def accounts_switch(conn: Connection, *, hold: bool = False) -> str | None:
    """The stored accounts switch ('on', 'off' or None); ``hold`` locks it until commit, so
    changes that can take an admin away queue one behind the other."""
    query = select(meta.c.value).where(meta.c.key == ACCOUNTS_KEY)
    return conn.execute(query.with_for_update() if hold else query).scalar()


def set_accounts_switch(conn: Connection, value: str) -> None:
    updated = conn.execute(meta.update().where(meta.c.key == ACCOUNTS_KEY).values(value=value))
    if updated.rowcount == 0:
        conn.execute(meta.insert().values(key=ACCOUNTS_KEY, value=value))


def admin_can_log_in(conn: Connection) -> bool:
    """Whether some admin account is switched on and has a password."""
    return conn.execute(select(users.c.id).where(
        users.c.role == "admin", users.c.password_hash.is_not(None),
        users.c.disabled.is_(False))).first() is not None


# -- users ---------------------------------------------------------------------------------

def user_row(conn: Connection, username: str):
    """The whole row of the account called ``username``, or None."""
    return conn.execute(select(users).where(users.c.username == username)).first()


def user_rows(conn: Connection) -> list:
    """Every account's row, by name."""
    return conn.execute(select(users).order_by(users.c.username)).all()


def user_id(conn: Connection, username: str) -> int | None:
    return conn.execute(select(users.c.id).where(users.c.username == username)).scalar()


def user_role(conn: Connection, username: str) -> str | None:
    """The install-wide role of ``username`` (None when there is no such user)."""
    return conn.execute(select(users.c.role).where(users.c.username == username)).scalar()


def is_disabled(conn: Connection, user_id: int) -> bool:
    return bool(conn.execute(select(users.c.disabled).where(users.c.id == user_id)).scalar())


def insert_user(conn: Connection, username: str, *, role: str, display_name: str = "",
                password_hash: str | None = None) -> int:
    """Add an account row; return its id."""
    return conn.execute(users.insert().values(
        username=username, display_name=display_name or username, role=role,
        password_hash=password_hash, created_at=now(), disabled=False,
    )).inserted_primary_key[0]


def update_user(conn: Connection, user_id: int, **values) -> None:
    conn.execute(users.update().where(users.c.id == user_id).values(**values))


# -- review membership ---------------------------------------------------------------------

def member_role(conn: Connection, review_id: int, user_id: int) -> str | None:
    """The role of a user in a review's team, or None when they are not in it."""
    return conn.execute(select(review_members.c.role).where(
        review_members.c.review_id == review_id,
        review_members.c.user_id == user_id)).scalar()


def member_role_by_name(conn: Connection, review_id: int, username: str) -> str | None:
    return conn.execute(
        select(review_members.c.role).join(users, users.c.id == review_members.c.user_id)
        .where(review_members.c.review_id == review_id, users.c.username == username)).scalar()


def set_member(conn: Connection, review_id: int, user_id: int, role: str) -> None:
    """Put a user in a review's team with ``role`` (or change their role there)."""
    if member_role(conn, review_id, user_id) is None:
        conn.execute(review_members.insert().values(
            review_id=review_id, user_id=user_id, role=role, added_at=now()))
    else:
        conn.execute(review_members.update().where(
            review_members.c.review_id == review_id,
            review_members.c.user_id == user_id).values(role=role))


def drop_member(conn: Connection, review_id: int, user_id: int) -> None:
    conn.execute(review_members.delete().where(
        review_members.c.review_id == review_id, review_members.c.user_id == user_id))


def member_rows(conn: Connection, review_id: int) -> list:
    """Username, display name, install role and ``member_role`` of a review's team, by name."""
    return conn.execute(select(users.c.username, users.c.display_name, users.c.role,
                               review_members.c.role.label("member_role"))
                        .join(users, users.c.id == review_members.c.user_id)
                        .where(review_members.c.review_id == review_id)
                        .order_by(users.c.username)).all()


def member_names(conn: Connection, review_id: int, roles: Iterable[str]) -> set[str]:
    """The usernames of a review's members with one of ``roles`` there."""
    return set(conn.execute(
        select(users.c.username).join(review_members, review_members.c.user_id == users.c.id)
        .where(review_members.c.review_id == review_id,
               review_members.c.role.in_(tuple(roles)))).scalars())


def memberships(conn: Connection, user_id: int) -> list:
    """(review_id, role) of each review team a user is in."""
    return conn.execute(select(review_members.c.review_id, review_members.c.role).where(
        review_members.c.user_id == user_id)).all()


def reviews_of(conn: Connection, user_id: int) -> set[int]:
    """The ids of the reviews a user is a member of."""
    return {row.review_id for row in memberships(conn, user_id)}


def review_name(conn: Connection, review_id: int) -> str | None:
    return conn.execute(select(reviews.c.name).where(reviews.c.id == review_id)).scalar()
