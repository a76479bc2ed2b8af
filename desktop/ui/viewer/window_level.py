"""Window/level controls: right-drag on the canvas, numeric fields, the file's and CT presets,
invert, reset and lock.

A manual window belongs to the image it was set on (a DICOM image: to its series, the same
SeriesInstanceUID); every other image opens at its own default. "Lock" keeps the window on every
image, as a radiology viewer's W/L lock does (docs/decisions/0101-window-level-per-series.md).

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


def window_key(image, path: str | None) -> str | None:
    """What a manual window belongs to: the DICOM series (SeriesInstanceUID), else the file."""
    uid = getattr(getattr(image, "dataset", None), "SeriesInstanceUID", None)
    if uid:
        return f"series:{uid}"
    return f"file:{path}" if path else None


class WindowLevelState(QObject):
    """`user` is the window in force for the image shown (None: its own default); `manual` holds
    the windows set per image/series this session; `locked` keeps `user` for every image.
    `invert` toggles relative to the image's own polarity (MONOCHROME1 is already inverted)."""

    changed = Signal()
    settled = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.user: Window | None = None
        self.invert = False
        self.dragging = False
        self.image = None  # the LoupeImage shown, for defaults and drag sensitivity
        self.frame = 0
        self.key: str | None = None  # window_key of the image shown
        self.manual: dict[str, Window] = {}
        self.locked = False

    def set_image(self, image, path: str | None) -> None:
        """A new image is shown: its own manual window or default, unless W/L is locked."""
        self.image, self.frame = image, 0
        self.key = window_key(image, path)
        if not self.locked:
            self.user = self.manual.get(self.key) if self.key else None

    def set_locked(self, locked: bool) -> None:
        """Lock: the window on screen now stays for every image (the image's default, if none was set)."""
        if locked == self.locked:
            return
        self.locked = locked
        if locked and self.user is None:
            self.user = self.effective()
        self._changed()

    def _remember(self) -> None:
        if self.key is None or self.locked:
            return
        if self.user is None:
            self.manual.pop(self.key, None)
        else:
            self.manual[self.key] = self.user

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
        """Back to the image's own window and polarity (this also ends a lock)."""
        self.user, self.invert, self.locked = None, False, False
        self._changed()

    def _changed(self) -> None:
        self._remember()
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
        self._remember()
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
        for box in (self.center, self.width):
            box.setMinimumWidth(72)  # not the width of "-10000000.0": the dock stays narrow
        self.presets = QComboBox(self)
        self.presets.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.presets.setMinimumContentsLength(9)  # a long preset name never widens the dock
        self.presets.activated.connect(self._preset_chosen)
        self.invert = QCheckBox("Invert", self)
        self.invert.toggled.connect(state.set_invert)
        self.lock = QCheckBox("Lock for all images", self)
        self.lock.setToolTip("Lock window/level: every image opens with this window, not its own default "
                             "(remembered for this folder)")
        self.lock.toggled.connect(state.set_locked)
        self.reset = QPushButton("Reset", self)
        self.reset.setToolTip("Back to the image's own window and polarity")
        self.reset.clicked.connect(state.reset)
        form = QFormLayout(self)
        form.addRow("Preset", self.presets)
        self.center.setToolTip("Level: the centre of the window, in the image's units (HU for CT)")
        self.width.setToolTip("Window: its width, in the image's units")
        form.addRow("Level", self.center)
        form.addRow("Width", self.width)
        form.addRow(self.invert)
        form.addRow(self.lock)
        form.addRow(self.reset)
        state.changed.connect(self.refresh_fields)
        state.settled.connect(self.refresh)

    def refresh_fields(self) -> None:
        """The numbers follow a drag live (two spin boxes; the preset menu waits for `settled`)."""
        win = self.state.effective()
        with QSignalBlocker(self.center), QSignalBlocker(self.width), QSignalBlocker(self.invert), \
                QSignalBlocker(self.lock):
            if win is not None:
                self.center.setValue(win.center)
                self.width.setValue(win.width)
            self.invert.setChecked(self.state.invert)
            self.lock.setChecked(self.state.locked)

    def refresh(self) -> None:
        """Fields and the preset menu (the file's presets, CT presets, the user's window)."""
        self.refresh_fields()
        with QSignalBlocker(self.presets):
            self.presets.clear()
            for text, data in preset_entries(self.state.image, self.state.user):
                self.presets.addItem(text, data)
            user = self.state.user
            if user is not None:
                self.presets.setCurrentIndex(next(
                    (i for i in range(self.presets.count())
                     if isinstance(self.presets.itemData(i), Window) and _same(self.presets.itemData(i), user)),
                    0))

    def _fields_changed(self) -> None:
        self.state.set_window(Window(self.center.value(), self.width.value(), "Manual"))

    def _preset_chosen(self, index: int) -> None:
        data = self.presets.itemData(index)
        if data is None:
            self.state.set_window(None)
        else:
            self.state.set_window(data)


def _same(a: Window, b: Window) -> bool:
    return abs(a.center - b.center) < 1e-6 and abs(a.width - b.width) < 1e-6


def _is_ct(image) -> bool:
    meta = getattr(image, "meta", None) or {}
    return str(meta.get("Modality", "")).upper() == "CT"


def preset_entries(image, user: Window | None) -> list[tuple[str, object]]:
    """The preset menu: "Image default" (the file's first window, its VOI LUT or the full range),
    the file's other windows, the CT presets (CT
    images only: Hounsfield windows mean nothing on a radiograph or a PNG) and the user's window,
    each window once (a CT preset equal to a window of the file is not listed twice)."""
    seen: list[Window] = []
    default = None
    if image is not None:
        try:
            default = image.default_window(0)
        except Exception:  # noqa: BLE001 - a frame that cannot be read: the plain entry
            default = None
    if default is not None:
        seen.append(default)
        entries: list[tuple[str, object]] = [
            (f"Image default: {default.name or 'file'} ({default.center:g}/{default.width:g})", None)]
    elif image is not None and getattr(image, "voi_lut", None) is not None:
        entries = [("Image default: VOI LUT from the file", None)]
    else:
        entries = [("Image default", None)]

    def add(text: str, w: Window) -> None:
        if any(_same(w, other) for other in seen):
            return
        seen.append(w)
        entries.append((f"{text} ({w.center:g}/{w.width:g})", w))

    for w in getattr(image, "windows", []) or []:
        add(w.name or "From the file", w)
    if _is_ct(image):
        for w in CT_PRESETS:
            add(f"CT {w.name}", w)
    if user is not None:
        add(user.name if user.name and user.name not in ("Manual",) else "Manual", user)
    return entries
