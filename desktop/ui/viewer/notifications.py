"""Non-modal notifications: a line in the status bar with a Details button that opens a
non-modal window. Never a blocking dialog. The line is elided (never widens the window); a click
on it shows the whole text. The details window belongs to the main window and closes with it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QToolButton, QWidget

from .elided_label import ElidedLabel

_MARK = {"info": "ℹ", "warning": "⚠", "error": "✖"}


class NotificationArea(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.history: list[tuple[str, str, str | None]] = []  # (level, text, details)
        self.label = ElidedLabel("", self)
        self.label.clicked.connect(self._clicked)
        self.details_button = QToolButton(self)
        self.details_button.setText("Details…")
        self.details_button.setAutoRaise(True)
        self.details_button.clicked.connect(self.show_details)
        self.details_button.hide()
        self._details_view: QPlainTextEdit | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.details_button)

    def notify(self, text: str, details: str | None = None, level: str = "info") -> None:
        self.history.append((level, text, details))
        self.label.setText(f"{_MARK.get(level, '')} {text}")
        color = {"error": "#e06c60", "warning": "#e0b050"}.get(level, "")
        self.label.setStyleSheet(f"color: {color}" if color else "")
        self.details_button.setVisible(bool(details))
        self.label.auto_full_text = not details  # with details, a click opens them (the full text too)

    def _clicked(self) -> None:
        if self.history and self.history[-1][2]:
            self.show_details()

    def show_details(self) -> None:
        level, text, details = self.history[-1]
        if self._details_view is None:
            self._details_view = QPlainTextEdit(self.window())  # a child window: closes with it
            self._details_view.setWindowFlag(Qt.Window, True)
            self._details_view.setReadOnly(True)
            self._details_view.resize(560, 320)
        self._details_view.setWindowTitle(f"Loupe: {text}")
        self._details_view.setPlainText(f"{text}\n\n{details or ''}")
        self._details_view.show()  # non-modal
        self._details_view.raise_()
