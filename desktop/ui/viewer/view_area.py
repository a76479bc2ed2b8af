"""The centre of the window: the canvas with a frame slider below it for multi-frame images."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from .canvas import ImageCanvas


class ViewArea(QWidget):
    frame_changed = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.canvas = ImageCanvas(self)
        self.slider = QSlider(Qt.Horizontal, self)
        self.slider.setFocusPolicy(Qt.NoFocus)  # keys stay with the canvas
        self.slider.valueChanged.connect(self._moved)
        self.label = QLabel(self)
        self.bar = QWidget(self)
        row = QHBoxLayout(self.bar)
        row.setContentsMargins(6, 0, 6, 2)
        row.addWidget(QLabel("Frame", self.bar))
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.bar)
        self.set_frames(1)

    def set_frames(self, n: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.label.setText(f"1 / {n}")
        self.bar.setVisible(n > 1)

    def _moved(self, value: int) -> None:
        self.label.setText(f"{value + 1} / {self.slider.maximum() + 1}")
        self.frame_changed.emit(value)
