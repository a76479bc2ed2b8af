"""Linux first start: the check of Qt's xcb plugin asks ldd what is missing and prints the apt-get
line; loupe runs it before a QApplication exists, tools/dev.py loads the same file by its path."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import xcb_libraries as xcb

ROOT = Path(__file__).resolve().parent.parent
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("ldd") is None,
                                reason="ldd on Linux")

LDD_ICCCM_KEYSYMS = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f69)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f69)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibEGL.so.1 => /lib/x86_64-linux-gnu/libEGL.so.1 (0x00007f69)
"""


def test_the_issues_machine_gets_icccm_and_keysyms_not_cursor(tmp_path):
    """The report from issue 13: xcb-cursor0 present, icccm4 and keysyms1 missing."""
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    seen = []

    def fake_ldd(path):
        seen.append(path)
        return LDD_ICCCM_KEYSYMS

    message = xcb.check(str(plugin), env={}, runner=fake_ldd)
    assert seen == [str(plugin)]
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n" in message
    assert "libxcb-cursor0" not in message
    assert xcb.missing_sonames(str(plugin), fake_ldd) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_mapping_of_the_sonames_named_in_the_issue():
    packages, qt_own, unknown = xcb.packages_for(
        ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0", "libxkbcommon-x11.so.0",
         "libEGL.so.1", "libQt6Gui.so.6", "libnothing.so.9"])
    assert packages == ["libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0", "libxkbcommon-x11-0", "libegl1"]
    assert qt_own == ["libQt6Gui.so.6"] and unknown == ["libnothing.so.9"]


def test_no_check_off_linux_or_with_another_qt_platform(tmp_path, monkeypatch):
    def never(path):
        raise AssertionError("ldd must not run")

    assert xcb.check("x", env={"QT_QPA_PLATFORM": "offscreen"}, runner=never) == ""
    monkeypatch.setattr(sys, "platform", "darwin")
    assert xcb.check("x", env={}, runner=never) == ""


@linux_only
def test_a_real_plugin_copied_away_from_its_qt_libraries_is_reported(tmp_path):
    """A real libqxcb.so without the Qt libraries its RPATH points to: ldd says "not found"."""
    plugin = xcb.installed_plugin()
    if plugin is None:
        pytest.skip("this PySide6 has no xcb plugin")
    copy = tmp_path / "platforms" / "libqxcb.so"
    copy.parent.mkdir()
    shutil.copy(plugin, copy)
    assert xcb.check(plugin, env={}) == ""  # the installed one links (the suite runs with Qt's libs)
    message = xcb.check(str(copy), env={})
    assert "libQt6XcbQpa.so.6" in message
    assert "the PySide6 installation is incomplete" in message


def _absent_table_soname() -> str | None:
    listed = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout \
        if Path("/sbin/ldconfig").exists() else ""
    for soname in ("libxcb-xinput.so.0", "libxcb-xinerama.so.0", "libxcb-glx.so.0", "libOpenGL.so.0"):
        if soname not in listed and not any(Path(d, soname).exists() for d in ("/lib", "/usr/lib",
                                                                                "/lib/x86_64-linux-gnu",
                                                                                "/usr/lib/x86_64-linux-gnu")):
            return soname
    return None


@linux_only
@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build a tiny library")
def test_a_real_library_whose_system_dependency_is_gone(tmp_path):
    """Build a stand-in for libqxcb.so that links a system library this machine lacks (the stub
    it was linked against is deleted): the real ldd reports it and the apt line names its package."""
    soname = _absent_table_soname()
    if soname is None:
        pytest.skip("every candidate library is installed here")
    (tmp_path / "stub.c").write_text("int stub_symbol(void) { return 1; }\n")
    (tmp_path / "plugin.c").write_text("extern int stub_symbol(void);\nint use(void) { return stub_symbol(); }\n")
    stub = tmp_path / soname
    subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", str(stub), str(tmp_path / "stub.c")],
                   check=True)
    plugin = tmp_path / "libqxcb.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(plugin), str(tmp_path / "plugin.c"), str(stub)], check=True)
    stub.unlink()
    message = xcb.check(str(plugin), env={})
    assert soname in message
    assert xcb.apt_line([xcb.SONAME_PACKAGES[soname]]) in message


def test_loupe_prints_the_apt_line_and_stops_before_qt_is_imported(tmp_path):
    code = ("import sys, desktop.xcb_libraries as x\n"
            "x.check = lambda: 'Qt cannot open a window\\n    sudo apt-get install libxcb-icccm4'\n"
            "from desktop.ui.app import run_app\n"
            "rc = run_app()\n"
            "print(rc, 'PySide6.QtWidgets' in sys.modules, 'PySide6.QtGui' in sys.modules)\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.stdout.split() == ["3", "False", "False"], done.stderr
    assert "sudo apt-get install libxcb-icccm4" in done.stderr


def test_dev_py_uses_the_same_check_on_the_venvs_plugin(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("dev_under_test", ROOT / "tools" / "dev.py")
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    venv = tmp_path / ".venv"
    platforms = venv / "lib" / "python3.11" / "site-packages" / "PySide6" / "Qt" / "plugins" / "platforms"
    platforms.mkdir(parents=True)
    (platforms / "libqxcb.so").write_bytes(b"")
    monkeypatch.setattr(dev, "VENV", venv)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    if not sys.platform.startswith("linux"):
        pytest.skip("Linux only")
    import subprocess as sp

    real_run = sp.run

    def fake_run(cmd, *a, **kw):
        if cmd and str(cmd[0]).endswith("ldd"):
            assert cmd[1] == str(platforms / "libqxcb.so")
            return sp.CompletedProcess(cmd, 0, LDD_ICCCM_KEYSYMS, "")
        return real_run(cmd, *a, **kw)

    monkeypatch.setattr(sp, "run", fake_run)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/" + name)
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in dev.qt_libraries_message()
