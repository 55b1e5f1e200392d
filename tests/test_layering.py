"""The library must run headless: only reviewkit.ui may import Streamlit."""

import inspect
import re
import subprocess
import sys
from pathlib import Path


def test_library_does_not_import_streamlit():
    code = ("import sys, reviewkit, reviewkit.cli, reviewkit.store, reviewkit.importing, "
            "reviewkit.formats, reviewkit.demo; "
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_public_api_names_exist():
    import reviewkit

    assert reviewkit.__all__, "reviewkit must declare its public API"
    missing = [name for name in reviewkit.__all__ if not hasattr(reviewkit, name)]
    assert missing == []


# -- only reviewkit/store/ talks to the database ------------------------------------------------

PACKAGE = Path(__file__).resolve().parent.parent / "reviewkit"
STORE = PACKAGE / "store"
# A statement run on a connection, or raw SQL text from SQLAlchemy.
RAW_SQL = re.compile(r"\bconn(?:ection)?\.execute\(|\bsa\.text\(|\bsqlalchemy\.text\(|"
                     r"^\s*from\s+sqlalchemy(?:\.sql)?\s+import\s+[^#\n]*\btext\b", re.MULTILINE)


def sql_outside_the_store(root: Path = PACKAGE) -> list[str]:
    """'file:line: code' for each database statement in reviewkit/ but not in reviewkit/store/."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if root / "store" in path.parents:
            continue
        source = path.read_text(encoding="utf-8")
        for match in RAW_SQL.finditer(source):
            line = source.count("\n", 0, match.start()) + 1
            found.append(f"{path.relative_to(root.parent)}:{line}: "
                         f"{source.splitlines()[line - 1].strip()}")
    return found


def test_only_the_store_runs_sql():
    assert sql_outside_the_store() == [], (
        "Database statements belong in reviewkit/store/: add a function there that takes a "
        "Connection and call it instead.")


def test_the_sql_guard_finds_what_it_guards_against(tmp_path):
    package = tmp_path / "reviewkit"
    (package / "store").mkdir(parents=True)
    (package / "store" / "rows.py").write_text("conn.execute(select(users))\n")
    (package / "page.py").write_text("x = 1\nwith store.read() as conn:\n"
                                     "    conn.execute(select(users))\n")
    (package / "raw.py").write_text("from sqlalchemy import select, text\n")
    (package / "fine.py").write_text("st.text('hello')\ndraw.text((0, 0), 'x')\n")
    found = sql_outside_the_store(package)
    assert [line.split(":")[:2] for line in found] == [["reviewkit/page.py", "3"],
                                                        ["reviewkit/raw.py", "1"]]


def test_store_modules_do_not_shadow_the_stores_own_names():
    # reviewkit.store imports tables such as `records` and `users`; a submodule with one of
    # those names would replace the table in the package once imported, breaking Store.
    import reviewkit.store as store

    modules = {path.stem for path in STORE.glob("*.py")} - {"__init__"}
    clashes = {name for name in modules
               if name in vars(store) and not inspect.ismodule(vars(store)[name])}
    assert clashes == set()
