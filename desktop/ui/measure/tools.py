"""The left button while a measuring tool is on: drag (or click point by point) to place a ruler
(2 points), an angle (3: arm, vertex, arm) or a region (2 corners). The tool stays on for the next
measurement until Esc, another tool, or the box editor's W. It takes the left button through the
window's ToolMode (desktop/ui/viewer/tool_mode.py); right-drag (window/level), middle-drag and
Space+drag (pan) and the wheel still reach the canvas."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt

from desktop.ui.guard import guarded
from desktop.ui.measure.items import MeasurementItem
from desktop.ui.viewer.tool_mode import tool_mode

NEEDED = {"line": 2, "angle": 3, "ellipse": 2, "box": 2}
HINTS = {
    "line": "Ruler: drag along what to measure (or click both ends). Esc ends",
    "angle": "Angle: click the end of one arm, the vertex, then the end of the other arm. Esc ends",
    "ellipse": "Ellipse region: drag across the region (mean, SD, min, max, area). Esc ends",
    "box": "Box region: drag across the region (mean, SD, min, max, area). Esc ends",
}
DRAG_PX = 4  # a press and release closer than this (screen pixels) is a click


class MeasureInput(QObject):
    def __init__(self, controller):
        super().__init__(controller)
        self.controller = controller
        self.window = controller.window
        self.canvas = controller.window.canvas
        self.kind: str | None = None
        self.points: list[QPointF] = []
        self.preview: MeasurementItem | None = None
        self._press_screen: QPointF | None = None
        self._last_fixed_screen: QPointF | None = None
        self.mode = tool_mode(self.window)
        self.mode.changed.connect(self._mode_changed)
        self.canvas.viewport().installEventFilter(self)
        self.canvas.installEventFilter(self)
        assist = getattr(controller.editor, "assist", None)  # the editor's segmentation assist mode (S)
        if assist is not None and hasattr(assist, "active_changed"):
            assist.active_changed.connect(lambda on: self.stop() if on else None)

    # ----- mode -------------------------------------------------------------------------------------
    def start(self, kind: str) -> None:
        if kind not in NEEDED:
            raise ValueError(kind)
        if not self.controller.ready():
            self.controller.tools_changed.emit()
            return
        editor_input = getattr(self.controller.editor, "input", None)
        if editor_input is not None and getattr(self.controller.editor, "drawing", False):
            editor_input.stop_drawing()
        self.cancel_drawing()
        assist = getattr(self.controller.editor, "assist", None)
        if assist is not None and getattr(assist, "active", False):
            assist.set_active(False)  # one tool at a time on the left button
        cine = getattr(self.window, "cine", None)
        if cine is not None:
            cine.pause()  # a measurement belongs to one frame: the film holds still while measuring
        self.kind = kind
        self.mode.set(f"measure:{kind}")
        self.canvas.viewport().setCursor(Qt.CrossCursor)
        self.window.statusBar().showMessage(HINTS[kind])  # a hint for as long as the tool is on
        self.controller.tools_changed.emit()

    def stop(self) -> None:
        self.cancel_drawing()
        was = self.kind
        self.kind = None
        if was is not None:
            self.mode.release(f"measure:{was}")
            self.canvas.viewport().unsetCursor()
            if self.window.statusBar().currentMessage() == HINTS[was]:
                self.window.statusBar().clearMessage()
        self.controller.tools_changed.emit()

    def _mode_changed(self, name: str) -> None:
        if self.kind is not None and name != f"measure:{self.kind}":
            self.stop()

    def cancel_drawing(self) -> None:
        self.points = []
        self._press_screen = None
        self._last_fixed_screen = None
        if self.preview is not None:
            if self.preview.scene() is not None:
                self.preview.scene().removeItem(self.preview)
            self.preview = None

    # ----- events -----------------------------------------------------------------------------------
    @guarded("the measuring tool", False, cleanup=lambda self: self.cancel_drawing())
    def eventFilter(self, obj, event) -> bool:
        try:
            return self._filter(obj, event)
        except RuntimeError:  # the window is being torn down
            return False

    def _filter(self, obj, event) -> bool:
        if self.kind is None:
            return False
        t = event.type()
        if obj is self.canvas:
            if t == QEvent.KeyPress and event.key() == Qt.Key_Escape:
                if self.points:
                    self.cancel_drawing()
                else:
                    self.stop()
                return True
            return False
        if t not in (QEvent.MouseButtonPress, QEvent.MouseMove, QEvent.MouseButtonRelease, QEvent.MouseButtonDblClick):
            return False
        if getattr(self.controller.editor, "drawing", False):  # W took over: the box editor draws
            self.stop()
            return False
        if getattr(self.canvas, "_space", False):  # Space+drag pans
            return False
        if t in (QEvent.MouseButtonPress, QEvent.MouseButtonDblClick) and event.button() != Qt.LeftButton:
            return False
        if t == QEvent.MouseButtonRelease and event.button() != Qt.LeftButton:
            return False
        pos = event.position()
        p = self._clamped(pos)
        if t in (QEvent.MouseButtonPress, QEvent.MouseButtonDblClick):
            if not self.points:
                self.points = [p, QPointF(p)]  # the first point, and the end that follows the mouse
                self._press_screen = self._last_fixed_screen = pos
                self._update_preview()
            elif self._last_fixed_screen is not None and (pos - self._last_fixed_screen).manhattanLength() < DRAG_PX:
                self._press_screen = pos  # a second click on the same spot (a double-click) places nothing
            else:
                self._press_screen = self._last_fixed_screen = pos
                self._fix(p)  # may finish the measurement (and end this drawing)
            return True
        if t == QEvent.MouseMove:
            if self.points:
                self.points[-1] = p
                self._update_preview()
            return bool(self.points) or bool(event.buttons() & Qt.LeftButton)
        # release: the end of a drag places the point there; a click's release places nothing
        if self.points and self._press_screen is not None and (
                pos - self._press_screen).manhattanLength() >= DRAG_PX:
            self._last_fixed_screen = pos
            self._fix(p)
        self._press_screen = None
        return True

    def _fix(self, p: QPointF) -> None:
        """Place the moving end at `p`; finish when every point is placed, else a new end follows."""
        self.points[-1] = p
        if len(self.points) >= NEEDED[self.kind]:
            self._finish()
        else:
            self.points.append(QPointF(p))
            self._update_preview()

    def _clamped(self, pos) -> QPointF:
        p = self.canvas.mapToScene(pos.toPoint())
        image = self.window.current_image()
        w, h = image.size if image is not None else (0, 0)
        return QPointF(min(max(p.x(), 0.0), float(w)), min(max(p.y(), 0.0), float(h)))

    def _update_preview(self) -> None:
        if not self.points:
            return
        pts = [[p.x(), p.y()] for p in self.points]
        if self.preview is None:
            self.preview = MeasurementItem(self.kind, pts, scale=self.canvas.scale_factor())
            self.canvas.scene().addItem(self.preview)
        else:
            self.preview.set_points(pts)
        self.preview.set_text(self.controller.preview_text(self.kind, pts))

    def _finish(self) -> None:
        pts = [[p.x(), p.y()] for p in self.points]
        kind = self.kind
        self.cancel_drawing()
        self.controller.add(kind, pts)
