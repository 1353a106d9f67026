"""The dashboard serves on loopback and sends no usage statistics wherever it is started from:
its config sits next to app.py (streamlit's script-level config), not in the working directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


def listening_addresses(port: int) -> list[str]:
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.append(address)
    return found


def test_started_from_another_directory_it_listens_on_loopback_only(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
                               "--server.port", str(port)], cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env={**os.environ, "HOME": str(tmp_path)})
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.5)
        addresses = listening_addresses(port)
        assert addresses and all(a == "0100007F" for a in addresses), addresses
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "Network URL" not in output


def test_the_script_level_config_turns_usage_statistics_off(tmp_path):
    code = ("from streamlit import config; import sys; config._main_script_path = sys.argv[1]; "
            "config.get_config_options(force_reparse=True); "
            "print(config.get_option('browser.gatherUsageStats'), config.get_option('server.address'))")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "dashboard" / "app.py")], cwd=tmp_path,
                         capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path)}, check=True)
    assert out.stdout.split() == ["False", "127.0.0.1"]
