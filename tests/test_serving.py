"""The app as started from the README listens on this machine only."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, _free_port


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
    port = _free_port()
    env = dict(os.environ, REVIEWKIT_DATA_DIR=str(tmp_path), REVIEWKIT_NO_DEMO="1",
               HF_HUB_OFFLINE="1")
    env.pop("REVIEWKIT_DATABASE_URL", None)
    # Started the way the README says, with no address on the command line: the config decides.
    server = subprocess.Popen(
        ["python", "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the app did not start")
        addresses = _listening(port)
        assert addresses, "nothing listens on the app's port"
        # 0100007F is 127.0.0.1; IPv6 loopback ::1 is 0..01. 00000000 would be every interface.
        loopback = {"0100007F", "00000000000000000000000001000000"}
        assert set(addresses) <= loopback, addresses
    finally:
        server.terminate()
        server.wait(timeout=10)
