"""The image list's order control: folder order, or the review queue, most uncertain first, of the
latest model run or of a chosen one (decisions 0130, 0131). The viewer knows nothing of the store:
whoever knows the runs (desktop/ui/review) fills the choices with `set_runs` and answers
`changed(choice)` by giving the list its scores."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

FOLDER, LATEST = "folder", "latest"


class QueueOrder(QWidget):
    """"Order: [Folder order | Most uncertain first (the latest run) | Most uncertain of run N ...]"."""

    changed = Signal(object)  # FOLDER, LATEST or a run id

    def __init__(self, parent=None):
        super().__init__(parent)
        self.combo = QComboBox(self)
        self.combo.setObjectName("queue_order")
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)  # long run names are elided, the dock stays narrow
        self.combo.setToolTip("The order of the list, of Next/Previous and of Space (mark reviewed and next). "
                              "Most uncertain first: the images the model was least sure of come first "
                              "(N goes to the most uncertain image not reviewed yet).")
        label = QLabel("Order", self)
        label.setBuddy(self.combo)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(label)
        lay.addWidget(self.combo, 1)
        self.set_runs([])
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit(self.choice()))

    def set_runs(self, runs: list[tuple[int, str]]) -> None:
        """(run id, label) of the runs that scored images, newest first; keeps the choice when it
        is still offered (a new run makes "latest" mean that run)."""
        keep = self.choice() if self.combo.count() else FOLDER
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem("Folder order", FOLDER)
        if runs:
            self.combo.addItem("Most uncertain first", LATEST)
            self.combo.setItemData(1, f"By the latest model run that scored images ({runs[0][1]})", Qt.ToolTipRole)
            for run_id, label in runs:
                self.combo.addItem(f"Most uncertain of {label}", run_id)
                self.combo.setItemData(self.combo.count() - 1, label, Qt.ToolTipRole)
        else:
            self.combo.addItem("Most uncertain first (run a model first)", LATEST)
            self.combo.setItemData(1, "Run a model on the folder (Models dock: All images) to sort by how "
                                      "unsure it was", Qt.ToolTipRole)
            self.combo.model().item(1).setEnabled(False)
        at = self.combo.findData(keep)
        self.combo.setCurrentIndex(at if at >= 0 else 0)
        self.combo.blockSignals(False)

    def choice(self):
        return self.combo.currentData()

    def choose(self, choice) -> bool:
        """Select FOLDER, LATEST or a run id (emits `changed`); False when it is not offered."""
        at = self.combo.findData(choice)
        if at < 0 or not self.combo.model().item(at).isEnabled():
            return False
        self.combo.setCurrentIndex(at)
        return True
