"""Accounts, passwords, roles and review membership, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from reviewkit import accounts
from reviewkit.accounts import LoginRequired, PermissionDenied
from reviewkit.errors import ReviewkitError
from reviewkit.records import Record
from reviewkit.store.schema import users

PASSWORDS = {"boss": "boss-password-1", "maria": "maria-password-1",
             "pete": "pete-password-1", "cara": "cara-password-1", "rob": "rob-password-12"}
ROLES = {"boss": "admin", "maria": "researcher", "pete": "peer_researcher",
         "cara": "commissioner", "rob": "researcher"}


@pytest.fixture
def team(store):
    """A review with a team, and accounts switched on."""
    for name, role in ROLES.items():
        accounts.create_user(store, name, role=role, password=PASSWORDS[name], actor="admin")
    review = store.create_review("Loneliness", actor="boss")
    store.add_import(review.id, [Record(title="Befriending and loneliness", year=2019)],
                     filename="a.ris", format="ris", sha256="a" * 64, size_bytes=10)
    accounts.add_member(store, review.id, "maria", role="researcher", actor="boss")
    accounts.add_member(store, review.id, "cara", role="commissioner", actor="boss")
    accounts.set_accounts(store, True, actor="boss")
    return review


def test_passwords_are_stored_as_argon2id_hashes_only(store):
    accounts.create_user(store, "maria", role="researcher", password="maria-password-1",
                         actor="admin")
    with store.read() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.username == "maria")
                              ).scalar()
    assert stored.startswith("$argon2id$")
    assert "maria-password-1" not in stored
    assert accounts.authenticate(store, "maria", "maria-password-1").username == "maria"


def test_wrong_password_unknown_name_and_switched_off_account_read_alike(store):
    accounts.create_user(store, "maria", role="researcher", password="maria-password-1",
                         actor="admin")
    messages = set()
    for name, password in (("maria", "wrong-password"), ("nobody", "maria-password-1")):
        with pytest.raises(LoginRequired) as caught:
            accounts.authenticate(store, name, password)
        messages.add(str(caught.value))
    accounts.set_disabled(store, "maria", True, actor="admin")
    with pytest.raises(LoginRequired) as caught:
        accounts.authenticate(store, "maria", "maria-password-1")
    messages.add(str(caught.value))
    assert len(messages) == 1  # never says which part was wrong


def test_short_password_and_unknown_role_are_refused(store):
    with pytest.raises(ReviewkitError, match="at least 10 characters"):
        accounts.create_user(store, "maria", role="researcher", password="short", actor="admin")
    with pytest.raises(ReviewkitError, match="Unknown role 'boss'"):
        accounts.create_user(store, "maria", role="boss", password="long-enough-1", actor="admin")
    assert store.get_user("maria") is None


def test_accounts_cannot_be_turned_on_without_an_admin_who_can_log_in(store):
    store.ensure_user("admin")
    with pytest.raises(ReviewkitError, match="no admin has a password"):
        accounts.set_accounts(store, True, actor="admin")
    assert not accounts.accounts_enabled(store)
    accounts.create_user(store, "boss", role="admin", password="boss-password-1", actor="admin")
    accounts.set_accounts(store, True, actor="admin")
    assert accounts.accounts_enabled(store)
    # and the last admin who can log in cannot be demoted or switched off
    with pytest.raises(ReviewkitError, match="last admin"):
        accounts.set_role(store, "boss", "researcher", actor="boss")
    with pytest.raises(ReviewkitError, match="last admin"):
        accounts.set_disabled(store, "boss", True, actor="boss")
    assert store.get_user("boss").role == "admin"


def test_single_user_default_needs_no_set_up(store):
    review = store.create_review("Solo")
    assert not accounts.accounts_enabled(store)
    for action in ("screen", "import", "review.manage", "users.manage", "archive.export"):
        assert accounts.can(store, "admin", action, review_id=review.id)
    assert accounts.visible_reviews(store, "admin") == [review]


def test_each_role_may_do_exactly_its_own_work(store, team):
    may = {name: {a for a in accounts.ACTIONS if accounts.can(store, name, a, review_id=team.id)}
           for name in ROLES}
    may["visitor"] = {a for a in accounts.ACTIONS
                      if accounts.can(store, None, a, review_id=team.id)}
    assert may["boss"] == set(accounts.ACTIONS)
    assert may["maria"] == {"review.read", "review.create", "import", "dedup", "screen", "code",
                            "extract", "evidence.read", "brief", "library.read", "library.contribute"}
    assert may["pete"] == {"library.read", "library.contribute"}
    assert may["cara"] == {"evidence.read", "brief", "library.read"}
    # rob is a researcher but not on this review's team: nothing in the review itself
    assert may["rob"] == {"review.create", "brief", "library.read", "library.contribute"}
    assert may["visitor"] == {"library.read"}


def test_a_review_lead_manages_their_own_review_only(store, team):
    other = store.create_review("Another review", actor="boss")
    accounts.add_member(store, team.id, "rob", role="admin", actor="boss")  # rob leads it
    assert accounts.can(store, "rob", "review.manage", review_id=team.id)
    assert accounts.can(store, "rob", "conflicts.resolve", review_id=team.id)
    assert not accounts.can(store, "rob", "review.manage", review_id=other.id)
    accounts.add_member(store, team.id, "pete", role="peer_researcher", actor="rob")
    assert "pete" in {m.username for m in accounts.members(store, team.id)}
    with pytest.raises(PermissionDenied, match="maria \\(researcher\\) may not change"):
        accounts.add_member(store, team.id, "rob", role="researcher", actor="maria")


def test_refusals_say_who_what_and_where(store, team):
    with pytest.raises(PermissionDenied) as caught:
        accounts.require(store, "cara", "screen", review_id=team.id)
    assert str(caught.value) == "cara (commissioner) may not screen records in the review 'Loneliness'."
    with pytest.raises(PermissionDenied, match="rob .* is not a member of the review 'Loneliness'"):
        accounts.require(store, "rob", "screen", review_id=team.id)
    with pytest.raises(PermissionDenied, match="A visitor who has not logged in may not read the "
                                               "evidence in the review 'Loneliness'"):
        accounts.require(store, None, "evidence.read", review_id=team.id)


def test_members_see_only_their_reviews(store, team):
    store.create_review("Private review", actor="boss")
    assert [r.name for r in accounts.visible_reviews(store, "maria")] == ["Loneliness"]
    assert [r.name for r in accounts.visible_reviews(store, "pete")] == []
    assert {r.name for r in accounts.visible_reviews(store, "boss")} == {"Loneliness",
                                                                         "Private review"}
    assert accounts.visible_reviews(store, None) == []


def test_removed_member_loses_access_but_keeps_their_decisions(store, team):
    record_id = store.kept_record_ids(team.id)[0]
    store.add_decision(record_id, stage="title_abstract", decision="include", reviewer="maria")
    accounts.remove_member(store, team.id, "maria", actor="boss")
    assert not accounts.can(store, "maria", "screen", review_id=team.id)
    standing = store.current_decisions(team.id, stage="title_abstract")
    assert [(d.reviewer, d.decision) for d in standing] == [("maria", "include")]


def test_every_account_change_is_in_the_audit_log(store, team):
    accounts.set_role(store, "pete", "researcher", actor="boss")
    accounts.set_password(store, "maria", "maria-password-2", actor="maria")
    actions = [(e.actor, e.action) for e in store.audit_entries() if e.entity in ("user",
                                                                                  "install")]
    assert ("boss", "user.role") in actions
    assert ("maria", "user.password") in actions
    assert ("boss", "accounts.on") in actions
    created = {e.details["username"]: e.actor for e in store.audit_entries()
               if e.action == "user.create"}
    assert {name: created[name] for name in ROLES} == dict.fromkeys(ROLES, "admin")
    member_lines = [e for e in store.audit_entries(team.id) if e.action == "member.add"]
    assert {e.details["username"] for e in member_lines} == {"maria", "cara"}
    # a password change never writes the password, or its hash, to the log
    text = repr([e.details for e in store.audit_entries()])
    assert "maria-password-2" not in text and "$argon2" not in text


def test_someone_else_s_password_needs_an_admin(store, team):
    with pytest.raises(PermissionDenied):
        accounts.set_password(store, "cara", "taken-over-123", actor="maria")
    assert accounts.authenticate(store, "cara", PASSWORDS["cara"]).username == "cara"


def test_changing_role_password_and_switch_together_is_all_or_nothing(store, team):
    before = len(store.audit_entries())
    # boss is the only admin: a new password with "switched off" is refused as a whole
    with pytest.raises(ReviewkitError, match="last admin.*Nothing was changed"):
        accounts.change_account(store, "boss", actor="boss", password="new-boss-password",
                                disabled=True)
    assert accounts.authenticate(store, "boss", PASSWORDS["boss"]).username == "boss"
    with pytest.raises(ReviewkitError, match="at least 10 characters.*Nothing was changed"):
        accounts.change_account(store, "rob", actor="boss", role="commissioner",
                                password="short")
    with pytest.raises(ReviewkitError, match="Unknown role"):
        accounts.change_account(store, "rob", actor="boss", role="boss", disabled=True)
    assert store.get_user("rob").role == "researcher"
    assert accounts.authenticate(store, "rob", PASSWORDS["rob"]).username == "rob"
    assert len(store.audit_entries()) == before
    with pytest.raises(PermissionDenied):
        accounts.change_account(store, "rob", actor="maria", role="admin")
    with pytest.raises(ReviewkitError, match="Nothing to change"):
        accounts.change_account(store, "rob", actor="boss")
    # all three at once, each with its own audit line
    accounts.change_account(store, "rob", actor="boss", role="commissioner",
                            password="rob-password-99", disabled=True)
    assert store.get_user("rob").role == "commissioner"
    with pytest.raises(LoginRequired):
        accounts.authenticate(store, "rob", "rob-password-99")  # switched off
    accounts.change_account(store, "rob", actor="boss", disabled=False)
    assert accounts.authenticate(store, "rob", "rob-password-99").username == "rob"
    lines = [e.action for e in store.audit_entries() if e.entity == "user"
             and e.details.get("username") == "rob"][:4]
    assert sorted(lines) == ["user.disable", "user.enable", "user.password", "user.role"]


# -- login throttle ----------------------------------------------------------------------------


def _wrong(store, name: str, times: int, address: str | None = None) -> None:
    for _ in range(times):
        with pytest.raises(LoginRequired, match="do not match"):
            accounts.authenticate(store, name, "not-the-password", address=address)


def test_wrong_passwords_lock_the_account_for_every_app_and_the_cli(store, database_url):
    from reviewkit.store import Store

    accounts.create_user(store, "ada", role="researcher", password="ada-password-1",
                         actor="admin")
    _wrong(store, "ada", accounts.FREE_TRIES, address="10.0.0.1")
    # another app process (or a reload, or the command line, which gives no address)
    other = Store(database_url)
    try:
        with pytest.raises(LoginRequired, match="Too many wrong passwords"):
            accounts.authenticate(other, "ada", "ada-password-1")
        with pytest.raises(LoginRequired, match="Too many wrong passwords"):
            accounts.authenticate(other, "ADA ", "ada-password-1", address="10.9.9.9")
    finally:
        other.close()
    # once the lock has passed, the right password works and the account's count starts again
    from reviewkit.store.schema import login_throttle

    with store.write() as conn:
        conn.execute(login_throttle.update().values(locked_until=None))
    assert accounts.authenticate(store, "ada", "ada-password-1", address="10.0.0.2").username \
        == "ada"
    _wrong(store, "ada", accounts.FREE_TRIES - 1, address="10.0.0.2")


def test_wrong_passwords_from_one_address_lock_that_address_only(store):
    accounts.create_user(store, "bea", role="researcher", password="bea-password-1",
                         actor="admin")
    for number in range(accounts.FREE_TRIES):  # a different name each time
        _wrong(store, f"guess{number}", 1, address="203.0.113.7")
    with pytest.raises(LoginRequired, match="Too many wrong passwords"):
        accounts.authenticate(store, "bea", "bea-password-1", address="203.0.113.7")
    assert accounts.authenticate(store, "bea", "bea-password-1", address="198.51.100.1")


def test_only_a_few_argon2_checks_run_at_once(store, monkeypatch):
    import threading
    import time

    accounts.create_user(store, "cy", role="researcher", password="cy-password-1",
                         actor="admin")
    running, most, lock = 0, 0, threading.Lock()
    real = accounts._HASHER

    class CountingHasher:
        def verify(self, stored, password):
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.05)
            with lock:
                running -= 1
            return real.verify(stored, password)

        def check_needs_rehash(self, stored):
            return False

    monkeypatch.setattr(accounts, "_HASHER", CountingHasher())
    start = threading.Barrier(8)

    def log_in():
        start.wait()
        accounts.authenticate(store, "cy", "cy-password-1", address="192.0.2.1")

    threads = [threading.Thread(target=log_in) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 1 <= most <= accounts.ARGON2_AT_ONCE


def test_passwords_get_argon2_standard_cost_outside_the_test_suite(tmp_path):
    # the suite sets REVIEWKIT_TEST_CHEAP_PASSWORD_HASHES (tests/conftest.py); a server or a
    # command without it hashes at argon2-cffi's recommended cost (RFC 9106, low memory)
    import os
    import subprocess
    import sys

    code = ("from reviewkit import accounts; print(accounts.hash_password('long-enough-1'))")
    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k != accounts.CHEAP_HASHES_FOR_TESTS}
    made = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(ROOT)}, check=True, cwd=tmp_path,
                          ).stdout.strip()
    assert made.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), made


def test_a_cheap_hash_is_made_again_at_standard_cost_at_the_next_log_in(store, monkeypatch):
    from argon2 import PasswordHasher

    accounts.create_user(store, "dee", role="researcher", password="dee-password-1",
                         actor="admin")  # at the suite's cheap cost

    def stored() -> str:
        with store.read() as conn:
            return conn.execute(select(users.c.password_hash)
                                .where(users.c.username == "dee")).scalar()

    assert "m=65536" not in stored()
    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher())  # a server without the variable
    assert accounts.authenticate(store, "dee", "dee-password-1").username == "dee"
    assert stored().startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert accounts.authenticate(store, "dee", "dee-password-1").username == "dee"
