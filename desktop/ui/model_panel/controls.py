"""The per-model controls: only the ones the model declares (threshold, class filter, beam size,
max length, saliency method) are shown."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSlider,
    QSpinBox,
    QWidget,
)

SALIENCY_METHODS = ("gradcam", "guided-gradcam", "guided-backprop", "gradient-shap",
                    "integrated-gradients", "occlusion", "input-x-gradient", "saliency")


def saliency_methods(task: str = "classification") -> list[str]:
    """The methods to offer: a detector explains one box (Grad-CAM of its query) or the whole image
    (EigenCAM); a classifier gets every attribution method."""
    try:
        from models import saliency

        methods = list(getattr(saliency, "METHODS", SALIENCY_METHODS))
        extra = list(getattr(saliency, "EXTRA_METHODS", ()))
    except Exception:  # not landed, or broken: offer the documented names
        methods, extra = list(SALIENCY_METHODS), []
    if task == "detection":
        return ["gradcam"] + (["eigencam"] if "eigencam" in extra else [])
    return methods


class ModelControls(QWidget):
    """Emits `filter_changed(threshold, classes)` live as the slider or class list changes."""

    filter_changed = Signal(float, object)  # threshold, set of class names (None: all)

    def __init__(self, parent=None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.form = form

        self.threshold = QSlider(Qt.Orientation.Horizontal)
        self.threshold.setRange(0, 100)
        self.threshold.setValue(50)
        self.threshold_label = QLabel("0.50")
        row = QWidget()
        hl = QHBoxLayout(row)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.addWidget(self.threshold, 1)
        hl.addWidget(self.threshold_label)
        self.threshold_row = row
        form.addRow("Threshold", row)

        self.classes = QListWidget()
        self.classes.setMaximumHeight(110)
        form.addRow("Classes", self.classes)

        self.beam = QSpinBox()
        self.beam.setRange(1, 10)
        self.beam.setValue(1)
        self.beam.setToolTip("Beam size: 1 is greedy decoding (fastest)")
        form.addRow("Beam size", self.beam)

        self.max_length = QSpinBox()
        self.max_length.setRange(5, 200)
        self.max_length.setValue(80)
        self.max_length.setSuffix(" tokens")
        form.addRow("Max length", self.max_length)

        self.method = QComboBox()  # shown in the panel's Saliency group, next to what it drives

        self.threshold.valueChanged.connect(self._threshold_moved)
        self.classes.itemChanged.connect(lambda _item: self._emit())
        self.set_controls([], [], 0.5)

    # -- configuration ---------------------------------------------------------------------
    def set_controls(self, controls, class_names, default_threshold: float, methods=()) -> None:
        controls = set(controls)
        self._show(self.threshold_row, "threshold" in controls)
        self._show(self.classes, "class_filter" in controls)
        self._show(self.beam, "beam_size" in controls)
        self._show(self.max_length, "max_length" in controls)
        self._show(self.method, "saliency_method" in controls or bool(methods))
        self.threshold.blockSignals(True)
        self.threshold.setValue(int(round(default_threshold * 100)))
        self.threshold_label.setText(f"{default_threshold:.2f}")
        self.threshold.blockSignals(False)
        self.classes.blockSignals(True)
        self.classes.clear()
        for name in class_names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.classes.addItem(item)
        self.classes.blockSignals(False)
        self.method.clear()
        self.method.addItems(list(methods))

    def _show(self, widget, visible: bool) -> None:
        widget.setVisible(visible)
        label = self.form.labelForField(widget)
        if label is not None:
            label.setVisible(visible)

    def visible_controls(self) -> set[str]:
        names = {"threshold": self.threshold_row, "class_filter": self.classes, "beam_size": self.beam,
                 "max_length": self.max_length, "saliency_method": self.method}
        return {k for k, w in names.items() if not w.isHidden()}

    # -- values ----------------------------------------------------------------------------
    def threshold_value(self) -> float:
        return self.threshold.value() / 100.0

    def selected_classes(self) -> set[str] | None:
        """The checked classes; None when all are checked (no filter)."""
        items = [self.classes.item(i) for i in range(self.classes.count())]
        checked = {i.text() for i in items if i.checkState() == Qt.CheckState.Checked}
        return None if len(checked) == len(items) else checked

    def set_class_checked(self, name: str, checked: bool) -> None:
        for i in range(self.classes.count()):
            item = self.classes.item(i)
            if item.text() == name:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def options(self) -> dict:
        return {"threshold": self.threshold_value(), "beam_size": self.beam.value(),
                "max_length": self.max_length.value()}

    def _threshold_moved(self, value: int) -> None:
        self.threshold_label.setText(f"{value / 100:.2f}")
        self._emit()

    def _emit(self) -> None:
        self.filter_changed.emit(self.threshold_value(), self.selected_classes())
