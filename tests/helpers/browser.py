"""Headless Chromium driven over the DevTools protocol (websocket-client, installed with
Jupyter), for the browser tests: console errors, uncaught exceptions and failed loads are seen
with their level; axe-core (from axe-playwright-python's axe.min.js) checks accessibility; pages
can be shown at a phone's width and printed to A4. With CI=true a missing Chromium fails the
test; elsewhere (a researcher's machine without Debian's chromium package) it skips, saying why.
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
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--remote-debugging-port=0", "--window-size=1280,1800"]
WAIT_S = 60  # guards against a hung browser; not a performance limit
POLL_S = 0.1  # how often to look for Chromium's DevTools port file
#: axe-core rule sets run: WCAG 2.0-2.2 A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
A4_IN = (8.27, 11.69)  # width, height


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

    def axe(self) -> list[dict]:
        """axe-core's violations on the open page: rule, impact and the first elements."""
        self.evaluate(files("axe_playwright_python").joinpath("axe.min.js").read_text())
        run = (f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(AXE_TAGS)}}}}})"
               ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, "
               "nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))")
        return self.call("Runtime.evaluate", expression=run, awaitPromise=True,
                         returnByValue=True)["result"]["value"]

    def width(self, metrics: dict | None) -> None:
        """Emulate a screen (e.g. PHONE), or none (the window's own size)."""
        if metrics is None:
            self.call("Emulation.clearDeviceMetricsOverride")
        else:
            self.call("Emulation.setDeviceMetricsOverride", **metrics)

    def pdf(self) -> bytes:
        """The open page printed to A4 as Chromium prints it (its print stylesheet)."""
        data = self.call("Page.printToPDF", paperWidth=A4_IN[0], paperHeight=A4_IN[1],
                         preferCSSPageSize=True)["data"]
        return base64.b64decode(data)

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


@contextmanager
def started() -> Iterator[Browser]:
    """A headless Chromium with a profile of its own, closed (and the profile removed) after."""
    binary = chromium()
    with tempfile.TemporaryDirectory(prefix="evalkit-chromium-") as profile:
        browser = Browser(binary, Path(profile))
        try:
            yield browser
        finally:
            browser.close()
