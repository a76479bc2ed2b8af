"""The Measurements dock: the current image's rulers, angles and regions with their readings;
click one to select it on the image, Delete removes the selected ones (undoable), Export… opens
File ▸ Export with the measurements format (JSON or CSV, the same as `loupe export --format
measurements`)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

KIND_TITLES = {"line": "Ruler", "angle": "Angle", "ellipse": "Ellipse", "box": "Box"}
EMPTY = ("No measurements on this image. Tools ▸ Ruler (M), Angle (Shift+M), Ellipse Region (E) or Box Region "
         "(Shift+E), then drag on the image.")


class MeasurementsPanel(QWidget):
    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.hint = QLabel(EMPTY, self)
        self.hint.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.setWordWrap(True)
        self.list.itemSelectionChanged.connect(self._selected)
        self.list.itemDoubleClicked.connect(self._go_to_frame)
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setToolTip("Delete the selected measurements (Edit ▸ Undo brings them back)")
        self.delete_button.clicked.connect(self._delete)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Export every measurement of the folder as CSV or JSON (File ▸ Export…)")
        self.export_button.clicked.connect(self._export)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        controller.changed.connect(self.refresh)
        self.refresh()

    def rows(self) -> list[str]:
        return [self.list.item(r).text() for r in range(self.list.count())]

    def refresh(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        image = self.controller.window.current_image()
        multi = image is not None and image.n_frames > 1
        for m in self.controller.measurements():
            lines = m.text.split("\n") if m.text else [""]
            title = KIND_TITLES.get(m.kind, m.kind)
            text = f"{title}  {lines[0]}" + (f"  (frame {m.frame + 1})" if multi else "")
            if len(lines) > 1:
                text += "\n" + "\n".join("    " + line for line in lines[1:])
            item = QListWidgetItem(text)
            item.setData(Qt.UserRole, m.id)
            item.setToolTip(f"{title} on frame {m.frame + 1}\n{m.text}")
            self.list.addItem(item)
        self.list.blockSignals(False)
        empty = self.list.count() == 0
        self.hint.setVisible(empty)
        self.delete_button.setEnabled(not empty)

    def _ids(self) -> list[int]:
        return [i.data(Qt.UserRole) for i in self.list.selectedItems()]

    def _selected(self) -> None:
        ids = self._ids()
        if ids:
            self.controller.select(ids[0])

    def _go_to_frame(self, item) -> None:
        m = self.controller.shown.get(item.data(Qt.UserRole))
        if m is not None and m.frame != self.controller.window.current_frame():
            self.controller.window.view_area.slider.setValue(m.frame)
            self.controller.select(m.id)

    def _delete(self) -> None:
        self.controller.delete(self._ids())

    def _export(self) -> None:
        window = self.controller.window
        try:
            from desktop.ui.dialogs import open_export
        except ImportError:
            window.notify("The export dialog is not part of this build; use loupe export --format measurements")
            return
        dialog = open_export(window)
        if dialog is not None:
            index = dialog.format_box.findData("measurements")
            if index >= 0:
                dialog.format_box.setCurrentIndex(index)
