"""Hostile and broken input: every importer either reads clean records or refuses the file by
name, a refused import changes nothing stored, markup stays text, and search characters that
mean something to SQL are only characters.

The generators live in tests/hostile_strategies.py; benchmarks/hostile.py runs them longer.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from reviewkit.errors import FormatError, ReviewkitError
from reviewkit.formats import read_bibtex, read_csv, read_endnote_xml, read_medline, read_ris
from reviewkit.fulltext import attach_pdf, attach_zip, safe_pdf_entries
from reviewkit.importing import export_records, import_file
from reviewkit.records import Record
from reviewkit.store.schema import metadata
from tests.hostile_strategies import (
    STRATEGIES,
    any_file,
    any_text,
    nasty_value,
    read_outcome,
    record_problems,
    time_limit,
    tiny_pdf,
)

ROOT = Path(__file__).resolve().parent.parent

# Generous per-example deadline: the machine is shared, and a real hang is caught by
# time_limit inside read_outcome rather than by hypothesis.
HOSTILE = settings(max_examples=120, deadline=timedelta(seconds=20), database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- readers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(set(STRATEGIES) - {"wide"}))
@HOSTILE
@given(data=st.data())
def test_reader_returns_clean_records_or_refuses_by_name(kind, data):
    filename, content = data.draw(STRATEGIES[kind], label="file")
    assert read_outcome(filename, content) in ("read", "refused")


@settings(HOSTILE, max_examples=25)
@given(file=STRATEGIES["wide"])
def test_records_with_thousands_of_fields_read_or_refuse(file):
    assert read_outcome(*file) in ("read", "refused")


TEXT_READERS = {"ris": read_ris, "bibtex": read_bibtex, "medline": read_medline,
                "endnote_xml": read_endnote_xml, "csv": read_csv}


@pytest.mark.parametrize("name", sorted(TEXT_READERS))
@HOSTILE
@given(text=st.one_of(any_text, st.lists(nasty_value, max_size=12).map("\n".join)))
def test_text_reader_given_any_string_never_fails_otherwise(name, text):
    # Text that never went through decode_bytes: lone surrogates and NULs reach the reader.
    with time_limit(30):
        try:
            records = TEXT_READERS[name](text, filename="raw.txt")
        except ReviewkitError as exc:
            assert "raw.txt" in str(exc)
            return
    for record in records:
        assert not record_problems(record)


# A long enough file lets a couple of control bytes through the decoder's binary check.
_PADDING = "\n" + "% padding line so the file is mostly ordinary text\n" * 20


@pytest.mark.parametrize(("name", "text", "title"), [
    ("controls.ris", "TY  - JOUR\nTI  - Title\x07 with\x1b[31m bell\nAB  - "
     + "ordinary words " * 100 + "\nER  - \n", "Title with[31m bell"),
    ("header.csv", "title,Notes\x01on\x02screening,\x7f\nA paper,kept,also kept\n"
     + "Another paper,x,y\n" * 20, "A paper"),
    ("fieldname.bib", "@article{k,\n  title = {A paper},\n  no\x01tes = {kept}\n}\n"
     + _PADDING, "A paper"),
], ids=["ris", "csv", "bibtex"])
def test_control_characters_never_reach_a_record(name, text, title):
    # The decoder lets a few control bytes through in an otherwise text file; the records
    # built from it must still be clean, field names included, and nothing else is lost.
    records = _read_text(name, text)
    for record in records:
        assert not record_problems(record), record_problems(record)
    assert records[0].title == title
    kept = [value for record in records for values in record.extra.values() for value in values]
    if name != "controls.ris":
        assert "kept" in kept


def _read_text(name: str, text: str) -> list[Record]:
    from reviewkit.formats import read_records

    return read_records(text.encode("utf-8"), filename=name)


def test_pdf_text_layer_with_nul_and_controls_is_stored_clean(store):
    review = store.create_review("PDF with NUL")
    words = (b"Community resilience and neighbourhood wellbeing in older adults: a mixed "
             b"methods evaluation \x00\x01\x02\x1b end of text")
    import_file(store, review, tiny_pdf(words), "nul.pdf", actor="ana")
    stored = store.get_record(store.list_records(review.id)[0].id).record
    assert "mixed methods evaluation end of text" in stored.full_text
    assert not record_problems(stored)


# -- the import pipeline into a real database -------------------------------------------------

def _row_counts(store) -> dict[str, int]:
    with store.read() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in metadata.tables.items()}


@settings(HOSTILE, max_examples=60,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(file=any_file)
def test_import_stores_everything_or_nothing(store, file):
    filename, content = file
    review = store.find_review("Hostile imports") or store.create_review("Hostile imports")
    store.ensure_user("fuzz")  # so that the counts below see the import alone
    before = _row_counts(store)
    try:
        with time_limit(60):
            batch = import_file(store, review, content, filename, actor="fuzz")
    except ReviewkitError as exc:
        assert filename in str(exc)
        assert _row_counts(store) == before  # audit log and every table untouched
        return
    after = _row_counts(store)
    assert after["import_batches"] == before["import_batches"] + 1
    assert after["records"] == before["records"] + batch.record_count
    assert after["audit_log"] == before["audit_log"] + 1
    stored = store.list_records(review.id, order_by="id", descending=True,
                                limit=batch.record_count)
    for item in stored:
        assert not record_problems(item.record)


def test_long_values_are_stored_whole_on_every_database(store):
    # PostgreSQL enforces String(n); real exports hold long issues, languages and file names.
    review = store.create_review("Long fields")
    data = ("title,volume,issue,language\nA fine paper,12,3,English\nA long row," + "9" * 100
            + ",Suppl. 2 " + "(Proceedings of a long meeting) " * 4 + ","
            + "; ".join(["English", "French", "German", "Spanish", "Italian"] * 4)
            + "\n").encode()
    import_file(store, review, data, "long.csv", actor="ana")
    stored = {s.record.title: s.record for s in store.list_records(review.id)}
    assert stored["A long row"].volume == "9" * 100
    assert len(stored["A long row"].issue) > 64 and len(stored["A long row"].language) > 64
    long_name = "x" * 300 + ".ris"
    batch = import_file(store, review, b"TY  - JOUR\nTI  - A title\nER  - \n", long_name,
                        actor="ana", search_date="searched 1 March 2024, updated 3 March 2024")
    assert batch.database_name == "x" * 300


# -- markup stays text ------------------------------------------------------------------------

HOSTILE_TITLE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
# Exports write markup as entities; the reader turns them back into the characters.
HOSTILE_TITLE_AS_ENTITIES = ('&lt;script&gt;window.pwned=1&lt;/script&gt;'
                             '&lt;img src=x onerror="window.pwned=2"&gt;')


def _hostile_ris(marker: str) -> bytes:
    return (f"TY  - JOUR\r\nTI  - {HOSTILE_TITLE_AS_ENTITIES}\r\nAU  - Tester, {marker}\r\n"
            f"AB  - <b>bold?</b> {marker}\r\nPY  - 2024\r\nER  - \r\n").encode()


def test_markup_in_a_title_is_kept_as_characters_and_exported_as_text(store):
    review = store.create_review("Markup")
    import_file(store, review, _hostile_ris("markup-test"), "markup.ris", actor="ana")
    [stored] = store.list_records(review.id)
    assert stored.record.title == HOSTILE_TITLE
    for fmt in ("ris", "bibtex", "csv"):
        exported = export_records(store, review, fmt).decode("utf-8-sig")
        assert "window.pwned=1" in exported


def test_markup_in_a_story_body_is_stored_verbatim(store):
    from reviewkit.library import Consent, add_contribution, library_entries

    body = f"Residents wrote this. {HOSTILE_TITLE} <iframe src=javascript:alert(1)></iframe>"
    front = {"title": f"Story {HOSTILE_TITLE}", "type": "lived-experience story",
             "place": "Anytown", "local_authority": "Halton", "years": "2024",
             "approaches": ["volunteering_peer_support"], "outcomes": ["reduced_isolation"],
             "domains": ["social_connectivity"], "population": "Older residents",
             "summary": "A story with markup in it.", "attribution": "Group member",
             "visibility": "public"}
    consent = Consent(who="Group member", when="2024-05-01", purposes=["publish in the library"],
                      given_by="the member, signed form")
    entry_id = add_contribution(store, front_matter=front, body=body, consent=consent,
                                actor="ana")
    [entry] = [e for e in library_entries(store) if getattr(e, "db_id", None) == entry_id]
    assert entry.body == body
    assert entry.title == front["title"]


@pytest.mark.browser
def test_script_in_a_title_shows_as_text_in_the_app(page, app_url, tmp_path):
    from tests.conftest import screenshot

    upload = tmp_path / "hostile_title.ris"
    upload.write_bytes(_hostile_ris("browser-hostile-7f3a"))
    page.goto(f"{app_url}/import")
    page.get_by_role("heading", name="Import search results").wait_for(timeout=120_000)
    page.locator("input[type=file]").set_input_files(str(upload))
    page.get_by_text("RIS file with").wait_for()
    page.get_by_role("button", name="Import 1 file(s)").click()
    page.get_by_text("imported", exact=False).first.wait_for()

    page.goto(f"{app_url}/records")
    box = page.get_by_role("textbox", name="Search titles, abstracts, authors, journals and DOIs")
    box.wait_for(timeout=120_000)
    box.fill("browser-hostile-7f3a")
    box.press("Enter")
    page.get_by_text("1 records match").wait_for()
    grid = page.get_by_test_id("stDataFrame").first
    grid.wait_for()
    area = grid.bounding_box()
    page.mouse.click(area["x"] + 12, area["y"] + 35 + 17)  # the first row's selection marker
    heading = page.get_by_role("heading", name="window.pwned=1", exact=False)
    heading.wait_for()
    screenshot(page, "hostile-title")
    assert heading.inner_text().strip() == HOSTILE_TITLE
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator("img[src=x]").count() == 0
    assert page.locator("script", has_text="window.pwned").count() == 0


# -- SQL meta characters in search ------------------------------------------------------------

SEARCH_TITLES = [
    "Plain resilience study",
    "Discounts of 100% for residents",
    "snake_case names in data",
    r"A back\slash in a title",
    "O'Brien's study of \"quoted\" words",
    "'; DROP TABLE records; -- a title that is an attack",
]


@pytest.mark.parametrize("query", ["'; DROP TABLE records; --", "%", "_", "\\", "'", '"',
                                   "100%", "snake_case", "O'Brien's", "%' OR '1'='1", "--",
                                   "\x00", "%_%", "[a-z]"])
def test_sql_meta_characters_in_record_search_are_plain_characters(store, query):
    review = store.create_review("Search")
    store.add_import(review.id, [Record(title=t) for t in SEARCH_TITLES], filename="s.ris",
                     format="ris", sha256="a" * 64, size_bytes=1)
    before = _row_counts(store)
    # Control characters are dropped from what is typed; nothing left means no filter at all.
    words = ["".join(c for c in w if c.isprintable()).lower() for w in query.split()]
    words = [w for w in words if w]
    expected = sorted(t for t in SEARCH_TITLES if all(w in t.lower() for w in words))
    found = sorted(s.record.title for s in store.list_records(review.id, search=query))
    count = store.count_records(review.id, search=query)
    exported = export_records(store, review, "csv", search=query)
    assert found == expected
    assert count == len(expected)
    assert exported.count(b"\r\n") == len(expected) + 1  # the header and one row each
    assert _row_counts(store) == before


@pytest.mark.parametrize("query", ["'; DROP TABLE records; --", "%", "_", "\\", "\"", "*",
                                   "(", "[", "?", "100%", "\x00", "<script>"])
def test_sql_meta_characters_in_library_search_do_no_harm(library, query):
    from reviewkit.library import library_entries
    from reviewkit.library.visibility import Viewer

    entries, index = library
    hits = index.search(query, top=10, mode="lexical", viewer=Viewer.public())
    assert all(hit.entry in entries for hit in hits)
    assert len(library_entries()) == len(entries)


def test_library_search_finds_a_word_next_to_meta_characters(library):
    from reviewkit.library.visibility import Viewer

    entries, index = library
    plain = index.search("loneliness", top=5, mode="lexical", viewer=Viewer.public())
    salted = index.search("'; loneliness % --", top=5, mode="lexical", viewer=Viewer.public())
    assert plain and [h.entry.id for h in salted] == [h.entry.id for h in plain]


@pytest.fixture(scope="module")
def library():
    from reviewkit.library import LibraryIndex, library_entries

    entries = library_entries()
    return entries, LibraryIndex.build(entries, semantic=False)


# -- upload size ------------------------------------------------------------------------------

def test_cli_honours_the_import_size_limit_and_stores_nothing(tmp_path):
    big = tmp_path / "big.ris"
    big.write_bytes(b"TY  - JOUR\nTI  - A title for the size test\nER  - \n" * 30_000)
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    env = dict(os.environ, REVIEWKIT_MAX_IMPORT_MB="1", REVIEWKIT_DATABASE_URL=url,
               HF_HUB_OFFLINE="1")
    done = subprocess.run([sys.executable, "-m", "reviewkit", "import", str(big),
                           "--review", "Size"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "big.ris" in done.stderr and "1 MB import limit" in done.stderr
    assert "Traceback" not in done.stderr
    from reviewkit.store import Store

    opened = Store(url)
    try:
        assert sum(b.record_count for r in opened.list_reviews()
                   for b in opened.list_batches(r.id)) == 0
    finally:
        opened.close()


# -- zips and PDFs for full texts (what tests/test_fulltext.py does not cover) ----------------

GOOD_TEXT = (b"Community resilience and neighbourhood wellbeing in older adults, a mixed methods "
             b"evaluation of local decisions.")


def _zip(entries: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@settings(max_examples=150, deadline=timedelta(seconds=20), database=None)
@given(method=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
       flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                      min_size=1, max_size=6))
def test_damaged_zip_is_refused_in_plain_words(method, flips):
    data = bytearray(_zip({"paper.pdf": tiny_pdf(GOOD_TEXT), "b/other.pdf": tiny_pdf(GOOD_TEXT)},
                          method))
    for where, value in flips:
        data[int(where * len(data))] = value
    try:
        entries = safe_pdf_entries(bytes(data), filename="flipped.zip")
    except FormatError as exc:
        assert "flipped.zip" in str(exc)
    else:
        assert all(isinstance(content, bytes) for _, content in entries)


def test_windows_traversal_and_hidden_names_are_reduced_or_skipped():
    pdf = tiny_pdf(GOOD_TEXT)
    entries = safe_pdf_entries(_zip({"..\\..\\Windows\\evil.pdf": pdf, "__MACOSX/._paper.pdf": pdf,
                                     "inner.zip": _zip({"nested.pdf": pdf}), "ok.pdf": pdf}))
    assert sorted(name for name, _ in entries) == ["evil.pdf", "ok.pdf"]


def test_zip_with_too_many_files_is_refused_before_unpacking():
    many = _zip({f"p{i}.pdf": b"%PDF-1.4\n" for i in range(2001)}, zipfile.ZIP_STORED)
    with pytest.raises(FormatError, match=r"many\.zip.*2001 files.*2000"):
        safe_pdf_entries(many, filename="many.zip")


def test_zip_whose_header_understates_a_file_is_refused():
    pdf = tiny_pdf(GOOD_TEXT)
    data = bytearray(_zip({"paper.pdf": pdf}, zipfile.ZIP_STORED))
    # Lower the declared unpacked size in the local and the central header (offsets 22 and 24
    # from their signatures): the stored bytes are then longer than the header says.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = bytes(data).index(signature) + offset
        data[at:at + 4] = (len(pdf) - 10).to_bytes(4, "little")
    with pytest.raises(FormatError, match="liar.zip"):
        safe_pdf_entries(bytes(data), filename="liar.zip")


def test_encrypted_zip_member_is_refused_in_plain_words():
    data = bytearray(_zip({"paper.pdf": tiny_pdf(GOOD_TEXT)}, zipfile.ZIP_STORED))
    # Set the 'encrypted' flag in the local and central headers, as a password-protected zip.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = bytes(data).index(signature) + offset
        data[at] |= 1
    with pytest.raises(FormatError, match=r"locked\.zip.*(encrypted|damaged)"):
        safe_pdf_entries(bytes(data), filename="locked.zip")


def test_broken_pdfs_in_a_zip_are_reported_and_the_good_one_attached(store):
    review = store.create_review("Zip with broken PDFs")
    store.add_import(review.id, [Record(title="Community resilience and neighbourhood wellbeing "
                                              "in older adults, a mixed methods evaluation")],
                     filename="s.ris", format="ris", sha256="b" * 64, size_bytes=1)
    records = store.list_records(review.id)
    good = tiny_pdf(GOOD_TEXT)
    results = attach_zip(store, records, _zip({"good.pdf": good, "cut.pdf": good[:300],
                                               "junk.pdf": b"%PDF-1.4\n" + bytes(range(256))}),
                         actor="ana")
    outcome = {r.filename: r for r in results}
    assert outcome["good.pdf"].record_id == records[0].id
    assert outcome["cut.pdf"].record_id is None and "cut.pdf" in outcome["cut.pdf"].message
    assert outcome["junk.pdf"].record_id is None and "junk.pdf" in outcome["junk.pdf"].message
    assert store.records_with_fulltext(review.id) == {records[0].id}


def test_huge_pdf_is_refused_before_it_is_read(store):
    review = store.create_review("Huge PDF")
    store.add_import(review.id, [Record(title="A record for a huge PDF")], filename="s.ris",
                     format="ris", sha256="c" * 64, size_bytes=1)
    rid = store.list_records(review.id)[0].id
    huge = tiny_pdf(GOOD_TEXT) + b"%" * (61 * 1024 * 1024)
    with pytest.raises(FormatError, match=r"huge\.pdf.*over 60 MB"):
        attach_pdf(store, rid, huge, "huge.pdf", actor="ana")
    assert store.fulltext_file(rid) is None


def test_the_bad_character_pattern_is_unicode_control_and_surrogate_categories():
    import unicodedata

    from tests import hostile_strategies

    every = "".join(chr(point) for point in range(0x110000))
    by_category = [ch for ch in every if ch not in "\t\n"
                   and unicodedata.category(ch) in ("Cc", "Cs")]
    assert hostile_strategies._bad_characters(every) == by_category
