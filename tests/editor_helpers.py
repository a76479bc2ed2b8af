"""Fixtures for the box editor's GUI tests: the real MainWindow with only the box editor installed,
mouse drags in scene coordinates, and a second look at the store on disk."""

from __future__ import annotations

import sqlite3

import numpy as np
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


def make_editor_window(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow

    monkeypatch.setattr(extensions, "EXTENSIONS", ["desktop.ui.editor:install"])
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    return win


def image_folder(folder, n=3, size=(200, 160)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for k in range(n):
        Image.fromarray(rng.integers(0, 255, (size[1], size[0]), dtype=np.uint8)).save(folder / f"img_{k}.png")
    return folder


def open_folder(qtbot, win, folder):
    win.open_folder(folder)
    qtbot.waitUntil(lambda: win.box_editor.image_id is not None, timeout=10000)
    win.canvas.setFocus()
    return win.box_editor


def drag_scene(canvas, start, end, steps=4, modifiers=Qt.NoModifier):
    """Left-drag on the canvas from scene point `start` to `end` (image pixels)."""
    vp = canvas.viewport()

    def send(kind, scene_pt, buttons, button):
        pos = QPointF(canvas.mapFromScene(QPointF(*scene_pt)))
        ev = QMouseEvent(kind, pos, QPointF(vp.mapToGlobal(pos.toPoint())), button, buttons, modifiers)
        QApplication.sendEvent(vp, ev)

    send(QEvent.MouseButtonPress, start, Qt.LeftButton, Qt.LeftButton)
    for k in range(1, steps + 1):
        t = k / steps
        send(QEvent.MouseMove, (start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t),
             Qt.LeftButton, Qt.NoButton)
    send(QEvent.MouseButtonRelease, end, Qt.NoButton, Qt.LeftButton)


def disk_boxes(store, include_deleted=False):
    """The boxes as a second connection reads them from the database file."""
    conn = sqlite3.connect(store.path)
    try:
        where = "" if include_deleted else " WHERE b.deleted = 0"
        return sorted(conn.execute(
            "SELECT b.id, c.name, b.x, b.y, b.w, b.h, b.state, b.deleted FROM boxes b "
            f"JOIN categories c ON c.id = b.category_id{where}"))
    finally:
        conn.close()
