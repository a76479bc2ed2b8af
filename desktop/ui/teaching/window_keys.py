"""Keys of the quiz and presentation windows: window-wide actions (their own windows, so a key
such as N acts only where the focus is; decision 0143)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence


def window_action(window, keys, slot, text: str) -> QAction:
    action = QAction(text, window)
    action.setShortcuts([QKeySequence(k) for k in keys])
    action.setShortcutContext(Qt.WindowShortcut)
    action.triggered.connect(slot)
    window.addAction(action)
    return action
