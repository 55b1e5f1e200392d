"""reviewkit's app server.  Run with ``streamlit run streamlit_app.py``.

Streamlit runs ``reviewkit/ui/app_script.py`` (which pages exist, and who may open them) for
every visit and every click; this file is the server around it.  As the server starts, before it
answers anyone, it loads the code every page needs (the store, SQLAlchemy, accounts, and the
numpy and pandas most pages use) and opens the database (building the demo review on a first
start).  A fresh server otherwise did both on the first visitor's clock: a few tenths of a
second of the first page they opened (benchmarks/ui_latency.py), and the whole demo build on a
first start.  Each page's own code still loads when that page is first opened, so the server
starts without the heavy libraries only some pages use.
"""

import contextlib
import importlib
import inspect
import logging

import streamlit as st

# The modules reviewkit/ui/app_script.py imports before any page draws, and the libraries most
# pages load with their own code: numpy (19 of the 20 pages, the Screen page among them; about
# 0.1 s) and pandas (14 of 20, the Overview a new review opens on among them).
SHARED_MODULES = ("numpy", "pandas", "reviewkit.ui.common", "reviewkit.ui.accessibility",
                  "reviewkit.ui.login_page", "reviewkit.ui.page_list")


@contextlib.asynccontextmanager
async def _ready_before_the_first_visit(_app):
    for name in SHARED_MODULES:
        importlib.import_module(name)
    # Streamlit reads the call stack once per process, as the first visit draws its first
    # element (to tell a Python prompt from a script); Python's inspect module then maps every
    # module loaded so far to its file, about 0.06 s here. Done now, that map is ready.
    inspect.stack()
    # Opened outside any visit, the cached store would log "missing ScriptRunContext" (there is
    # no page to show its spinner on); that is expected here.
    quiet = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        importlib.import_module("reviewkit.ui.common").get_store()
    except Exception:  # the first page to open the database shows what went wrong
        logging.getLogger("reviewkit").exception("the database could not be opened at start")
    finally:
        quiet.setLevel(level)
    yield


app = st.App("reviewkit/ui/app_script.py", lifespan=_ready_before_the_first_visit)
