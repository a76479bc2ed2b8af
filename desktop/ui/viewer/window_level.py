"""Window/level controls: right-drag on the canvas, numeric fields, the file's and CT presets,
invert and reset. The chosen window sticks across the images of a folder until reset.

`changed` fires on every change (the canvas re-renders); `settled` fires once a change is final:
at once for fields, presets, invert and reset, and at the end of a drag. Settings are written and
the preset menu is updated on `settled` only, so a drag move costs the render alone
(docs/decisions/0015-window-level-drag-path.md)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QPushButton,
    QWidget,
)

from desktop.core.imaging import CT_PRESETS, Window
from desktop.core.imaging.window import as_window


class WindowLevelState(QObject):
    """`user` is the window the user chose (None: each image's own default); `invert` toggles
    relative to the image's own polarity (MONOCHROME1 is already inverted)."""

    changed = Signal()
    settled = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.user: Window | None = None
        self.invert = False
        self.dragging = False
        self.image = None  # the LoupeImage shown, for defaults and drag sensitivity
        self.frame = 0

    def effective(self) -> Window | None:
        if self.user is not None:
            return self.user
        return self.image.default_window(self.frame) if self.image is not None else None

    def invert_flag(self) -> bool | None:
        """The `invert` argument for LoupeImage.render (None: the file's own polarity)."""
        if not self.invert:
            return None
        return not (self.image.monochrome1 if self.image is not None else False)

    def set_window(self, window) -> None:
        """A Window, a (centre, width[, name]) tuple, or None for each image's own default."""
        self.user = as_window(window) if window is not None else None
        self._changed()

    def set_invert(self, invert: bool) -> None:
        if invert != self.invert:
            self.invert = invert
            self._changed()

    def reset(self) -> None:
        self.user, self.invert = None, False
        self._changed()

    def _changed(self) -> None:
        self.changed.emit()
        if not self.dragging:
            self.settled.emit()

    def end_drag(self) -> None:
        """The right button was released: the dragged window is final."""
        if self.dragging:
            self.dragging = False
            self.settled.emit()

    def drag(self, dx: float, dy: float) -> None:
        """Radiology convention: right/left widens/narrows, down/up raises/lowers the level."""
        base = self.effective()
        if base is None:  # VOI LUT image: start from its full range
            if self.image is None:
                return
            lo, hi = self.image.value_range(self.frame)
            base = Window((lo + hi) / 2, max(hi - lo, 1.0))
        lo, hi = self.image.value_range(self.frame) if self.image is not None else (0.0, 255.0)
        step = max(hi - lo, 1.0) / 512.0  # a drag across ~500 px sweeps the whole range
        width = max(base.width + dx * step * 2, 1.0)
        center = base.center + dy * step
        self.dragging = True
        self.user = Window(center, width, "Manual")
        self.changed.emit()


class WindowLevelPanel(QWidget):
    """Centre/width fields, a preset menu, invert and reset, kept in step with the state."""

    def __init__(self, state: WindowLevelState, parent=None):
        super().__init__(parent)
        self.state = state
        self.center = QDoubleSpinBox(self)
        self.width = QDoubleSpinBox(self)
        for box in (self.center, self.width):
            box.setRange(-1e7, 1e7)
            box.setDecimals(1)
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self._fields_changed)
        self.width.setMinimum(1.0)
        self.presets = QComboBox(self)
        self.presets.activated.connect(self._preset_chosen)
        self.invert = QCheckBox("Invert", self)
        self.invert.toggled.connect(state.set_invert)
        self.reset = QPushButton("Reset", self)
        self.reset.setToolTip("Back to the image's own window and polarity")
        self.reset.clicked.connect(state.reset)
        form = QFormLayout(self)
        form.addRow("Preset", self.presets)
        form.addRow("Level (centre)", self.center)
        form.addRow("Window (width)", self.width)
        form.addRow(self.invert)
        form.addRow(self.reset)
        state.changed.connect(self.refresh_fields)
        state.settled.connect(self.refresh)

    def refresh_fields(self) -> None:
        """The numbers follow a drag live (two spin boxes; the preset menu waits for `settled`)."""
        win = self.state.effective()
        with QSignalBlocker(self.center), QSignalBlocker(self.width), QSignalBlocker(self.invert):
            if win is not None:
                self.center.setValue(win.center)
                self.width.setValue(win.width)
            self.invert.setChecked(self.state.invert)

    def refresh(self) -> None:
        """Fields and the preset menu (the file's presets, CT presets, the user's window)."""
        self.refresh_fields()
        with QSignalBlocker(self.presets):
            self.presets.clear()
            self.presets.addItem("Image default", None)
            image = self.state.image
            for w in getattr(image, "windows", []) or []:
                self.presets.addItem(f"{w.name} ({w.center:g}/{w.width:g})", w)
            if image is not None and image.voi_lut is not None:
                self.presets.addItem("VOI LUT (from the file)", "voi")
            for w in CT_PRESETS:
                self.presets.addItem(f"CT {w.name} ({w.center:g}/{w.width:g})", w)
            if self.state.user is not None:
                self.presets.addItem(f"{self.state.user.name or 'Manual'}", self.state.user)
                self.presets.setCurrentIndex(self.presets.count() - 1)

    def _fields_changed(self) -> None:
        self.state.set_window(Window(self.center.value(), self.width.value(), "Manual"))

    def _preset_chosen(self, index: int) -> None:
        data = self.presets.itemData(index)
        if data is None or data == "voi":
            self.state.set_window(None)
        else:
            self.state.set_window(data)
