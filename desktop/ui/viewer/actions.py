"""The viewer's menus and keyboard shortcuts.

Navigation keys are window-wide QActions (Qt.WindowShortcut). The canvas accepts the
ShortcutOverride of the arrow keys while a scene item is selected, so the box editor can nudge a
selected box with them (docs/decisions/0013-navigation-keys.md).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence


def _action(window, menu, text, slot, shortcuts=(), tip=None) -> QAction:
    action = QAction(text, window)
    if shortcuts:
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.WindowShortcut)
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    if menu is not None:
        menu.addAction(action)
    window.addAction(action)
    return action


def build_actions(window) -> dict[str, QAction]:
    file_menu, view = window.menu("File"), window.menu("View")
    a = {}
    a["open"] = _action(window, file_menu, "&Open Folder…", window.choose_folder, [QKeySequence.Open])
    window.recent_menu = file_menu.addMenu("Open &Recent")
    window.recent_menu.aboutToShow.connect(window.fill_recent_menu)
    a["samples"] = _action(window, file_menu, "Open &Sample Folder", window.open_samples)
    file_menu.addSeparator()
    a["quit"] = _action(window, file_menu, "&Quit", window.close, [QKeySequence.Quit])

    c = window.canvas
    a["zoom_in"] = _action(window, view, "Zoom &In", c.zoom_in, ["+", "=", QKeySequence.ZoomIn])
    a["zoom_out"] = _action(window, view, "Zoom &Out", c.zoom_out, ["-", QKeySequence.ZoomOut])
    a["fit"] = _action(window, view, "&Fit to Window", c.fit, ["Ctrl+0"])
    a["actual"] = _action(window, view, "&Actual Size (1:1)", c.actual_size, ["Ctrl+1"])
    view.addSeparator()
    a["next"] = _action(window, view, "&Next Image", window.go_next, ["D", "PgDown", "Right"])
    a["previous"] = _action(window, view, "&Previous Image", window.go_previous, ["A", "PgUp", "Left"])
    view.addSeparator()
    a["invert"] = _action(window, view, "&Invert", lambda: window.wl.set_invert(not window.wl.invert), ["Ctrl+I"])
    a["reset_wl"] = _action(window, view, "&Reset Window/Level", window.wl.reset, ["Ctrl+R"])
    view.addSeparator()
    help_menu = window.menu("Help")
    a["about"] = _action(window, help_menu, "&About Loupe", window.show_about)
    return a
