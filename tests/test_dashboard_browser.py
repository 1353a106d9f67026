"""End to end in a real browser: `streamlit run dashboard/app.py` on a free loopback port, pages
loaded in headless Chromium (over the DevTools protocol), the rendered page checked for real
content, and the generated images fetched back from the server to check their size."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest
from dashboard_fixtures import ROOT, workspace  # noqa: F401  (pytest fixture)
from PIL import Image

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-quic", "--disable-dev-shm-usage"]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed "
                                 "(apt-get install -y chromium chromium-driver)")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"streamlit exited with {server.returncode}: {server.stdout.read()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"streamlit did not answer at {url} within {timeout} s")


class Chromium:
    """Headless Chromium driven over the DevTools protocol (the `websockets` package streamlit
    already depends on): load a URL, wait for text to render, read the DOM, take screenshots."""

    def __init__(self, width: int = 1400, height: int = 1000):
        from websockets.sync.client import connect

        self.profile = tempfile.TemporaryDirectory()
        self.process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={self.profile.name}",
                                         "--remote-debugging-port=0", f"--window-size={width},{height}", "about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        port_file = os.path.join(self.profile.name, "DevToolsActivePort")
        deadline = time.time() + 60
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if self.process.poll() is not None or time.time() > deadline:
                self.close()
                pytest.fail(f"headless Chromium could not start (exit {self.process.returncode}): "
                            f"{self.process.stderr.read()[-1500:] if self.process.poll() is not None else 'timeout'}")
            time.sleep(0.2)
        port = int(open(port_file).read().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self.socket = connect(page["webSocketDebuggerUrl"], max_size=None)
        self.next_id = 0
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def load(self, url: str, needles: list[str], timeout: float = 90, tries: int = 2) -> str:
        """Open url until every needle is in the page text; -> the page HTML. The first load after a
        server start can stay an empty skeleton, hence the reload."""
        text = ""
        for _ in range(tries):
            self.call("Page.navigate", url=url)
            deadline = time.time() + timeout
            while time.time() < deadline:
                text = self.evaluate("document.body ? document.body.innerText : ''") or ""
                if all(n in text for n in needles) and "Running..." not in text:
                    time.sleep(1.0)  # let images and charts settle
                    return self.evaluate("document.documentElement.outerHTML")
                time.sleep(0.5)
        missing = [n for n in needles if n not in text]
        raise AssertionError(f"{url}: {missing} never rendered; the page said: {text[-1500:]!r}")

    def wait_until(self, expression: str, timeout: float = 60) -> None:
        """Poll a JavaScript condition: parts of a page render after the text that load() waits for."""
        deadline = time.time() + timeout
        while time.time() < deadline and not self.evaluate(expression):
            time.sleep(0.5)

    def click_until(self, label: str, started: str, tries: int = 3, timeout: float = 30,
                    selector: str = "button") -> None:
        """Click the `selector` element (a button, a tab) whose text is `label` once it is in the page,
        until the JavaScript condition `started` holds. A button can render after the text that load()
        waited for: on a loaded core the projector's Project button was not yet in the page, and a
        click at once found nothing and started nothing. A click that starts nothing in `timeout` s is
        made again."""
        click = (f"(() => {{ const b = [...document.querySelectorAll({json.dumps(selector)})].find("
                 f"x => x.innerText.trim() === {json.dumps(label)}); if (b) b.click(); return !!b; }})()")
        for _ in range(tries):
            clicked, deadline = False, time.time() + timeout
            while time.time() < deadline:
                if not clicked:
                    clicked = bool(self.evaluate(click))
                elif self.evaluate(started):
                    return
                time.sleep(0.5)
        text = self.evaluate("document.body ? document.body.innerText : ''") or ""
        raise AssertionError(f"{label!r} never started in {tries} tries; the page said: {text[-1500:]!r}")

    def screenshot(self, path: str) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(data))

    def close(self) -> None:
        if hasattr(self, "socket"):
            self.socket.close()
        self.process.terminate()  # the browser this test started, by its PID
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.profile.cleanup()


@pytest.fixture(scope="module")
def browser():
    chromium = Chromium()
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def server(workspace):  # noqa: F811
    port = free_port()
    env = {**os.environ, **workspace.env(), "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
                                "--server.port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        yield url
    finally:
        process.terminate()  # our own server, by its PID
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_server_listens_on_loopback_only(server):
    """.streamlit/config.toml binds 127.0.0.1: every listening socket on the port is loopback."""
    port = int(server.rsplit(":", 1)[1])
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if os.path.exists(table):
            for line in open(table).read().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:
                    listening.append(address)
    assert listening and all(a == "0100007F" for a in listening), listening


def test_checkpoints_page_renders_runs_and_problems(server, browser):
    html = browser.load(server + "/", ["Checkpoints", "no snapshot yet", "Sample grids", "Compare two snapshots"])
    assert "Traceback" not in html
    assert "Generate &amp; interpolate" in html and "Mode collapse" in html  # the navigation


def test_generate_page_serves_64px_images(server, browser):
    html = browser.load(server + "/generate", ["Generate & interpolate", "seed 7", "Between two seeds"])
    assert "Traceback" not in html
    browser.wait_until("document.querySelectorAll('img[src*=\"/media/\"]').length >= 16")  # the strip follows its heading
    html = browser.evaluate("document.documentElement.outerHTML")
    sources = re.findall(r'<img[^>]+src="([^"]*/media/[^"]+)"', html)
    assert len(sources) >= 8 + 8, sources  # the samples and the first interpolation strip
    source = sources[0] if sources[0].startswith("http") else server + "/" + sources[0].lstrip("./")
    with urllib.request.urlopen(source, timeout=10) as response:
        image = Image.open(io.BytesIO(response.read()))
    assert image.size == (64, 64)


def test_report_grid_page_explains_missing_test_ids(server, browser):
    html = browser.load(server + "/report_grid", ["Report grid", "not among the"])
    assert "Traceback" not in html
