"""Non-modal notifications: a line in the status bar with a Details button that opens a
non-modal window. Never a blocking dialog."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QToolButton, QWidget

_MARK = {"info": "ℹ", "warning": "⚠", "error": "✖"}


class NotificationArea(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.history: list[tuple[str, str, str | None]] = []  # (level, text, details)
        self.label = QLabel(self)
        self.details_button = QToolButton(self)
        self.details_button.setText("Details…")
        self.details_button.setAutoRaise(True)
        self.details_button.clicked.connect(self.show_details)
        self.details_button.hide()
        self._details_view: QPlainTextEdit | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.details_button)

    def notify(self, text: str, details: str | None = None, level: str = "info") -> None:
        self.history.append((level, text, details))
        self.label.setText(f"{_MARK.get(level, '')} {text}")
        color = {"error": "#e06c60", "warning": "#e0b050"}.get(level, "")
        self.label.setStyleSheet(f"color: {color}" if color else "")
        self.details_button.setVisible(bool(details))

    def show_details(self) -> None:
        level, text, details = self.history[-1]
        if self._details_view is None:
            self._details_view = QPlainTextEdit()
            self._details_view.setReadOnly(True)
            self._details_view.resize(560, 320)
        self._details_view.setWindowTitle(f"Loupe: {text}")
        self._details_view.setPlainText(f"{text}\n\n{details or ''}")
        self._details_view.show()  # non-modal
        self._details_view.raise_()
