"""The app as started from the README: it listens on this machine only, and is ready (code
loaded, database open) before the first visit."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import ROOT, _free_port, running_app


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as the kernel writes them) listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.append(address)
    return found


def test_plain_streamlit_run_listens_on_loopback_only(tmp_path):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux's /proc/net/tcp to see which addresses a server listens on")
    with running_app(tmp_path, {"REVIEWKIT_NO_DEMO": "1"}, address=None) as url:
        port = int(url.rsplit(":", 1)[1])
        addresses = _listening(port)
        assert addresses, "nothing listens on the app's port"
        # 0100007F is 127.0.0.1; IPv6 loopback ::1 is 0..01. 00000000 would be every interface.
        loopback = {"0100007F", "00000000000000000000000001000000"}
        assert set(addresses) <= loopback, addresses


def test_the_demo_review_is_ready_before_anyone_opens_a_page(tmp_path):
    # streamlit_app.py opens the database as the server starts: no visit has happened yet
    with running_app(tmp_path, address=None):
        with sqlite3.connect(tmp_path / "reviewkit.sqlite") as db:
            names = [name for (name,) in db.execute("SELECT name FROM reviews")]
            records = db.execute("SELECT count(*) FROM records").fetchone()[0]
    assert names == ["Developing resilient communities (demo)"]
    assert records > 100


def test_a_database_that_cannot_be_opened_does_not_keep_the_server_down(tmp_path):
    # nothing listens on this port: the server still starts, and says why in its log; the
    # first page then shows the error to the person (as before the server opened it early)
    unreachable = f"postgresql+psycopg://nobody@127.0.0.1:{_free_port()}/none"
    with running_app(tmp_path, {"REVIEWKIT_DATABASE_URL": unreachable}, address=None):
        pass
    log = (tmp_path / "streamlit.log").read_text()
    assert "the database could not be opened at start" in log


def test_the_server_loads_before_the_first_visit_what_the_app_script_imports():
    # streamlit_app.py's list is written by hand: it must not drift from the script's imports
    import ast

    script = ast.parse((ROOT / "reviewkit" / "ui" / "app_script.py").read_text(encoding="utf-8"))
    imported = {f"{node.module}.{alias.name}" for node in script.body
                if isinstance(node, ast.ImportFrom) and node.module.startswith("reviewkit")
                for alias in node.names}
    server = ast.parse((ROOT / "streamlit_app.py").read_text(encoding="utf-8"))
    shared = next(ast.literal_eval(node.value) for node in server.body
                  if isinstance(node, ast.Assign) and node.targets[0].id == "SHARED_MODULES")
    assert imported and imported <= set(shared), imported - set(shared)
