"""How quickly the Screen page answers in a real browser, at 1,000 and 10,000 records.

For each size a fresh SQLite review is filled with real titles and abstracts (the SYNERGY and
deduplication sets in ../shared/data/; past the ~8,000 real ones, records repeat with
"(copy N)" after the title) and 100 title-and-abstract decisions, so the model and the
stopping advice have something to work on.  The real app is started with
``streamlit run`` and driven by headless Chromium through Playwright at 1366x768:

* server start: from ``streamlit run`` to the server answering its health check (reviewkit's
  server loads the code every page needs before it answers: ``streamlit_app.py``);
* first load: from opening /screen to the decision buttons drawn and the run finished, three
  ways: a fresh server with a browser that never opened the app (cold: the page's own imports,
  first queries, first model; ``--colds`` times, each on a fresh server, alternating with the
  empty page: median and worst); the same server in a new browser profile (empty browser
  cache: Streamlit's ~60 JavaScript files fetched and compiled again); and a new tab in the browser that already
  opened it (what a reviewer who comes back sees: those files come from the browser cache);
* key -> next record: pressing E (exclude) until the next record's title is on screen,
  ``--presses`` times; median and worst.

Before the first measure the browser opens the empty page once, unmeasured, so that the browser
process's own start-up is not counted in whichever load comes first.  Between measures the
script waits for the server to fall idle (:func:`quiet_server`): the page starts the model's
retraining once it is drawn, and the next measure should not pay for it.

The same figures are taken in the same run for an empty Streamlit page (a title and one
button with a shortcut that changes a heading), so the ratio says what reviewkit adds to
Streamlit's own round trip on this (shared, noisy) machine.

    python benchmarks/ui_latency.py                  # 1k and 10k; appends to RESULTS.md
    python benchmarks/ui_latency.py --sizes 1000 --presses 5 --no-save
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewkit.records import Record  # noqa: E402
from reviewkit.store import Store  # noqa: E402

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
DATA = ROOT.parent / "shared" / "data"
SOURCES = [*sorted((DATA / "synergy").glob("*.csv")), *sorted((DATA / "dedup").glob("*.csv"))]
TA = "title_abstract"
EMPTY_APP = '''
import streamlit as st

st.title("Empty page")
st.session_state.setdefault("n", 0)


def bump():
    st.session_state["n"] += 1


st.subheader(f"Record {st.session_state['n']}")
st.button("Exclude", on_click=bump, shortcut="e")
'''


def real_records(n: int) -> list[Record]:
    """``n`` records with real titles and abstracts, repeated with '(copy N)' when short."""
    found = []
    for path in SOURCES:
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            for row in csv.DictReader(handle):
                title = (row.get("title") or "").strip()
                if title:
                    found.append((title, (row.get("abstract") or "").strip(),
                                  (row.get("journal") or "").strip()))
    if not found:
        raise SystemExit(f"No labelled data in {DATA}: this benchmark reads real records.")
    out = []
    for i in range(n):
        title, abstract, journal = found[i % len(found)]
        copy = i // len(found)
        out.append(Record(title=f"{title} (copy {copy + 1})" if copy else title,
                          abstract=abstract, journal=journal, source_id=str(i + 1)))
    return out


def build_review(folder: Path, n: int) -> str:
    """A SQLite database holding one review of ``n`` records and 100 decisions; its URL."""
    url = f"sqlite:///{folder / 'latency.sqlite'}"
    store = Store(url)
    review = store.create_review(f"Latency {n:,}")
    store.add_import(review.id, real_records(n), filename="real.csv", format="csv",
                     sha256=f"{n:064d}", size_bytes=1)
    for k, rid in enumerate(store.kept_record_ids(review.id)[:100]):
        store.add_decision(rid, stage=TA, decision="include" if k % 5 == 0 else "exclude",
                           reviewer="admin")
    store.close()
    return url


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(script: Path, folder: Path, env: dict):
    """Run ``streamlit run script`` headless on loopback; yield its address, its process id
    and the seconds it took to answer its health check."""
    port = _port()
    started = time.perf_counter()
    log = open(folder / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "REVIEWKIT_DATA_DIR": str(folder), **env})
    address = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):  # 60 s at most, asked every 0.05 s so the start is timed closely
            try:
                with urllib.request.urlopen(f"{address}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("the app did not start: " + (folder / "server.log").read_text())
        start = time.perf_counter() - started
        yield address, process.pid, start
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _cpu_seconds(pid: int) -> float:
    """CPU time of the process and its waited-for children so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def quiet_server(pid: int, most: float = 60.0) -> float:
    """Wait until the server has used under 0.03 s of CPU in half a second (work the last
    page started off-thread, such as the first retraining, is done); return the seconds
    waited.  Each first-load figure is then the load alone, not the load plus what the one
    before it left running."""
    start = time.perf_counter()
    before = _cpu_seconds(pid)
    while time.perf_counter() - start < most:
        time.sleep(0.5)
        now = _cpu_seconds(pid)
        if now - before < 0.03:
            break
        before = now
    return time.perf_counter() - start


def _settled(tab) -> None:
    tab.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=300_000)


def _heading(tab, selector: str) -> str:
    return tab.locator(selector).first.inner_text()


def first_load(opener, address: str, path: str) -> float:
    """Seconds from opening ``path`` in a new tab of ``opener`` (a browser: a new, empty
    profile; a browser context: a new tab sharing its cache) to its Exclude button drawn and
    the run finished."""
    return first_load_parts(opener, address, path)[1]


def first_load_parts(opener, address: str, path: str) -> tuple[float, float]:
    """:func:`first_load`, and before it the seconds to the Exclude button alone: the record
    and its buttons on screen (a key works from then on), while the run may still draw the
    stopping advice beside them."""
    options = {"viewport": {"width": 1366, "height": 768}} if hasattr(opener, "new_context") else {}
    tab = opener.new_page(**options)
    tab.set_default_timeout(300_000)
    start = time.perf_counter()
    tab.goto(f"{address}{path}")
    tab.get_by_role("button", name="Exclude").first.wait_for()
    shown = time.perf_counter() - start
    _settled(tab)
    took = time.perf_counter() - start
    tab.close()
    return shown, took


def key_to_next(browser, address: str, path: str, heading: str, presses: int) -> list[float]:
    """Seconds from pressing E to the next heading on screen, once per press."""
    tab = browser.new_page(viewport={"width": 1366, "height": 768})
    tab.set_default_timeout(300_000)
    tab.goto(f"{address}{path}")
    tab.get_by_role("button", name="Exclude").first.wait_for()
    times = []
    for _ in range(presses):
        _settled(tab)
        tab.wait_for_timeout(300)  # the model retrains off-thread; let a reviewer read
        before = _heading(tab, heading)
        tab.locator("h1").first.click()  # focus on the page, not in a widget
        start = time.perf_counter()
        tab.keyboard.press("e")
        tab.wait_for_function(
            "([sel, old]) => { const h = document.querySelector(sel);"
            " return h && h.innerText !== old; }", arg=[heading, before], timeout=300_000)
        times.append(time.perf_counter() - start)
    tab.close()
    return times


def cold_load(browser, script: Path, env: dict, path: str) -> dict:
    """One cold first load: a fresh server, and a browser context that never opened it."""
    with tempfile.TemporaryDirectory() as tmp, serve(script, Path(tmp), env) as (address, pid, start):
        own = browser.new_context(viewport={"width": 1366, "height": 768})
        shown, cold = first_load_parts(own, address, path)
        after_cold = quiet_server(pid)  # the first retraining, started once the page is drawn
        own.close()
    return {"start": start, "shown": shown, "cold": cold, "after_cold": after_cold}


def measure(browser, script: Path, env: dict, path: str, heading: str, presses: int,
            earlier_colds: list[dict]) -> dict:
    """Every figure for one app: its cold loads (``earlier_colds`` and one more here, each on
    a fresh server; medians, and the worst cold load), then on that last server a new browser
    profile, a new tab and the key presses."""
    with tempfile.TemporaryDirectory() as tmp, serve(script, Path(tmp), env) as (address, pid, start):
        own = browser.new_context(viewport={"width": 1366, "height": 768})
        shown, cold = first_load_parts(own, address, path)  # fresh server, browser never saw it
        after_cold = quiet_server(pid)
        fresh = first_load(browser, address, path)  # a new browser profile: empty cache
        quiet_server(pid)
        tab = statistics.median(first_load(own, address, path) for _ in range(3))
        quiet_server(pid)
        keys = key_to_next(browser, address, path, heading, presses)
        own.close()
    colds = [*earlier_colds, {"start": start, "shown": shown, "cold": cold,
                              "after_cold": after_cold}]
    figures = {k: statistics.median(c[k] for c in colds)
               for k in ("start", "shown", "cold", "after_cold")}
    return figures | {"cold_worst": max(c["cold"] for c in colds), "colds": len(colds),
                      "fresh": fresh, "tab": tab, "median": statistics.median(keys),
                      "worst": max(keys)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--presses", type=int, default=15)
    parser.add_argument("--colds", type=int, default=5,
                        help="cold loads per app and size, each on a fresh server (median shown)")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as work:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"])
        empty = Path(work) / "empty_app.py"
        empty.write_text(EMPTY_APP)
        # One throwaway load first: the browser process's own start-up (its first page ever)
        # otherwise fell on whichever app was measured first, reviewkit at the first size.
        with tempfile.TemporaryDirectory() as tmp, serve(empty, Path(tmp), {}) as (address, *_):
            first_load(browser, address, "/")
        for n in args.sizes:
            folder = Path(work) / f"n{n}"
            folder.mkdir()
            started = time.perf_counter()
            url = build_review(folder, n)
            print(f"{n:,} records: review built in {time.perf_counter() - started:.1f} s")
            app_env = {"REVIEWKIT_DATABASE_URL": url, "REVIEWKIT_NO_DEMO": "1"}
            ours_colds, base_colds = [], []
            for _ in range(args.colds - 1):  # alternating, so both meet the same machine
                ours_colds.append(cold_load(browser, ROOT / "streamlit_app.py", app_env, "/screen"))
                base_colds.append(cold_load(browser, empty, {}, "/"))
            ours = measure(browser, ROOT / "streamlit_app.py", app_env,
                           "/screen", "[data-testid='stMain'] h3", args.presses, ours_colds)
            base = measure(browser, empty, {}, "/", "[data-testid='stMain'] h3", args.presses,
                           base_colds)
            rows.append((n, ours, base))
            print(f"{n:,} records: server start {ours['start']:.2f} s (empty page "
                  f"{base['start']:.2f} s); first load cold {ours['cold']:.2f} s, worst {ours['cold_worst']:.2f} s "
                  f"of {ours['colds']} (empty page {base['cold']:.2f} s, worst {base['cold_worst']:.2f} s; record on screen {ours['shown']:.2f} s), new browser {ours['fresh']:.2f} s "
                  f"({base['fresh']:.2f} s), new tab {ours['tab']:.2f} s ({base['tab']:.2f} s); "
                  f"key -> next record median {ours['median']:.2f} s ({base['median']:.2f} s), "
                  f"worst {ours['worst']:.2f} s ({base['worst']:.2f} s); server busy "
                  f"{ours['after_cold']:.1f} s after the cold load ({base['after_cold']:.1f} s)")
        browser.close()
    if args.no_save:
        return
    lines = [
        f"\n## Screen page latency in a real browser ({dt.date.today():%Y-%m-%d}, "
        f"`benchmarks/ui_latency.py`)\n",
        f"Headless Chromium via Playwright at 1366x768, `streamlit run` on loopback, SQLite; "
        f"{os.cpu_count()} cores shared with other work ({platform.python_version()}). "
        f"{args.presses} presses of E per size; the empty page is a title and one button in "
        "the same run. Seconds; ratio = reviewkit / empty page. Targets at 10k: median <= 0.4, "
        "worst <= 1, first load <= 2.\n",
        "*Server start* = from `streamlit run` to the server answering its health check. "
        "Before the first measure the browser opens the empty page once, unmeasured (its own "
        "start-up would otherwise fall on the first load measured). "
        f"First load: *cold* = a fresh server and a browser that never opened the app, "
        f"{args.colds} times per app and size (each on its own fresh server, the two apps "
        "alternating), median, and the worst of them; server start and busy after cold are "
        "medians over the same servers; *new "
        "browser* = the same server, a new browser profile (empty cache); *new tab* = a new tab "
        "in the browser that opened it before (median of 3). Each is timed to the run's end; "
        "*cold, record on screen* is the same cold load timed to the record's Exclude button "
        "drawn (a key works from then on; the stopping advice beside it may still be drawing; "
        "the empty page's figure there is its one button drawn). Before each first load after "
        "the cold one, and before the key presses, the benchmark waits until the server is "
        "idle (under 0.03 s of CPU in half a second), so that work one load started in the "
        "background (the first retraining) is not counted in the next; *busy after cold* is "
        "that wait after the cold load.\n",
        "| records | server start | first load cold, record on screen | first load cold | "
        "first load cold, worst | first load, new "
        "browser | first load, new tab | key -> next median | key -> next worst | busy after "
        "cold |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, ours, base in rows:
        cells = [f"{ours[k]:.2f} (empty {base[k]:.2f}, x{ours[k] / base[k]:.1f})"
                 for k in ("start", "shown", "cold", "cold_worst", "fresh", "tab", "median",
                           "worst")]
        lines.append(f"| {n:,} | " + " | ".join(cells)
                     + f" | {ours['after_cold']:.1f} (empty {base['after_cold']:.1f}) |")
    with open(RESULTS, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
