"""What a classifier or captioner said about the current image: sorted probability bars, and an
editable caption box."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class ClassBars(QWidget):
    """One labelled bar per class, most probable first. `use_as_label` asks to store the labels."""

    use_as_label = Signal()

    def __init__(self, parent=None, max_rows: int = 14):
        super().__init__(parent)
        self.max_rows = max_rows
        self.probs: dict[str, float] = {}
        self.rows: list[tuple[QLabel, QProgressBar]] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        self.grid = QGridLayout()
        layout.addLayout(self.grid)
        self.button = QPushButton("Use as image label")
        self.button.setEnabled(False)
        self.button.clicked.connect(self.use_as_label.emit)
        layout.addWidget(self.button)

    def set_probabilities(self, probs: dict[str, float], multi_label: bool) -> None:
        self.probs = dict(probs)
        for label, bar in self.rows:
            label.deleteLater()
            bar.deleteLater()
        self.rows = []
        ordered = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)[: self.max_rows]
        for i, (name, p) in enumerate(ordered):
            label = QLabel(name)
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(int(round(p * 1000)))
            bar.setFormat(f"{p * 100:.1f}%")
            bar.setTextVisible(True)
            bar.setAccessibleName(f"{name} {p * 100:.1f} percent")
            self.grid.addWidget(label, i, 0)
            self.grid.addWidget(bar, i, 1)
            self.rows.append((label, bar))
        kind = ("independent findings (multi-label): each bar is its own probability" if multi_label
                else "one class per image: the bars sum to 100%")
        self.caption.setText(kind if probs else "")
        self.button.setEnabled(bool(probs))

    def shown(self) -> list[tuple[str, float]]:
        """(class, percent) in the order shown, as a person reads them."""
        return [(label.text(), bar.value() / 10) for label, bar in self.rows]


class CaptionBox(QWidget):
    """The model's caption, editable; Save stores it as the image's caption or teaching note."""

    save_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QPlainTextEdit()
        self.edit.setPlaceholderText("The caption appears here; edit it and save it as the image's note.")
        self.edit.setTabChangesFocus(True)
        layout.addWidget(self.edit)
        row = QHBoxLayout()
        self.status = QLabel("")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save = QPushButton("Save caption")
        self.save.clicked.connect(lambda: self.save_requested.emit(self.edit.toPlainText()))
        row.addWidget(self.status, 1)
        row.addWidget(self.save)
        layout.addLayout(row)

    def set_text(self, text: str, status: str = "") -> None:
        self.edit.setPlainText(text)
        self.status.setText(status)

    def text(self) -> str:
        return self.edit.toPlainText()
