"""Open the published reports (the test run's shared `evalkit run` of the three notebooks,
conftest `published`) in headless Chromium: no console errors, alt text, no code.

Chromium is driven over the DevTools protocol (websocket-client, installed with Jupyter) so that
console errors, uncaught exceptions and failed loads are seen with their level. A screenshot of
each page is kept in test-artifacts/. With CI=true a missing Chromium fails the test; elsewhere
(a researcher's machine without Debian's chromium package) it skips, saying why, as issue 8 allows.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from evalkit.paths import REPO_DIR

pytestmark = pytest.mark.browser

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--remote-debugging-port=0", "--window-size=1280,1800"]
ARTIFACTS = REPO_DIR / "test-artifacts"
WAIT_S = 60  # guards against a hung browser; not a performance limit
POLL_S = 0.1  # how often to look for Chromium's DevTools port file
NOTEBOOKS = ["01_uptake", "02_pa_market", "03_outcomes"]


def chromium() -> str:
    """Path of the Chromium binary; without one, fail in CI and skip elsewhere, saying why."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = ("no chromium or chromium-browser on PATH: install Debian's chromium package "
               "(`apt-get install chromium`, as .ci/run does) to run the browser check")
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class Browser:
    """A headless Chromium and a DevTools websocket to its first page."""

    def __init__(self, binary: str, profile: Path) -> None:
        import websocket

        self.proc = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={profile}",
                                      "about:blank"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        for _ in range(round(WAIT_S / POLL_S)):
            if port_file.is_file() and port_file.read_text().strip():
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}")
            time.sleep(POLL_S)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=WAIT_S) as r:
            targets = json.load(r)
        url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(url, timeout=WAIT_S, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        for method in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.call(method)

    def call(self, method: str, **params) -> dict:
        """Send one command and return its result, keeping events that arrive meanwhile."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def open(self, page: Path) -> None:
        """Navigate to a file and wait for its load event."""
        self.events.clear()
        self.call("Page.navigate", url=page.resolve().as_uri())
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(json.loads(self.ws.recv()))

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries (e.g. failed loads)."""
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e.get("method") == "Runtime.exceptionThrown":
                details = p["exceptionDetails"]
                out.append(details.get("exception", {}).get("description")
                           or details.get("text", "exception"))
            elif e.get("method") == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                out.append(json.dumps(p["args"]))
            elif e.get("method") == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(p["entry"]["text"])
        return out

    def evaluate(self, expression: str):
        return self.call("Runtime.evaluate", expression=expression,
                         returnByValue=True)["result"].get("value")

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(data["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except Exception:  # the browser may drop the socket as it closes
            pass
        self.ws.close()
        try:
            self.proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="evalkit-chromium-") as profile:
        b = Browser(binary, Path(profile))
        try:
            yield b
        finally:
            b.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_report_page_loads_cleanly_with_alt_text_and_no_code(browser: Browser, published,
                                                             notebook: str) -> None:
    browser.open(published(notebook).page)
    assert browser.errors() == []
    dom = BeautifulSoup(browser.evaluate("document.documentElement.outerHTML"), "html.parser")
    images = dom.find_all("img")
    assert images and all((img.get("alt") or "").strip() for img in images)
    assert browser.evaluate("[...document.images].filter(i => !i.complete || "
                            "i.naturalWidth === 0).length") == 0
    assert not dom.select(".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .input_area, .cm-editor")
    assert dom.select_one("nav.evalkit-toc a[href='#Key-findings']") is not None
    shot = ARTIFACTS / f"report_{notebook}.png"
    browser.screenshot(shot)
    assert shot.stat().st_size > 0


def test_index_page_loads_cleanly_and_links_resolve(browser: Browser,
                                                    published_dir: Path) -> None:
    browser.open(published_dir / "index.html")
    assert browser.errors() == []
    hrefs = browser.evaluate("[...document.querySelectorAll('a')].map(a => a.href)")
    files = [h for h in hrefs if h.startswith("file://") and "#" not in h]
    assert files and all(Path(urllib.request.url2pathname(h[7:])).is_file() for h in files)
    browser.screenshot(ARTIFACTS / "report_index.png")


def test_check_sees_console_errors_and_broken_images(browser: Browser, tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><img src='missing.png' alt='x'>"
                   "<script>console.error('planted'); throw new Error('thrown');</script>"
                   "</body></html>")
    browser.open(bad)
    found = " ".join(browser.errors())
    assert "planted" in found and "thrown" in found and "ERR_FILE_NOT_FOUND" in found
    assert browser.evaluate("[...document.images].filter(i => !i.complete || "
                            "i.naturalWidth === 0).length") == 1
