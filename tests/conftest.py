"""Shared fixtures: a fresh database per test, on SQLite and on a real PostgreSQL server.

A test that needs the demo review asks for ``demo`` (the review, in the ``store`` fixture's
database, on both backends) or ``demo_database_url`` (a SQLite file holding it, for AppTest
pages), or calls ``tests.templates.demo_review(store)`` on a store it opened itself. All three
copy a template that ``ensure_demo_review`` builds once per session, instead of rebuilding it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

# argon2-cffi's cheapest parameters for the accounts the tests create (at the standard cost,
# hashing took about a tenth of a second each, 16 s of test_accounts.py alone); set before
# reviewkit.accounts is imported, and inherited by the app servers and commands the tests
# start. tests/test_accounts.py checks the standard cost in a process without it.
os.environ.setdefault("REVIEWKIT_TEST_CHEAP_PASSWORD_HASHES", "1")

from reviewkit.store import Store  # noqa: E402
from tests.templates import copy_demo_database, copy_sqlite, demo_review, sqlite_schema_template

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres_user(args: list[str]) -> list[str]:
    # initdb refuses to run as root; the Debian package brings a 'postgres' account.
    if os.geteuid() == 0:
        return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in args)]
    return args


@pytest.fixture(autouse=True)
def _main_module_kept():
    """Put back ``sys.modules['__main__']`` after each test: AppTest runs a page as __main__ and
    leaves it there, and a process spawned later would try to run that page first."""
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def postgres_server():
    """Start a throwaway PostgreSQL server on loopback for the test session; yield its base URL."""
    bindir = _postgres_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries are missing on CI: .ci/run must install postgresql")
        pytest.skip("PostgreSQL is not installed here (apt-get install postgresql); "
                    "the PostgreSQL half of the storage tests is skipped")
    workdir = Path(tempfile.mkdtemp(prefix="reviewkit-pg-"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    port = _free_port()
    datadir, log = workdir / "data", workdir / "log"
    subprocess.run(_as_postgres_user([
        str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust",
        "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {workdir} -c fsync=off"
    subprocess.run(_as_postgres_user([
        str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(log), "-o", options, "-w", "start"]),
        check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres_user([
            str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w", "stop"]),
            capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


_TEST_DATABASE = "reviewkit_test"
_SCHEMA_TEMPLATE = "reviewkit_schema_template"


@pytest.fixture(scope="session")
def postgres_database(postgres_server):
    """The session's PostgreSQL base URL, with a template database holding reviewkit's empty
    schema (made once by ``Store``, the same code every test would run)."""
    import psycopg

    base = postgres_server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{_SCHEMA_TEMPLATE}"')
    Store(f"{postgres_server}/{_SCHEMA_TEMPLATE}").close()
    return base


@pytest.fixture
def postgres_url(request, postgres_server, postgres_database):
    """A URL to a new PostgreSQL database: empty, or (for a test that uses ``store``) holding
    reviewkit's empty schema, copied from the session's template.

    ``CREATE DATABASE ... TEMPLATE`` copies the schema in a fraction of the time ``Store`` takes
    to make it table by table (benchmarks/RESULTS.md, suite time); the database a previous test
    used is dropped first, ending any connection it left open.
    """
    import psycopg

    template = _SCHEMA_TEMPLATE if "store" in request.fixturenames else "template0"
    with psycopg.connect(f"{postgres_database}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{_TEST_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{_TEST_DATABASE}" TEMPLATE "{template}"')
    return f"{postgres_server}/{_TEST_DATABASE}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh database URL: a SQLite file, then a real PostgreSQL database. Empty, or, for a
    test that uses ``store``, a copy of reviewkit's empty schema (which ``Store`` would make)."""
    if request.param == "sqlite":
        path = tmp_path / "reviewkit.sqlite"
        if "store" in request.fixturenames:
            return copy_sqlite(sqlite_schema_template(), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(database_url):
    opened = Store(database_url)
    yield opened
    opened.close()


@pytest.fixture
def demo(store):
    """The demo review in ``store`` (copied from a template built once per session)."""
    return demo_review(store)


@pytest.fixture
def demo_on_sqlite(tmp_path):
    """(store, demo review, its included record ids) on a SQLite file only, for quick tests of
    review work that the storage tests already run on PostgreSQL."""
    from reviewkit.screening.status import included_record_ids

    opened = Store(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    review = demo_review(opened)
    yield opened, review, included_record_ids(opened, review)
    opened.close()


@pytest.fixture
def untouched(demo_on_sqlite):
    """Like ``demo_on_sqlite``, with only the included studies the demo left unextracted and
    unappraised (it gives a handful both)."""
    from reviewkit import appraisal, extraction

    store, review, ids = demo_on_sqlite
    seeded = {rid for rid, study in extraction.study_extractions(store, review).items()
              if study.status != "not started"} | set(appraisal.study_quality(store, review.id))
    return store, review, [rid for rid in ids if rid not in seeded]


@pytest.fixture
def demo_database_url(tmp_path):
    """A SQLite file holding the demo review, for pages and the app that open it themselves."""
    return copy_demo_database(tmp_path / "demo.sqlite")


ARTIFACTS = ROOT / "test-artifacts"


@contextlib.contextmanager
def running_app(datadir: Path, env: dict | None = None, *, address: str | None = "127.0.0.1"):
    """Run the real Streamlit app on loopback with its data in ``datadir``; yield its address.
    ``address=None`` starts it as the README says, with no address on the command line (the
    config decides); its log is ``datadir/streamlit.log``."""
    import time
    import urllib.request

    port = _free_port()
    environment = dict(os.environ, REVIEWKIT_DATA_DIR=str(datadir), HF_HUB_OFFLINE="1")
    environment.pop("REVIEWKIT_DATABASE_URL", None)
    environment.update(env or {})
    log = open(datadir / "streamlit.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
         "--server.headless", "true", "--server.port", str(port),
         *(["--server.address", address] if address else []),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        server.kill()
        pytest.fail("the Streamlit app did not start: " + (datadir / "streamlit.log").read_text())
    try:
        yield url
    finally:
        # A loaded machine can keep Streamlit's graceful shutdown waiting; the app's data is
        # throwaway, so after a short grace it is killed rather than failing the test.
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """Start the real Streamlit app on loopback with its own database; yield its address."""
    datadir = tmp_path_factory.mktemp("app-data")
    copy_demo_database(datadir / "reviewkit.sqlite")  # what the app would build on first start
    with running_app(datadir) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing on CI: .ci/run must install it")
        pytest.skip("Chromium is not installed here (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, app_url):
    """A fresh browser tab; a screenshot lands in test-artifacts/ when the test ends."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def open_page(tab, link: str, heading: str) -> None:
    """Follow a sidebar menu link and wait for the page's heading and its run to finish."""
    tab.get_by_test_id("stSidebarNav").get_by_role("link", name=link, exact=True).click()
    tab.get_by_role("heading", name=heading, exact=True).wait_for()
    settled(tab)


class LostInput(UserWarning):
    """A key press or click the app did not act on, repeated once as a person would."""


def once_more(tab, attempt, *, what: str, wait: float = 10_000, acted=None):
    """One step of a journey that the app can miss under load, retried once as a person would.

    ``attempt(timeout)`` acts (a click, a key) and waits up to ``timeout`` ms for its effect,
    raising if it does not come; its value is returned. If it times out, a screenshot is saved,
    and once the app's run has finished ``acted()`` (if given) says whether the step took
    effect after all, only slowly; if not, ``attempt`` runs once more with at least 30 s, and a
    :class:`LostInput` warning names ``what`` (the run's summary shows it). The one helper for
    every retried click, key, download and file dialogue."""
    try:
        return attempt(wait)
    except Exception:
        shot = screenshot(tab, "lost-input")
        state = tab.evaluate("""() => ({
            focus: document.activeElement && document.activeElement.tagName,
            run: (document.querySelector('[data-testid="stApp"]') || document.body)
                 .getAttribute('data-test-script-state')})""")
    if tab.locator('[data-testid="stApp"]').count():  # the app, not the site from disk
        settled(tab)
    if acted is not None and acted():
        return None
    try:
        result = attempt(max(wait, 30_000))
    except Exception:
        raise AssertionError(f"{what} was not acted on ({state}; {shot}), and a second try "
                             "did not help either") from None
    warnings.warn(LostInput(f"{what} was not acted on ({state}; {shot}); a second try was"),
                  stacklevel=3)
    return result


def click_until(tab, button, done, *, wait: float = 10_000) -> None:
    """Click ``button`` and wait for the locator ``done``; click once more if it does not
    come (:func:`once_more`)."""
    def attempt(timeout: float) -> None:
        button.click()
        done.wait_for(timeout=timeout)
    once_more(tab, attempt, what="a click", wait=wait,
              acted=lambda: bool(done.count() and done.first.is_visible()))


def download_by_click(tab, button, *, wait: float = 30_000) -> bytes:
    """Click a download button and return the file's bytes; click once more if no download
    starts (:func:`once_more`)."""
    def attempt(timeout: float) -> bytes:
        with tab.expect_download(timeout=timeout) as info:
            button.click()
        return Path(info.value.path()).read_bytes()
    return once_more(tab, attempt, what="a download click", wait=wait)


def choose_option(tab, key: str, option: str, tries: int = 3, settle: bool = True) -> None:
    """Open the drop-down with widget key ``key`` by mouse and choose ``option``. A click that
    lands while a run redraws the drop-down opens nothing; a person would click again, and so
    does this (up to ``tries`` times) before it fails. ``settle``: wait for the run the choice
    starts (not when the next step must come at once)."""
    for attempt in range(tries):
        settled(tab)
        tab.locator(f".st-key-{key}").click()
        wanted = tab.get_by_role("option", name=option, exact=True)
        try:
            wanted.wait_for(timeout=15_000)
        except Exception:
            if attempt == tries - 1:
                raise
            tab.keyboard.press("Escape")
            continue
        wanted.click()
        if settle:
            settled(tab)
        return


def record_title(tab) -> str:
    """The title of the record on the Screen page."""
    return tab.locator("[data-testid='stMain'] h3").first.inner_text()


# True once the Screen page shows a record other than the one titled ``old``.
_MOVED_ON = ("old => { const h = document.querySelector(\"[data-testid='stMain'] h3\");"
             " return h && h.innerText !== old; }")


def wait_for_next_record(tab, before: str, timeout: float = 60_000) -> None:
    """Wait until the Screen page shows another record than the one titled ``before``."""
    tab.wait_for_function(_MOVED_ON, arg=before, timeout=timeout)


def decide_by_key(tab, key: str) -> None:
    """Press a screening key and wait until the next record's title replaces this one (pressed
    once more if it does not, :func:`once_more`)."""
    settled(tab)
    before = record_title(tab)

    def attempt(timeout: float) -> None:
        tab.keyboard.press(key)
        wait_for_next_record(tab, before, timeout)
    once_more(tab, attempt, what=f"pressing {key!r} on {before!r}", wait=60_000,
              acted=lambda: tab.evaluate(_MOVED_ON, before))


# True once the app's run has finished and the first text node holding the title comes before
# the first "Read it" button (while a run is on, the list on screen may be the one before it).
_FIRST_RESULT_IS = """(title) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const button = [...document.querySelectorAll('button')]
    .find(b => b.innerText.trim() === 'Read it');
  if (!button) return false;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.textContent.includes(title))
      return Boolean(node.compareDocumentPosition(button) & Node.DOCUMENT_POSITION_FOLLOWING);
  }
  return false;
}"""


def read_first_result(tab, title: str, timeout: float = 120_000) -> None:
    """On the stories page, wait until the first result is ``title`` (the search has answered,
    not the list drawn before it), then press its "Read it"."""
    tab.wait_for_function(_FIRST_RESULT_IS, arg=title, timeout=timeout)
    tab.get_by_role("button", name="Read it").first.click()
    dialog = tab.get_by_role("dialog")
    try:
        dialog.get_by_text(title, exact=False).first.wait_for(timeout=timeout)
    except Exception:
        shown = dialog.inner_text()[:500] if dialog.count() else "no dialog open"
        shot = screenshot(tab, "read-first-result-stuck")
        raise AssertionError(f"'Read it' on {title!r} did not open it: {shown!r}; "
                             f"screenshot {shot}") from None


def settled(tab, timeout: float = 120_000) -> None:
    """Wait until the app's script has finished its run (Streamlit marks it on the root)."""
    tab.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=timeout)


def screenshot(tab, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    return path


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist; unknown without it
def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadfile``, every browser journey goes to one worker, one after another,
    while the other worker takes the rest file by file. Two journeys at once on a 2-core
    machine starve each other's app servers until a click lands mid-redraw (seen in full runs),
    and the journeys take about as long together as all the other tests."""
    if config.getoption("dist") != "loadfile":
        return None
    from collections import OrderedDict

    from xdist.scheduler import LoadFileScheduling

    JOURNEYS = "browser journeys"

    class JourneysFirst(OrderedDict):
        """The queue of files, with the journeys always at its head: they are the longest
        piece of work, so they start at once (they came third or fourth, about 55 s in)."""

        def __setitem__(self, scope, tests) -> None:
            super().__setitem__(scope, tests)
            if scope == JOURNEYS:
                self.move_to_end(scope, last=False)

    class BrowserJourneysTogether(LoadFileScheduling):
        def __init__(self, config, log=None) -> None:
            super().__init__(config, log)
            self.workqueue = JourneysFirst()

        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return JOURNEYS if Path(path).name.startswith("test_browser_") else path

        def _reschedule(self, node) -> None:
            # the worker with the journeys takes nothing more until the last one is under
            # way: a file queued behind them (xdist tops a worker up when two tests are left)
            # waited there while the other worker sat idle (about 50 s in a full run). A
            # worker holds its last test until it is sent another or told to stop, so the
            # next file is sent when one journey is left, else the worker idles to the end.
            journeys = self.assigned_work.get(node, {}).get(JOURNEYS)
            if journeys is not None and sum(not done for done in journeys.values()) > 1:
                return
            super()._reschedule(node)

    return BrowserJourneysTogether(config, log)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """When a browser test fails, save what every open tab shows (test-artifacts/failed-*.png)
    and name the files in the report, so a failure seen once in a full run can be read."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed or "browser" not in item.fixturenames:
        return
    browser = item.funcargs.get("browser")
    shots = []
    for c, context in enumerate(getattr(browser, "contexts", [])):
        for t, tab in enumerate(context.pages):
            name = f"failed-{item.name[:60]}-{c}-{t}"
            try:
                shots.append(f"{screenshot(tab, name)} ({tab.url})")
            except Exception as exc:  # a closed or crashed tab: say so, keep the report
                shots.append(f"{name}: no screenshot ({exc.__class__.__name__})")
    if shots:
        report.sections.append(("screenshots of the open tabs", "\n".join(shots)))


# The browser tests first, in one worker as in one process (-n 0): the journeys' scheduler
# above puts them at the head of its queue in any case.
def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: 0 if item.get_closest_marker("browser") else 1)  # stable
