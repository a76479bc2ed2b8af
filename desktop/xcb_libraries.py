"""Linux first start: which system libraries Qt's xcb plugin cannot find, and the apt-get line
that installs them (docs/decisions/0100-xcb-check-from-ldd.md).

The check asks the dynamic linker itself: `ldd` on the `libqxcb.so` inside the installed PySide6
lists every library the plugin and its dependencies need, and "not found" for each one missing.
Missing sonames are mapped to Debian/Ubuntu package names.

Standard library only, and no syntax newer than Python 3.8: `tools/dev.py` imports this file by
its path with the system Python, before (or without) the virtual environment; `loupe` runs it
before the QApplication exists (desktop/ui/app.py).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

# soname -> Debian/Ubuntu package (the package names are the same on Debian 11-13, Ubuntu 20.04-24.04)
SONAME_PACKAGES = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libpng16.so.16": "libpng16-16",
    "libz.so.1": "zlib1g",
    "libzstd.so.1": "libzstd1",
    "libexpat.so.1": "libexpat1",
    "libbrotlidec.so.1": "libbrotli1",
    "libpcre2-8.so.0": "libpcre2-8-0",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
}


def run_ldd(path: str) -> str:
    """`ldd PATH`'s output ('' when ldd is not installed or fails to run)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return ""
    try:
        done = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout + done.stderr


def missing_sonames(plugin: str, runner=run_ldd) -> list:
    """The sonames `ldd` reports as "not found" for `plugin`, in its order, without repeats."""
    missing = []
    for line in runner(str(plugin)).splitlines():
        name, sep, rest = line.strip().partition("=>")
        if sep and rest.strip() == "not found":
            soname = name.strip()
            if soname not in missing:
                missing.append(soname)
    return missing


def packages_for(sonames) -> tuple:
    """(Debian/Ubuntu packages to install, sonames of Qt itself, sonames with no known package)."""
    packages, qt_own, unknown = [], [], []
    for soname in sonames:
        if soname.startswith(("libQt6", "libicu", "libpyside6", "libshiboken6")):
            qt_own.append(soname)
        elif soname in SONAME_PACKAGES:
            if SONAME_PACKAGES[soname] not in packages:
                packages.append(SONAME_PACKAGES[soname])
        else:
            unknown.append(soname)
    return packages, qt_own, unknown


def apt_line(packages) -> str:
    return "sudo apt-get install " + " ".join(packages)


def report(sonames) -> str:
    """What to tell the user about these missing sonames ('' when nothing is missing)."""
    if not sonames:
        return ""
    packages, qt_own, unknown = packages_for(sonames)
    lines = ["Qt cannot open a window: these system libraries are missing: " + ", ".join(sonames)]
    if packages:
        lines.append("Install them with:")
        lines.append("    " + apt_line(packages))
    if unknown:
        lines.append("No package is known here for " + ", ".join(unknown)
                     + "; find it with `apt-file search NAME` (or your distribution's package search).")
    if qt_own:
        lines.append("Qt's own libraries are missing (" + ", ".join(qt_own)
                     + "): the PySide6 installation is incomplete; reinstall it.")
    lines.append("To run without a window (e.g. `loupe --self-test`), set QT_QPA_PLATFORM=offscreen.")
    return "\n".join(lines)


def plugin_in(pyside_dir: str):
    """The xcb platform plugin inside a PySide6 folder, or None."""
    path = os.path.join(str(pyside_dir), "Qt", "plugins", "platforms", "libqxcb.so")
    return path if os.path.isfile(path) else None


def plugin_in_venv(venv: str):
    """The xcb plugin inside a virtual environment's PySide6 (for tools/dev.py), or None."""
    for site in sorted(glob.glob(os.path.join(str(venv), "lib", "python3*", "site-packages"))):
        found = plugin_in(os.path.join(site, "PySide6"))
        if found:
            return found
    return None


def installed_plugin():
    """The xcb plugin of the PySide6 this Python would import (without importing Qt), or None."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    for location in (spec.submodule_search_locations or []) if spec else []:
        found = plugin_in(location)
        if found:
            return found
    return None


def wants_xcb(env=None) -> bool:
    """Whether Qt will use the xcb platform: Linux, and QT_QPA_PLATFORM unset or 'xcb…'."""
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux"):
        return False
    platform = env.get("QT_QPA_PLATFORM", "").strip().lower()
    return platform == "" or platform.startswith("xcb")


def check(plugin=None, env=None, runner=run_ldd) -> str:
    """The message to print before starting Qt, or '' when the window can open (or the check does
    not apply: another OS, another Qt platform, no plugin found, no ldd)."""
    if not wants_xcb(env):
        return ""
    plugin = plugin or installed_plugin()
    if plugin is None:
        return ""
    return report(missing_sonames(plugin, runner))
