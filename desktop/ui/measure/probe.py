"""The pixel probe: under the cursor, the modality value (HU for CT), the grey value on screen and
the pixel position, in the status bar. A mouse move only records where the cursor is; the reading
is made at most every PROBE_MS by a timer (desktop.core.measure.probe reads one pixel), so moving
the mouse never waits for it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QTimer
from PySide6.QtWidgets import QLabel

from desktop.core.measure import probe
from desktop.ui.guard import guarded

PROBE_MS = 40  # at most 25 readings a second
EMPTY_TEXT = "Point at the image to read its values"


class PixelProbe(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.canvas = window.canvas
        self.label = QLabel(EMPTY_TEXT, window)
        self.label.setObjectName("pixelProbe")
        self.label.setToolTip("Pixel probe: column x and row y of the pixel under the cursor, its value in the "
                              "modality's units (Hounsfield units for CT, after the file's rescale), and the "
                              "grey level it has on screen (0-255) with the current window")
        metrics = self.label.fontMetrics()
        self.label.setMinimumWidth(metrics.horizontalAdvance("x 0000  y 0000   -0000.0 HU   shown 000 "))
        window.statusBar().addPermanentWidget(self.label)
        self.readings = 0  # how many readings were made (the throttle's effect is measurable)
        self._pos: QPointF | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PROBE_MS)
        self._timer.timeout.connect(self.update_now)
        self.canvas.viewport().setMouseTracking(True)
        self.canvas.viewport().installEventFilter(self)
        if hasattr(window, "wl"):
            window.wl.changed.connect(self._schedule)  # the grey on screen changes with the window
        if hasattr(window, "view_area"):
            window.view_area.frame_changed.connect(lambda _f: self._schedule())
        window.current_image_changed.connect(lambda _p: self._schedule())

    @guarded("the pixel probe", False)
    def eventFilter(self, obj, event) -> bool:
        t = event.type()
        if t == QEvent.MouseMove:
            self._pos = event.position()
            self._schedule()
        elif t == QEvent.Leave:
            self._pos = None
            self._timer.stop()
            self.label.setText(EMPTY_TEXT)
        return False  # never takes the event: the canvas and the tools still get it

    def _schedule(self, *_args) -> None:
        if self._pos is not None and not self._timer.isActive():
            self._timer.start()

    def text_at(self, scene_x: float, scene_y: float) -> str:
        image = self.window.current_image()
        if image is None:
            return EMPTY_TEXT
        try:
            reading = probe(image, self.window.current_frame(), scene_x, scene_y, shown=self.canvas.shown_pixels())
        except (IndexError, ValueError):
            reading = None
        return reading.text() if reading is not None else "Outside the image"

    def update_now(self) -> None:
        if self._pos is None:
            return
        self.readings += 1
        p = self.canvas.mapToScene(self._pos.toPoint())
        self.label.setText(self.text_at(p.x(), p.y()))
