#!/usr/bin/env python3
"""Set up Loupe's virtual environment and start the app or run the tests.

    python3 tools/dev.py start   # create/update .venv, install Loupe, open the sample folder
    python3 tools/dev.py test    # create/update .venv with the dev extras, run every check

Needs only a Python >= 3.11 on the PATH. The environment lives in `.venv` in the project
root; it is (re)installed only when pyproject.toml or constraints.txt changed since the last
install, so a second run starts at once. Versions are pinned by constraints.txt.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
IS_WINDOWS = os.name == "nt"
BIN = VENV / ("Scripts" if IS_WINDOWS else "bin")
PY = BIN / ("python.exe" if IS_WINDOWS else "python")
# One environment for both commands, so switching between them never reinstalls.
EXTRAS = "dev,train,effdet,packaging"


def _say(msg: str) -> None:
    print(f"[loupe] {msg}", flush=True)


def _run(cmd: list[str], **kw) -> int:
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kw)


def _stamp(extras: str) -> str:
    h = hashlib.sha256(extras.encode())
    for name in ("pyproject.toml", "constraints.txt"):
        p = ROOT / name
        if p.exists():
            h.update(p.read_bytes())
    return h.hexdigest()


def ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Loupe needs Python >= 3.11; this is {platform.python_version()}.")
    if not PY.exists():
        _say(f"creating {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp_file = VENV / ".loupe-install-stamp"
    want = _stamp(extras)
    if stamp_file.exists() and stamp_file.read_text().strip() == want:
        return
    _say("installing Loupe and its dependencies into .venv (first time: several GB on Linux, "
         "where PyPI's torch is the CUDA build; a few hundred MB on macOS and Windows)")
    cmd = [PY, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", f".[{extras}]"]
    if (ROOT / "constraints.txt").exists():
        cmd += ["-c", "constraints.txt"]
    rc = _run(cmd)
    if rc != 0:
        sys.exit(f"pip install failed (exit {rc}); see the messages above.")
    stamp_file.write_text(want)


def _xcb_libraries():
    """desktop/xcb_libraries.py, loaded by its path: stdlib only, so the system Python runs it
    without importing the rest of Loupe."""
    spec = importlib.util.spec_from_file_location("loupe_xcb_libraries", ROOT / "desktop" / "xcb_libraries.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def qt_libraries_message() -> str:
    """What to print when Qt's xcb plugin in .venv lacks system libraries ('' when it has them)."""
    xcb = _xcb_libraries()
    plugin = xcb.plugin_in_venv(VENV)
    return xcb.check(plugin) if plugin else ""


def start(argv: list[str]) -> int:
    ensure_venv(EXTRAS)
    env = dict(os.environ)
    if sys.platform.startswith("linux") and env.get("QT_QPA_PLATFORM") != "offscreen":
        message = qt_libraries_message()
        if message:
            for line in message.splitlines():
                _say(line)
            return 3
        if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            _say("no display found (DISPLAY and WAYLAND_DISPLAY are unset); run under a desktop "
                 "session or Xvfb, e.g.  xvfb-run python3 tools/dev.py start")
            return 3
    args = argv or ["--samples"]
    return _run([PY, "-m", "desktop", *args], env=env)


def browser_note() -> str:
    """Which browser the teaching-set page tests use, or why they will skip (tests/browser_helpers.py,
    stdlib only, loaded by its path). Nothing is installed: a browser is a system package."""
    spec = importlib.util.spec_from_file_location("loupe_browser_helpers", ROOT / "tests" / "browser_helpers.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        found = module.find_chromium()
    except Exception as exc:  # never stop the tests for this line
        return f"browser tests: cannot look for Chromium ({exc})"
    if found:
        return f"browser tests: {found}"
    return "browser tests will skip: " + module.SKIP_REASON


def ensure_browser() -> None:
    """The teaching-set page is tested in a real browser. On a Debian/Ubuntu machine where the
    test command runs as root (a CI machine, a container) and no Chromium is found, Debian's
    chromium package is installed first, so the browser tests run there instead of skipping.
    Anywhere else nothing is installed (a browser is a system package) and the tests skip with
    the install line. LOUPE_NO_BROWSER_INSTALL=1 turns this off."""
    if (not sys.platform.startswith("linux") or os.environ.get("LOUPE_NO_BROWSER_INSTALL")
            or not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get")):
        return
    if not browser_note().startswith("browser tests will skip"):
        return
    _say("no Chromium found: installing Debian's chromium package for the teaching-set page tests "
         "(LOUPE_NO_BROWSER_INSTALL=1 skips this)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]):
        if _run(cmd, env=env) != 0:
            _say("could not install chromium; the browser tests will skip")
            return


def test(argv: list[str]) -> int:
    ensure_venv(EXTRAS)
    ensure_browser()
    _say(browser_note())
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HF_HUB_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1")
    steps = [
        ("layer contracts (import-linter)", [BIN / "lint-imports"]),
        ("lint (ruff)", [PY, "-m", "ruff", "check", "desktop", "models", "tests", "tools"]),
        ("tests (pytest)", [PY, "-m", "pytest", "-m", "not slow", "-p", "no:cacheprovider", *argv]),
    ]
    for title, cmd in steps:
        _say(title)
        rc = _run(cmd, env=env)
        if rc != 0:
            _say(f"{title} failed (exit {rc})")
            return rc
    return 0


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in ("start", "test"):
        print(__doc__)
        return 2
    cmd, rest = sys.argv[1], sys.argv[2:]
    return start(rest) if cmd == "start" else test(rest)


if __name__ == "__main__":
    sys.exit(main())
