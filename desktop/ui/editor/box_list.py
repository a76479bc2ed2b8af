"""The box list of the current image (as labelme's and CVAT's object lists): label, score, who made
it and whether a person has reviewed it. A click selects the box on the canvas (and the canvas
selection selects the row); Del (the Edit menu's Delete Box) deletes the selected boxes through the
editor's undo stack."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from desktop.ui.guard import guarded

COLUMNS = ("Label", "Score", "By", "Reviewed")
HEADER_TIPS = ("The box's label", "The model's score (empty for a person's box)",
               "Who made the box: a person, or the model's name", "Whether a person has checked it")
EMPTY_NO_IMAGE = "Open a folder and pick an image: its boxes are listed here."
EMPTY_NO_BOXES = ("No boxes on this image yet. Press W (or R) and drag on the image to draw one, "
                  "or run a detector from the Models panel.")


def made_by(box) -> str:
    return "a person" if box.source == "person" else (box.model or "a model")


def reviewed(box) -> str:
    if box.source == "person":
        return "yes (drawn)"
    return {"accepted": "yes (accepted)", "modified": "yes (corrected)"}.get(box.state, "no")


class BoxListPanel(QTableWidget):
    def __init__(self, editor, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.editor = editor
        self.setHorizontalHeaderLabels(COLUMNS)
        for c, tip in enumerate(HEADER_TIPS):
            self.horizontalHeaderItem(c).setToolTip(tip)
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.ElideRight)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setTextElideMode(Qt.ElideRight)  # a narrow column's title reads "Revie…", not "evie"
        header.setDefaultAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        for c in range(1, len(COLUMNS)):  # fitted to their text in refresh(), capped there
            header.setSectionResizeMode(c, QHeaderView.Interactive)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)  # long texts are elided instead
        self.setMinimumWidth(60)
        self.ids: list[int] = []
        self.itemSelectionChanged.connect(self._rows_selected)
        # Del: the Edit menu's window-wide Delete Box acts on the selection this list keeps in step
        editor.boxes_changed.connect(lambda _path: self.refresh())
        scene = editor.canvas.scene()
        scene.selectionChanged.connect(self._canvas_selected)

    def refresh(self) -> None:
        items = [i for i in self.editor.items.values() if i.isVisible()]
        items.sort(key=lambda i: (i.box.y, i.box.x))
        with QSignalBlocker(self):
            self.setRowCount(len(items))
            self.ids = []
            for row, item in enumerate(items):
                box = item.box
                score = "" if box.score is None else f"{box.score:.2f}"
                cells = (box.category, score, made_by(box), reviewed(box))
                for col, text in enumerate(cells):
                    cell = QTableWidgetItem(text)
                    if col == 0:
                        cell.setForeground(QColor(item.color))
                        cell.setToolTip(f"{box.category} at {box.x:.0f}, {box.y:.0f} ({box.w:.0f} x {box.h:.0f})")
                    if col == 1:
                        cell.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                    self.setItem(row, col, cell)
                self.ids.append(box.id)
        self._canvas_selected()
        self.fit_columns()
        self.viewport().update()  # the empty list's text depends on the image, not only the rows

    def fit_columns(self) -> None:
        """Score, By and Reviewed as wide as their text; when that leaves the label (stretched)
        under 40% of the list, each at most a fifth of it: a long model name is elided, not the
        label pushed to "…" behind a scroll bar (seen at 1280x720)."""
        width = self.viewport().width()
        for c in range(1, len(COLUMNS)):
            self.resizeColumnToContents(c)
        if sum(self.columnWidth(c) for c in range(1, len(COLUMNS))) <= width * 0.6:
            return  # wide enough: every column whole, the label keeps the rest
        cap = max(40, width // 5)
        for c in range(1, len(COLUMNS)):
            if self.columnWidth(c) > cap:
                self.setColumnWidth(c, cap)

    @guarded("laying out the box list")
    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.fit_columns()

    def empty_text(self) -> str:
        """What the empty list says to do next (painted in its viewport)."""
        return EMPTY_NO_IMAGE if getattr(self.editor, "image_id", None) is None else EMPTY_NO_BOXES

    @guarded("drawing the box list")
    def paintEvent(self, event):
        super().paintEvent(event)
        if self.rowCount():
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.PlaceholderText))
        rect = self.viewport().rect().adjusted(8, 8, -8, -8)
        painter.drawText(rect, Qt.AlignHCenter | Qt.AlignTop | Qt.TextWordWrap, self.empty_text())
        painter.end()

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.selectedIndexes()})
        return [self.ids[r] for r in rows if r < len(self.ids)]

    def _rows_selected(self) -> None:
        ids = self.selected_ids()
        scene = self.editor.canvas.scene()
        with QSignalBlocker(scene):
            self.editor._select(ids)
        if ids and ids[0] in self.editor.items:
            self.editor.canvas.ensureVisible(self.editor.items[ids[0]].rect(), 20, 20)
        if self.editor.overlay is not None:
            self.editor.overlay.update()

    def _canvas_selected(self) -> None:
        try:
            chosen = {i.box_id for i in self.editor.selected_items()}
        except RuntimeError:  # the scene went away with the window
            return
        with QSignalBlocker(self):
            self.clearSelection()
            for row, box_id in enumerate(self.ids):
                if box_id in chosen:
                    for col in range(self.columnCount()):
                        self.item(row, col).setSelected(True)

    def delete_selected(self) -> None:
        self._rows_selected()
        self.editor.delete_selected()
