"""Each role, through the command line, can do exactly its own work once accounts are on."""

from __future__ import annotations

import os

import pytest

from reviewkit import accounts
from reviewkit.cli import main
from reviewkit.store import Store
from tests.test_cli import run_cli
from tests.test_importing import GOOD_RIS

PASSWORDS = {"boss": "boss-password-1", "maria": "maria-password-1",
             "rob": "rob-password-123", "pete": "pete-password-1", "cara": "cara-password-1"}
ROLES = {"boss": "admin", "maria": "researcher", "rob": "researcher",
         "pete": "peer_researcher", "cara": "commissioner"}


@pytest.fixture
def team_db(tmp_path, monkeypatch):
    """A SQLite database with review 'R' (maria and cara on its team) and accounts on."""
    for name in [k for k in list(os.environ) if k.startswith("REVIEWKIT_")]:
        monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'team.sqlite'}"
    (tmp_path / "a.ris").write_text(GOOD_RIS, encoding="utf-8")
    store = Store(url)
    for name, role in ROLES.items():
        accounts.create_user(store, name, role=role, password=PASSWORDS[name], actor="admin")
    review = store.create_review("R", actor="boss")
    accounts.add_member(store, review.id, "maria", actor="boss")
    accounts.add_member(store, review.id, "cara", role="commissioner", actor="boss")
    accounts.set_accounts(store, True, actor="boss")
    store.close()
    monkeypatch.chdir(tmp_path)
    return url


def _as(monkeypatch, url: str, who: str | None, *args: str) -> int:
    monkeypatch.delenv("REVIEWKIT_PASSWORD", raising=False)
    if who:
        monkeypatch.setenv("REVIEWKIT_PASSWORD", PASSWORDS[who])
        return main(["--database", url, "--user", who, *args])
    return main(["--database", url, *args])


COMMANDS = {
    "list reviews": ("reviews",),
    "export records": ("export", "--review", "R", "--format", "csv", "--output", "out.csv"),
    "import a file": ("import", "a.ris", "--review", "R"),
    "write a brief": ("brief", "--review", "R", "--format", "md", "--output", "brief.md"),
    "add a member": ("member", "add", "rob", "--review", "R"),
    "list accounts": ("user", "list"),
    "publish the site": ("publish", "--review", "R", "--briefs", "md", "--output", "site"),
}
# who succeeds at each command (exit status 0); everyone else gets status 1 and a reason
SUCCEEDS = {
    "list reviews": {"boss", "maria", "rob", "pete", "cara"},
    "export records": {"boss", "maria"},
    "import a file": {"boss", "maria"},
    "write a brief": {"boss", "maria", "cara"},
    "add a member": {"boss"},
    "list accounts": {"boss"},
    "publish the site": {"boss"},
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_role_runs_exactly_its_commands(team_db, monkeypatch, capsys, command):
    outcomes = {}
    for who in [*ROLES, None]:
        status = _as(monkeypatch, team_db, who, *COMMANDS[command])
        captured = capsys.readouterr()
        # a second import of the same file is turned away as already imported (status 3):
        # that person got past the permission check
        outcomes[who] = 0 if status == 3 and "already imported" in captured.err else status
        if outcomes[who] != 0:
            assert status == 1
            assert "may not" in captured.err or "not a member" in captured.err or \
                "Accounts are on" in captured.err, captured.err
    assert {who for who, status in outcomes.items() if status == 0} == SUCCEEDS[command]


def test_reviews_lists_only_the_teams_one_is_on(team_db, monkeypatch, capsys):
    assert _as(monkeypatch, team_db, "maria", "reviews") == 0
    assert capsys.readouterr().out.startswith("R\t")
    assert _as(monkeypatch, team_db, "rob", "reviews") == 0
    assert capsys.readouterr().out == ""


def test_a_refused_import_stores_nothing(team_db, monkeypatch, capsys):
    assert _as(monkeypatch, team_db, "cara", "import", "a.ris", "--review", "R") == 1
    assert "cara (commissioner) may not import files in the review 'R'" in capsys.readouterr().err
    store = Store(team_db)
    assert store.count_records(store.get_review("R").id) == 0
    assert not [e for e in store.audit_entries() if e.action == "import.create"]


def test_wrong_password_and_missing_name_are_refused(team_db, monkeypatch, capsys):
    monkeypatch.setenv("REVIEWKIT_PASSWORD", "not-her-password")
    assert main(["--database", team_db, "--user", "maria", "reviews"]) == 1
    assert "do not match an active account" in capsys.readouterr().err
    monkeypatch.delenv("REVIEWKIT_PASSWORD")
    assert main(["--database", team_db, "reviews"]) == 1
    assert "Accounts are on" in capsys.readouterr().err


def test_admin_sets_up_a_team_from_the_command_line(tmp_path):
    """The README's recipe, run as a user runs it: accounts off, then on."""
    (tmp_path / "a.ris").write_text(GOOD_RIS, encoding="utf-8")
    assert run_cli("import", "a.ris", "--review", "R", cwd=tmp_path).returncode == 0
    done = run_cli("accounts", "on", cwd=tmp_path)
    assert done.returncode == 1 and "no admin has a password" in done.stderr
    done = run_cli("user", "add", "boss", "--role", "admin",
                   cwd=tmp_path, env={"REVIEWKIT_NEW_PASSWORD": PASSWORDS["boss"]})
    assert done.returncode == 0, done.stderr
    assert run_cli("accounts", "on", cwd=tmp_path).returncode == 0
    done = run_cli("reviews", cwd=tmp_path)
    assert done.returncode == 1 and "Accounts are on" in done.stderr
    done = run_cli("--user", "boss", "reviews", cwd=tmp_path,
                   env={"REVIEWKIT_PASSWORD": PASSWORDS["boss"]})
    assert done.returncode == 0 and done.stdout.startswith("R\t2 records")
