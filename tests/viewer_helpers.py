"""Fixtures for the viewer's GUI tests: a MainWindow with its own settings file and no panels."""

from __future__ import annotations


def make_window(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow

    monkeypatch.setattr(extensions, "EXTENSIONS", [])  # the viewer alone, as the seam promises
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    return win


def open_and_wait(qtbot, win, folder, n=None):
    win.open_folder(folder)
    qtbot.waitUntil(lambda: win.current_image() is not None or win.current_path() is not None, timeout=10000)
    if n is not None:
        qtbot.waitUntil(lambda: len(win.image_paths()) == n, timeout=10000)
