"""The viewer's menu actions, their keyboard shortcuts and the File/Help menus' slots.

Navigation keys are window-wide QActions (Qt.WindowShortcut). The canvas accepts the
ShortcutOverride of the arrow keys while a scene item is selected, so the box editor can nudge a
selected box with them (docs/decisions/0013-navigation-keys.md).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog

from . import settings as saved


def menu_action(window, menu, text, slot, shortcuts=(), tip=None) -> QAction:
    """A window-wide action (its keys work wherever the focus is in `window`), added to `menu`
    unless it is None. Every menu and key window of the app builds its actions with it."""
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
    a["open"] = menu_action(window, file_menu, "&Open Folder…", lambda: choose_folder(window), [QKeySequence.Open])
    window.recent_menu = file_menu.addMenu("Open &Recent")
    window.recent_menu.aboutToShow.connect(lambda: fill_recent_menu(window))
    a["samples"] = menu_action(window, file_menu, "Open &Sample Folder", lambda: open_samples(window))
    file_menu.addSeparator()
    a["quit"] = menu_action(window, file_menu, "&Quit", window.close, [QKeySequence.Quit])

    c = window.canvas
    a["zoom_in"] = menu_action(window, view, "Zoom &In", c.zoom_in, ["+", "=", QKeySequence.ZoomIn])
    a["zoom_out"] = menu_action(window, view, "Zoom &Out", c.zoom_out, ["-", QKeySequence.ZoomOut])
    a["fit"] = menu_action(window, view, "&Fit to Window", c.fit, ["Ctrl+0"])
    a["actual"] = menu_action(window, view, "&Actual Size (1:1)", c.actual_size, ["Ctrl+1"])
    view.addSeparator()
    a["next"] = menu_action(window, view, "&Next Image", window.step_next, ["D", "PgDown", "Right"])
    a["previous"] = menu_action(window, view, "&Previous Image", window.step_previous, ["A", "PgUp", "Left"])
    a["first"] = menu_action(window, view, "F&irst Image", window.go_first, ["Home"])
    a["last"] = menu_action(window, view, "&Last Image", window.go_last, ["End"])
    view.addSeparator()
    a["invert"] = menu_action(window, view, "&Invert", lambda: window.wl.set_invert(not window.wl.invert), ["Ctrl+I"])
    a["reset_wl"] = menu_action(window, view, "&Reset Window/Level", window.wl.reset, ["Ctrl+R"])
    view.addSeparator()
    help_menu = window.menu("Help")
    a["shortcuts"] = menu_action(window, help_menu, "&Keyboard Shortcuts…", lambda: show_shortcuts(window),
                             [QKeySequence.HelpContents, "Ctrl+/"])
    a["about"] = menu_action(window, help_menu, "&About Loupe…", lambda: show_about(window))
    return a


def choose_folder(window) -> None:
    start = str(window.folder or Path.home())
    folder = QFileDialog.getExistingDirectory(window, "Open folder", start)
    if folder:
        window.open_folder(folder)


def fill_recent_menu(window) -> None:
    """The recent folders that still exist (the list forgets the others)."""
    menu = window.recent_menu
    menu.clear()
    for folder in saved.existing_recent_folders(window.settings):
        menu.addAction(folder, lambda f=folder: window.open_folder(f))
    if menu.isEmpty():
        menu.addAction("(none)").setEnabled(False)


def open_samples(window) -> None:
    """The bundled sample folder, generated on first use (desktop.core.samples)."""
    from desktop.core.samples import ensure_samples

    window.open_folder(ensure_samples())


def show_about(window):
    from .help_dialogs import show_about as about

    window.about_dialog = about(window)
    return window.about_dialog


def show_shortcuts(window):
    from .help_dialogs import show_shortcuts as sheet

    window.shortcuts_dialog = sheet(window)
    return window.shortcuts_dialog
