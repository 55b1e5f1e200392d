"""reviewkit's app server.  Run with ``streamlit run streamlit_app.py``.

Streamlit runs ``reviewkit/ui/app_script.py`` (which pages exist, and who may open them) for
every visit and every click; this file is the server around it.  As the server starts, before it
answers anyone, it loads the code every page needs (the store, SQLAlchemy, accounts): a fresh
server otherwise loaded it on the first visitor's clock, about 0.3 s of the first page they
open (benchmarks/ui_latency.py).  Each page's own code still loads when that page is first
opened, so the server starts without the heavy libraries only some pages use.
"""

import contextlib
import importlib

import streamlit as st

# The modules reviewkit/ui/app_script.py imports before any page draws.
SHARED_MODULES = ("reviewkit.ui.common", "reviewkit.ui.accessibility", "reviewkit.ui.login_page")


@contextlib.asynccontextmanager
async def _load_shared_code(_app):
    for name in SHARED_MODULES:
        importlib.import_module(name)
    yield


app = st.App("reviewkit/ui/app_script.py", lifespan=_load_shared_code)
