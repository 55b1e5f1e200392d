"""Accounts, roles and review membership: who may do what.

reviewkit starts as a single-user tool: accounts are *off*, nobody logs in, and whoever runs
it acts as the local ``admin`` (or the name in ``REVIEWKIT_USER``).  A team turns accounts
*on* once an admin has a password; from then on every page and every CLI command asks who is
acting, checks the password, and checks the role:

========================  =========================================================
role                      may
========================  =========================================================
``admin``                 everything, in every review; manages people and accounts
``researcher``            screen, deduplicate, import, code, read evidence, write
                          briefs, contribute stories, in the reviews they belong to
``peer_researcher``       read and search the library, contribute stories
``commissioner``          read evidence and write briefs; read the library
(nobody logged in)        the published, public library entries only
========================  =========================================================

A review's *lead* (a member whose membership role is ``admin``, like the person who created
the review) may also settle conflicts, unblind, manage the review's members, restore deleted
items and export the review.  Passwords are hashed with Argon2id (``argon2-cffi``).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from reviewkit.errors import NotFoundError, ReviewkitError
from reviewkit.store import (
    Review,
    Store,
    User,
    clear_login_failures,
    lock_login,
    login_locked_until,
    note_login_failure,
    people,
    rows,
)

ROLES = ("admin", "researcher", "peer_researcher", "commissioner")
ROLE_NAMES = {
    "admin": "admin",
    "researcher": "researcher",
    "peer_researcher": "peer researcher",
    "commissioner": "commissioner",
    None: "visitor",
}
MEMBER_ROLES = ("admin", "researcher", "peer_researcher", "commissioner")

# What each action means to a person, and who may do it.  ``lead`` means an admin member of
# the review in question; ``None`` stands for somebody who has not logged in.
ACTIONS: dict[str, tuple[str, frozenset]] = {
    "review.read": ("see the records", frozenset({"admin", "researcher"})),
    "review.create": ("start a review", frozenset({"admin", "researcher"})),
    "review.manage": ("change the settings and team", frozenset({"admin", "lead"})),
    "import": ("import files", frozenset({"admin", "researcher"})),
    "dedup": ("deduplicate records", frozenset({"admin", "researcher"})),
    "screen": ("screen records", frozenset({"admin", "researcher"})),
    "conflicts.resolve": ("settle conflicts", frozenset({"admin", "lead"})),
    "code": ("code studies", frozenset({"admin", "researcher"})),
    "extract": ("extract data from studies and appraise them", frozenset({"admin", "researcher"})),
    "evidence.read": ("read the evidence",
                      frozenset({"admin", "researcher", "commissioner"})),
    "brief": ("write evidence briefs", frozenset({"admin", "researcher", "commissioner"})),
    "library.read": ("read the library of local stories",
                     frozenset({"admin", "researcher", "peer_researcher", "commissioner", None})),
    "library.contribute": ("add stories to the library",
                           frozenset({"admin", "researcher", "peer_researcher"})),
    "library.moderate": ("publish or reject contributed stories", frozenset({"admin"})),
    "site.publish": ("publish the public website", frozenset({"admin"})),
    "audit.read": ("read the audit log", frozenset({"admin", "lead"})),
    "trash.restore": ("delete or restore items", frozenset({"admin", "lead"})),
    "archive.export": ("export the review as an archive", frozenset({"admin", "lead"})),
    "archive.import": ("import a review archive", frozenset({"admin"})),
    "users.manage": ("manage accounts", frozenset({"admin"})),
}
# Actions about one review: a non-admin must be a member of that review to do them.
REVIEW_ACTIONS = frozenset({
    "review.read", "review.manage", "import", "dedup", "screen", "conflicts.resolve", "code",
    "evidence.read", "audit.read", "trash.restore", "archive.export", "extract",
})

# For test suites only: argon2-cffi's CHEAPEST parameters (made by the library for tests), so
# that a suite creating hundreds of accounts does not spend a tenth of a second on each.  A hash
# made so is made again at the standard cost the next time its owner logs in on a server that
# does not set it (``check_needs_rehash`` below), and tests check the standard cost.
CHEAP_HASHES_FOR_TESTS = "REVIEWKIT_TEST_CHEAP_PASSWORD_HASHES"


def _password_hasher() -> PasswordHasher:
    """Argon2id with argon2-cffi's recommended parameters (RFC 9106, low memory: 64 MiB, three
    passes), unless the test suite's variable :data:`CHEAP_HASHES_FOR_TESTS` is ``1``."""
    if os.environ.get(CHEAP_HASHES_FOR_TESTS) == "1":
        from argon2 import profiles

        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


_HASHER = _password_hasher()
MIN_PASSWORD_LENGTH = 10
# Wrong passwords allowed per account and per address before each further one locks that
# account (or address) for a while: 30 s, then twice as long each time, at most 15 minutes.
FREE_TRIES = 5
FIRST_LOCK = timedelta(seconds=30)
LONGEST_LOCK = timedelta(minutes=15)
# Each Argon2 check takes about 64 MiB and a CPU core for a moment: only this many run at once
# in a process, and a try that cannot get a turn within ARGON2_WAIT_S is refused as busy.
ARGON2_AT_ONCE = 2
ARGON2_WAIT_S = 20.0
_ARGON2_TURNS = threading.BoundedSemaphore(ARGON2_AT_ONCE)


@contextmanager
def _argon2_turn() -> Iterator[None]:
    if not _ARGON2_TURNS.acquire(timeout=ARGON2_WAIT_S):
        raise LoginRequired("The server is busy checking other logins; try again in a moment.")
    try:
        yield
    finally:
        _ARGON2_TURNS.release()


class PermissionDenied(ReviewkitError):
    """The acting person may not do this (the message says who, what and where)."""


class LoginRequired(ReviewkitError):
    """Accounts are on and nobody has logged in (or the password was wrong)."""


@dataclass(frozen=True)
class Member:
    username: str
    display_name: str
    user_role: str
    member_role: str


# -- accounts on / off --------------------------------------------------------------------

def accounts_enabled(store: Store) -> bool:
    """Whether people must log in (a team install) or not (the single-user default)."""
    with store.read() as conn:
        return people.accounts_switch(conn) == "on"


def set_accounts(store: Store, on: bool, *, actor: str) -> None:
    """Turn accounts on or off.  Turning them on needs an admin account with a password."""
    actor_user = _acting_user(store, actor)
    if actor_user.role != "admin":
        raise PermissionDenied(f"{actor} ({ROLE_NAMES[actor_user.role]}) may not turn "
                               "accounts on or off; only an admin may.")
    with store.write() as conn:
        if on and not people.admin_can_log_in(conn):
            raise ReviewkitError(
                "Accounts cannot be turned on yet: no admin has a password, so nobody "
                "could log in afterwards. Give an admin a password first "
                "(python -m reviewkit user add NAME --role admin).")
        value = "on" if on else "off"
        people.set_accounts_switch(conn, value)
        Store.audit(conn, actor_id=actor_user.id, action=f"accounts.{value}", entity="install",
                    entity_id="accounts")


# -- people -------------------------------------------------------------------------------

def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ReviewkitError(f"Unknown role '{role}': use one of {', '.join(ROLES)}.")
    return role


def _check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ReviewkitError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    return password


def hash_password(password: str) -> str:
    checked = _check_password(password)
    with _argon2_turn():
        return _HASHER.hash(checked)


def _acting_user(store: Store, username: str) -> User:
    user = store.get_user(username)
    if user is None:
        if username == "admin" and not accounts_enabled(store):
            return store.ensure_user("admin")
        raise NotFoundError(f"There is no user called '{username}'.")
    return user


def create_user(store: Store, username: str, *, role: str, password: str | None = None,
                display_name: str = "", actor: str) -> User:
    """Add an account (the password may come later); only an admin may."""
    require(store, actor, "users.manage")
    username = " ".join((username or "").split())
    if not username:
        raise ReviewkitError("A user name cannot be empty.")
    _check_role(role)
    hashed = hash_password(password) if password else None
    actor_id = _acting_user(store, actor).id
    with store.write() as conn:
        if people.user_id(conn, username) is not None:
            raise ReviewkitError(f"A user called '{username}' already exists.")
        new_id = people.insert_user(conn, username, role=role, display_name=display_name,
                                    password_hash=hashed)
        Store.audit(conn, actor_id=actor_id, action="user.create", entity="user",
                    entity_id=new_id, details={"username": username, "role": role,
                                               "password_set": bool(hashed)})
    return store.get_user(username)


def _change_user(store: Store, username: str, *, actor: str,
                 changes: list[tuple[str, dict, dict]]) -> User:
    """Apply (audit action, details, column values) changes to one account in one transaction."""
    target = store.get_user(username)
    if target is None:
        raise NotFoundError(f"There is no user called '{username}'.")
    actor_id = _acting_user(store, actor).id
    removes_admin = any(v.get("role", "admin") != "admin" or v.get("disabled")
                        for _, _, v in changes)
    with store.write() as conn:
        if removes_admin:
            # Two admins demoting each other at once must not both see the other still an
            # admin: every change that can take an admin away queues on the accounts row, so
            # the second one counts the admins after the first has committed.
            people.accounts_switch(conn, hold=True)
        for action, details, values in changes:
            people.update_user(conn, target.id, **values)
            Store.audit(conn, actor_id=actor_id, action=action, entity="user",
                        entity_id=target.id, details={"username": username, **details})
        if removes_admin:
            _keep_one_admin(conn, username)
    return store.get_user(username)


def _keep_one_admin(conn, username: str) -> None:
    if people.accounts_switch(conn) != "on":
        return
    if not people.admin_can_log_in(conn):
        raise ReviewkitError(f"'{username}' is the last admin who can log in; make someone "
                             "else an admin first.")


def _role_change(store: Store, username: str, role: str) -> tuple[str, dict, dict]:
    old = store.get_user(username)
    return ("user.role", {"old": old.role if old else None, "new": _check_role(role)},
            {"role": role})


def _password_change(password: str) -> tuple[str, dict, dict]:
    return ("user.password", {}, {"password_hash": hash_password(password)})


def _switch_change(disabled: bool) -> tuple[str, dict, dict]:
    return ("user.disable" if disabled else "user.enable", {}, {"disabled": disabled})


def set_password(store: Store, username: str, password: str, *, actor: str) -> User:
    """Set a password: one's own, or anyone's for an admin."""
    if actor != username:
        require(store, actor, "users.manage")
    return _change_user(store, username, actor=actor, changes=[_password_change(password)])


def set_role(store: Store, username: str, role: str, *, actor: str) -> User:
    require(store, actor, "users.manage")
    return _change_user(store, username, actor=actor,
                        changes=[_role_change(store, username, role)])


def set_disabled(store: Store, username: str, disabled: bool, *, actor: str) -> User:
    """Switch an account off (it can no longer log in; its decisions stay) or back on."""
    require(store, actor, "users.manage")
    return _change_user(store, username, actor=actor, changes=[_switch_change(disabled)])


def change_account(store: Store, username: str, *, actor: str, role: str | None = None,
                   password: str | None = None, disabled: bool | None = None) -> User:
    """Change an account's role, password and whether it is on, all together or not at all.

    Everything is checked first (role name, password length) and saved in one transaction,
    so a refused part (say, switching off the last admin) leaves the other parts unsaved too.
    """
    require(store, actor, "users.manage")
    if role is None and not password and disabled is None:
        raise ReviewkitError("Nothing to change: choose a new role, a new password or "
                             "whether the account is on.")
    try:
        changes = []
        if role is not None:
            changes.append(_role_change(store, username, role))
        if password:
            changes.append(_password_change(password))
        if disabled is not None:
            changes.append(_switch_change(disabled))
        return _change_user(store, username, actor=actor, changes=changes)
    except (NotFoundError, PermissionDenied):
        raise
    except ReviewkitError as exc:
        raise ReviewkitError(f"{exc} Nothing was changed.") from exc


def list_users(store: Store) -> list[tuple[User, bool, bool]]:
    """Every account with (has a password, is disabled)."""
    with store.read() as conn:
        rows = people.user_rows(conn)
    return [(User(r.id, r.username, r.display_name, r.role), r.password_hash is not None,
             bool(r.disabled)) for r in rows]


def _throttle_keys(username: str, address: str | None) -> list[str]:
    keys = [f"user:{(username or '').strip().casefold()[:200]}"]
    if address:
        keys.append(f"address:{address.strip()[:200]}")
    return keys


def authenticate(store: Store, username: str, password: str, *,
                 address: str | None = None) -> User:
    """Return the user when the name and password match; raise LoginRequired otherwise.

    The message never says which of the two was wrong.  Failures are counted in the database
    per account and per ``address`` (the browser's IP address; the command line gives none):
    after FREE_TRIES wrong passwords each further one locks that account or address for a
    while, and a locked one is refused before any password is checked.
    """
    keys = _throttle_keys(username, address)
    now = rows.now()
    with store.read() as conn:
        locked = login_locked_until(conn, keys)
        row = people.user_row(conn, (username or "").strip())
    if locked is not None and locked > now:
        minutes = max(1, math.ceil((locked - now).total_seconds() / 60))
        raise LoginRequired(f"Too many wrong passwords for this account or from this address: "
                            f"try again in {minutes} minute{'' if minutes == 1 else 's'}.")
    stored = row.password_hash if row is not None and not row.disabled else None
    with _argon2_turn():
        try:
            if stored is None:
                # The same Argon2 work as checking a password, so a wrong name takes as long as
                # a wrong password (and no hash is made at import, which every command would pay).
                _HASHER.hash(password or "")
                ok = False
            else:
                ok = _HASHER.verify(stored, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
    if not ok:
        with store.write() as conn:
            for key in keys:
                failures = note_login_failure(conn, key, now)
                if failures >= FREE_TRIES:
                    lock = min(FIRST_LOCK * 2 ** (failures - FREE_TRIES), LONGEST_LOCK)
                    lock_login(conn, key, now + lock)
        raise LoginRequired("That user name and password do not match an active account.")
    with store.write() as conn:
        clear_login_failures(conn, keys[:1])  # the address keeps its count
        if _HASHER.check_needs_rehash(stored):
            people.update_user(conn, row.id, password_hash=_HASHER.hash(password))
    return User(row.id, row.username, row.display_name, row.role)


# -- review membership --------------------------------------------------------------------

def add_member(store: Store, review_id: int, username: str, *, role: str = "researcher",
               actor: str) -> None:
    """Add someone to a review's team (or change their role in it)."""
    require(store, actor, "review.manage", review_id=review_id)
    if role not in MEMBER_ROLES:
        raise ReviewkitError(f"Unknown member role '{role}': use one of {', '.join(MEMBER_ROLES)}.")
    target = store.get_user(username)
    if target is None:
        raise NotFoundError(f"There is no user called '{username}'.")
    actor_id = _acting_user(store, actor).id
    with store.write() as conn:
        was = people.member_role(conn, review_id, target.id)
        people.set_member(conn, review_id, target.id, role)
        Store.audit(conn, actor_id=actor_id, action="member.add", entity="user",
                    entity_id=target.id, review_id=review_id,
                    details={"username": username, "role": role, "was": was})


def remove_member(store: Store, review_id: int, username: str, *, actor: str) -> None:
    """Take someone off a review's team; their past decisions stay, credited to them."""
    require(store, actor, "review.manage", review_id=review_id)
    target = store.get_user(username)
    if target is None:
        raise NotFoundError(f"There is no user called '{username}'.")
    actor_id = _acting_user(store, actor).id
    with store.write() as conn:
        was = people.member_role(conn, review_id, target.id)
        if was is None:
            raise NotFoundError(f"'{username}' is not a member of this review.")
        people.drop_member(conn, review_id, target.id)
        Store.audit(conn, actor_id=actor_id, action="member.remove", entity="user",
                    entity_id=target.id, review_id=review_id,
                    details={"username": username, "role": was})


def members(store: Store, review_id: int) -> list[Member]:
    with store.read() as conn:
        rows = people.member_rows(conn, review_id)
    return [Member(r.username, r.display_name, r.role, r.member_role) for r in rows]


def _membership(store: Store, user: User, review_id: int) -> str | None:
    with store.read() as conn:
        return people.member_role(conn, review_id, user.id)


# -- permission checks --------------------------------------------------------------------

def _who(store: Store, username: str | None) -> User | None:
    """The acting user, or None for a visitor.  With accounts off, names are taken on trust
    and the local admin needs no set-up."""
    if not username:
        return None
    user = store.get_user(username)
    if user is None and not accounts_enabled(store):
        user = store.ensure_user(username)
    return user


def can(store: Store, username: str | None, action: str, *, review_id: int | None = None
        ) -> bool:
    """Whether ``username`` (None: nobody logged in) may do ``action`` (in that review)."""
    return _refusal(store, username, action, review_id) is None


def refusal(store: Store, username: str | None, action: str, *, review_id: int | None = None
            ) -> str | None:
    """Why ``username`` may not do ``action`` (a sentence for people), or None when they may."""
    return _refusal(store, username, action, review_id)


def _refusal(store: Store, username: str | None, action: str, review_id: int | None
             ) -> str | None:
    if action not in ACTIONS:
        raise ReviewkitError(f"Unknown action '{action}'.")
    what, allowed = ACTIONS[action]
    user = _who(store, username)
    if user is not None:
        with store.read() as conn:
            disabled = people.is_disabled(conn, user.id)
        if disabled:
            return f"The account '{user.username}' is switched off, so it may not {what}."
    role = user.role if user else None
    if role == "admin":
        return None
    who = f"{user.username} ({ROLE_NAMES.get(role, role)})" if user else "A visitor who has not logged in"
    team_rule = accounts_enabled(store) and review_id is not None and action in REVIEW_ACTIONS
    member_role = _membership(store, user, review_id) if (user and review_id) else None
    if team_rule and member_role is None and user is not None:
        return f"{who} is not a member of {_review_label(store, review_id)}, so may not {what}."
    if role in allowed or ("lead" in allowed and member_role == "admin"):
        return None
    where = f" in {_review_label(store, review_id)}" if review_id else ""
    return f"{who} may not {what}{where}."


def _review_label(store: Store, review_id: int) -> str:
    with store.read() as conn:
        name = people.review_name(conn, review_id)
    return f"the review '{name}'" if name else f"review {review_id}"


def require(store: Store, username: str | None, action: str, *, review_id: int | None = None
            ) -> None:
    """Raise PermissionDenied, saying who, what and where, unless the action is allowed."""
    refusal = _refusal(store, username, action, review_id=review_id)
    if refusal:
        raise PermissionDenied(refusal)


def visible_reviews(store: Store, username: str | None) -> list[Review]:
    """The reviews someone may open: all for an admin or with accounts off, else their own."""
    every = store.list_reviews()
    if not accounts_enabled(store):
        return every
    user = _who(store, username)
    if user is None:
        return []
    if user.role == "admin":
        return every
    with store.read() as conn:
        mine = people.reviews_of(conn, user.id)
    return [r for r in every if r.id in mine]
