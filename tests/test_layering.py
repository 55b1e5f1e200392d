"""The library must run headless: only reviewkit.ui may import Streamlit."""

import subprocess
import sys


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
