"""A headless Chromium driven over the DevTools protocol, for the teaching-set page tests.

The browser talks on a pipe (`--remote-debugging-pipe`: commands in on fd 3, replies and events out
on fd 4, each message JSON ended by a NUL byte), so no port, no websocket library and no
chromedriver (whose version must match the browser's) are needed: any Chromium or Chrome will do.
Input goes through `Input.dispatchMouseEvent` / `Input.dispatchKeyEvent`, the browser's own
trusted events, as a person's mouse and keyboard would send them. Every wait has a deadline.

`find_chromium()` is None where no browser is installed; the tests skip with that reason. Install:
Debian/Ubuntu `apt-get install chromium`, macOS/Windows: Google Chrome (or LOUPE_CHROMIUM=path).
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
MAC_CHROME = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"
SKIP_REASON = ("no Chromium or Chrome found (install it: `apt-get install chromium` on Debian/Ubuntu, "
               "Google Chrome on macOS/Windows, or set LOUPE_CHROMIUM to the browser's path)")


def find_chromium() -> str | None:
    override = os.environ.get("LOUPE_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    if sys.platform == "win32":  # the pipe needs fds 3 and 4: POSIX only
        return None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return MAC_CHROME if Path(MAC_CHROME).exists() else None


def _high(fd: int) -> int:
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class BrowserError(RuntimeError):
    pass


class Browser:
    """One headless browser with one page. `with Browser(1280, 720) as b: b.open(path) ...`"""

    def __init__(self, width: int = 1280, height: int = 720, timeout: float = 30.0):
        self.width, self.height, self.timeout = width, height, timeout
        self.events: list[dict] = []
        self._next_id = 0
        self._buffer = b""
        self.proc = None
        self.session = None

    # -- start and stop --------------------------------------------------------------------------
    def __enter__(self) -> Browser:
        exe = find_chromium()
        if exe is None:
            raise BrowserError(SKIP_REASON)
        self.profile = tempfile.mkdtemp(prefix="loupe-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # the ends the browser gets move above fd 9, so "3<&r 4>&w" cannot overwrite one with the other
        to_child_r, from_child_w = (_high(fd) for fd in (to_child_r, from_child_w))
        args = [exe, "--headless=new", "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
                "--disable-gpu", "--mute-audio", "--hide-scrollbars", "--no-sandbox",
                f"--window-size={self.width},{self.height}", "about:blank"]
        # bash puts the two pipe ends on fds 3 and 4 of the browser, where it expects them (dash's
        # redirections stop at fd 9, bash's do not)
        script = f'exec "$@" 3<&{to_child_r} 4>&{from_child_w}'
        self.proc = subprocess.Popen([shutil.which("bash") or "/bin/bash", "-c", script, "bash", *args], pass_fds=(to_child_r, from_child_w),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        try:
            target = self._page_target()
            self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                     session=False)["sessionId"]
            for domain in ("Page", "Runtime", "Network", "Log"):
                self.call(f"{domain}.enable")
            self.call("Emulation.setDeviceMetricsOverride",
                      {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False})
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            try:
                self.call("Browser.close", session=False, timeout=5)
            except Exception:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None
        for fd in (getattr(self, "_to_child", None), getattr(self, "_from_child", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        shutil.rmtree(getattr(self, "profile", ""), ignore_errors=True)

    def _page_target(self) -> str:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            infos = self.call("Target.getTargets", session=False)["targetInfos"]
            pages = [t["targetId"] for t in infos if t.get("type") == "page"]
            if pages:
                return pages[0]
            time.sleep(0.1)
        raise BrowserError("the browser opened no page")

    # -- the protocol ----------------------------------------------------------------------------
    def call(self, method: str, params: dict | None = None, session: bool = True, timeout: float | None = None):
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("the browser did not answer in time")
            ready, _w, _x = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise BrowserError("the browser closed its pipe (it quit or crashed)")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def pump(self, seconds: float = 0.05) -> None:
        """Read the events that arrived meanwhile (a cheap no-op command)."""
        time.sleep(seconds)
        self.call("Runtime.evaluate", {"expression": "0"})

    # -- the page --------------------------------------------------------------------------------
    def open(self, path: Path, ready: str = "document.body && document.body.dataset.ready === '1'") -> None:
        self.call("Page.navigate", {"url": Path(path).resolve().as_uri()})
        self.wait_for(ready)
        self.wait_for("Array.from(document.images).every(i => i.complete)")

    def js(self, expression: str):
        reply = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                               "awaitPromise": True})
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression}: {reply['exceptionDetails'].get('text')} "
                               f"{reply['exceptionDetails'].get('exception', {}).get('description', '')}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float | None = None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.js(f"(() => {{ try {{ return ({expression}); }} catch (e) {{ return false; }} }})()")
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {expression}")
            time.sleep(0.05)

    def visible(self, selector: str) -> bool:
        return bool(self.js(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            if (!e) return false; const r = e.getBoundingClientRect(); const s = getComputedStyle(e);
            return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; }})()"""))

    def text(self, selector: str) -> str:
        return self.js(f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent || ''")

    def rect(self, selector: str) -> dict:
        return self.js(f"""(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();
            return {{x: r.x, y: r.y, width: r.width, height: r.height}}; }})()""")

    # -- input, as a person gives it ------------------------------------------------------------
    def mouse(self, kind: str, x: float, y: float, buttons: int = 0) -> None:
        self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                               "buttons": buttons, "clickCount": 1})

    def click(self, selector: str) -> None:
        r = self.rect(selector)
        x, y = r["x"] + r["width"] / 2, r["y"] + r["height"] / 2
        self.mouse("mouseMoved", x, y)
        self.mouse("mousePressed", x, y, 1)
        self.mouse("mouseReleased", x, y)

    def drag(self, x0: float, y0: float, x1: float, y1: float, steps: int = 6) -> None:
        self.mouse("mouseMoved", x0, y0)
        self.mouse("mousePressed", x0, y0, 1)
        for k in range(1, steps + 1):
            self.mouse("mouseMoved", x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps, 1)
        self.mouse("mouseReleased", x1, y1)

    KEYS = {"ArrowRight": 39, "ArrowLeft": 37, "ArrowUp": 38, "ArrowDown": 40, "Enter": 13, "Escape": 27,
            "Delete": 46, "Home": 36, "End": 35, "PageUp": 33, "PageDown": 34}

    def key(self, key: str) -> None:
        if key in self.KEYS:
            code = self.KEYS[key]
            down = {"type": "rawKeyDown", "key": key, "code": key, "windowsVirtualKeyCode": code}
        else:
            code = ord(key.upper())
            down = {"type": "keyDown", "key": key, "text": key, "code": f"Key{key.upper()}" if key.isalpha()
                    else f"Digit{key}", "windowsVirtualKeyCode": code}
        self.call("Input.dispatchKeyEvent", down)
        self.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": key, "windowsVirtualKeyCode": code})

    def type_text(self, text: str) -> None:
        self.call("Input.insertText", {"text": text})

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    # -- what the page did ------------------------------------------------------------------------
    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]

    def problems(self) -> list[str]:
        """Script errors, console errors and browser log errors (a CSP violation among them)."""
        out = []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append(f"exception: {d.get('text')} {d.get('exception', {}).get('description', '')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(f"log: {p['entry'].get('text')}")
        return out
