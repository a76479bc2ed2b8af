"""Inspector: the file's facts and its DICOM tags; tags that identify a patient, and every private
tag (a vendor's, which may), are hidden until the user clicks "Reveal patient data"."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

HIDDEN = "•••• hidden (patient data)"
HIDDEN_PRIVATE = "•••• hidden (private tag: may identify)"


class Inspector(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.revealed = False
        self._meta: dict = {}
        self.title = QLabel("No image", self)
        self.title.setWordWrap(True)
        self.reveal = QPushButton("Reveal patient data", self)
        self.reveal.setCheckable(True)
        self.reveal.toggled.connect(self._toggle)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Tag", "Name", "Value"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)  # compact rows
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.Stretch)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.title)
        layout.addWidget(self.reveal)
        layout.addWidget(self.table)

    def show_meta(self, meta: dict | None, error: str | None = None) -> None:
        self._meta = meta or {}
        if error:
            self._meta = {**self._meta, "Cannot be shown": error}
        self.title.setText(self._meta.get("File", "No image"))
        self._fill()

    def _toggle(self, on: bool) -> None:
        self.revealed = on
        self.reveal.setText("Hide patient data" if on else "Reveal patient data")
        self._fill()

    def rows(self) -> list[tuple[str, str, str]]:
        """(tag, name, value shown) for every row, as on screen."""
        out = [("", key, str(value)) for key, value in self._meta.items() if key != "tags"]
        for tag in self._meta.get("tags", []):
            hidden = HIDDEN_PRIVATE if tag.get("private") else HIDDEN
            value = tag["value"] if (self.revealed or not tag["phi"]) else hidden
            out.append((tag["tag"], tag["name"], value))
        return out

    def _fill(self) -> None:
        rows = self.rows()
        has_phi = any(t["phi"] for t in self._meta.get("tags", []))
        self.reveal.setVisible(has_phi)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c:
                    item.setToolTip(text)  # long names and UIDs are elided in their columns
                self.table.setItem(r, c, item)
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)
        name_cap = self.fontMetrics().horizontalAdvance("Media Storage SOP Class")
        # the value is what is read: at a 300-px dock (1280x720) the name gives way to it
        name_cap = min(name_cap, max(80, int(self.table.viewport().width() * 0.36)))
        if self.table.columnWidth(1) > name_cap:  # leave the value column room
            self.table.setColumnWidth(1, name_cap)
