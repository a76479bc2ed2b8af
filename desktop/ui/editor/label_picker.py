"""Ctrl+E: a searchable list of the labels; typing a name that is not there makes a new label."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit, QListWidget, QVBoxLayout

from desktop.ui.guard import guarded


class LabelPicker(QDialog):
    def __init__(self, names: list[str], current: str | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Label")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Type to search, or a new label's name")
        self.list = QListWidget(self)
        self.list.addItems(names)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for w in (self.search, self.list, buttons):
            layout.addWidget(w)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self.accept)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        if current in names:
            self.list.setCurrentRow(names.index(current))
        elif names:
            self.list.setCurrentRow(0)

    def filter(self, text: str) -> None:
        text = text.strip().lower()
        first = None
        for row in range(self.list.count()):
            item = self.list.item(row)
            hidden = bool(text) and text not in item.text().lower()
            item.setHidden(hidden)
            if not hidden and first is None:
                first = row
        if first is not None:
            self.list.setCurrentRow(first)

    @guarded("the label picker's keys")
    def keyPressEvent(self, event):
        if event.key() in (Qt.Key_Up, Qt.Key_Down) and self.search.hasFocus():
            self.list.keyPressEvent(event)
            return
        super().keyPressEvent(event)

    def chosen(self) -> str | None:
        """The visible list item chosen, else the text typed (a new label)."""
        item = self.list.currentItem()
        if item is not None and not item.isHidden():
            return item.text()
        text = self.search.text().strip()
        return text or None
