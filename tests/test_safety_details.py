"""The smaller holes of issue 17: each one's plain answer instead of a traceback or a leak."""

from __future__ import annotations

import io

import pytest

from reviewkit import accounts, trash
from reviewkit.audit import AuditQuery, find_audit
from reviewkit.demo import ensure_demo_review, load_demo_definition
from reviewkit.formats import read_endnote_xml, read_pdf
from reviewkit.store import Store
from tests.templates import demo_review
from tests.test_cli_roles import _as, team_db  # noqa: F401  (the fixture)


def test_a_deleted_demo_review_stays_deleted_and_every_page_opens(tmp_path, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    store = Store(url)
    demo = demo_review(store)  # copied from the session's template
    trash.delete_review(store, demo.id, actor="admin")
    assert ensure_demo_review(store) is None  # was a NotFoundError traceback
    store.close()
    monkeypatch.setenv("REVIEWKIT_DATABASE_URL", url)
    st.cache_resource.clear()
    try:
        at = AppTest.from_file("../reviewkit/ui/app_script.py", default_timeout=120).run()
        assert not at.exception, at.exception
    finally:
        st.cache_resource.clear()


def test_a_stranger_asking_for_a_brief_creates_nothing(team_db, monkeypatch, capsys):  # noqa: F811
    store = Store(team_db)
    store.create_review("A second review", actor="boss")
    store.close()
    assert _as(monkeypatch, team_db, None, "brief", "--format", "md", "--output", "b.md") == 1
    assert "--user" in capsys.readouterr().err
    store = Store(team_db)
    try:
        assert store.find_review(load_demo_definition()["name"]) is None
    finally:
        store.close()


def test_restoring_a_whole_review_asks_who_you_are_first(team_db, monkeypatch, capsys):  # noqa: F811
    code = _as(monkeypatch, team_db, None, "restore", "--review", "Secret plans", "--whole-review")
    err = capsys.readouterr().err
    assert code == 1 and "--user" in err and "no deleted review" not in err


def test_deeply_nested_endnote_xml_reads_without_recursion():
    depth = 50_000
    text = ("<xml><records><record>" + "<a>" * depth + "x" + "</a>" * depth +
            "<titles><title>Nested deep</title></titles></record></records></xml>")
    (record,) = read_endnote_xml(text, filename="deep.xml")
    assert record.title == "Nested deep"


def test_an_aes_encrypted_pdf_with_an_empty_password_is_read():
    from pypdf import PdfReader, PdfWriter

    from tests.hostile_strategies import tiny_pdf

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(tiny_pdf(
        b"Community resilience in older adults, a mixed methods evaluation."))))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    (record,) = read_pdf(out.getvalue(), filename="aes.pdf")
    assert "Community resilience" in record.full_text


def test_a_nul_in_an_audit_filter_matches_nothing_on_every_database(store):
    accounts.create_user(store, "ada", role="researcher", password=None, actor="admin")
    assert find_audit(store, AuditQuery(text="ada")) != []
    for query in (AuditQuery(text="ada\x00"), AuditQuery(actor="ad\x00a"),
                  AuditQuery(action="user\x00"), AuditQuery(entity_id="1\x00")):
        assert find_audit(store, query) == []


@pytest.fixture(autouse=True)
def _no_reviewkit_env(monkeypatch):
    monkeypatch.delenv("REVIEWKIT_NO_DEMO", raising=False)
