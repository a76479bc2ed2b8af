"""A one-line label that never widens its parent: text longer than the room is elided ("…"),
the full text is the tooltip and a click shows it in a window it can be copied from
(docs/decisions/0103-layout-never-collapses.md)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from desktop.ui.guard import guarded

MIN_WIDTH = 40


class ElidedLabel(QLabel):
    clicked = Signal()

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._full = ""
        self._details_window = None
        self.auto_full_text = True  # a click on elided text opens the full text (off: the owner shows it)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = str(text or "")
        super().setText(self._full)
        self.setToolTip(self._full if self.is_elided() or "\n" in self._full else "")
        self.setCursor(Qt.PointingHandCursor if self._full else Qt.ArrowCursor)
        self.update()

    def text(self) -> str:
        return self._full

    def first_line(self) -> str:
        return self._full.split("\n", 1)[0]

    def is_elided(self) -> bool:
        room = max(self.contentsRect().width(), 1)
        return "\n" in self._full or self.fontMetrics().horizontalAdvance(self._full) > room

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(MIN_WIDTH, self.fontMetrics().height())

    def sizeHint(self) -> QSize:  # noqa: N802
        width = min(self.fontMetrics().horizontalAdvance(self.first_line()) + 4, 400)
        return QSize(max(width, MIN_WIDTH), self.fontMetrics().height())

    @guarded("the status line")
    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.setToolTip(self._full if self.is_elided() else "")

    @guarded("the status line")
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        rect = self.contentsRect()
        line = self.first_line() + (" …" if "\n" in self._full else "")
        shown = self.fontMetrics().elidedText(line, Qt.ElideRight, rect.width())
        painter.drawText(rect, int(self.alignment() | Qt.AlignVCenter), shown)

    @guarded("the status line")
    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.LeftButton and self._full:
            self.clicked.emit()
            if self.auto_full_text and self.is_elided():
                self.show_full_text()
        super().mousePressEvent(event)

    def show_full_text(self):
        """A small non-modal window with the whole text (selectable); it closes with the main window."""
        from PySide6.QtWidgets import QPlainTextEdit

        if self._details_window is None:
            view = QPlainTextEdit(self.window())
            view.setWindowFlag(Qt.Window, True)
            view.setReadOnly(True)
            view.resize(560, 240)
            self._details_window = view
        self._details_window.setWindowTitle("Loupe: message")
        self._details_window.setPlainText(self._full)
        self._details_window.show()
        self._details_window.raise_()
        return self._details_window
