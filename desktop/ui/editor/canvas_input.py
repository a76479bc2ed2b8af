"""Mouse and keys on the canvas that belong to the editor: drawing a box after W/R, arrow-key
nudges of the selection, and Space (pressed and released without panning) to mark the image
reviewed and go on. Everything else passes through to the canvas (pan, zoom, window/level)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from desktop.ui.editor.geometry import MIN_SIZE
from desktop.ui.guard import guarded

_ARROWS = {Qt.Key_Left: (-1, 0), Qt.Key_Right: (1, 0), Qt.Key_Up: (0, -1), Qt.Key_Down: (0, 1)}


class CanvasInput(QObject):
    def __init__(self, editor):
        super().__init__(editor)
        self.editor = editor
        self.canvas = editor.canvas
        self._start: QPointF | None = None
        self._rubber: QGraphicsRectItem | None = None
        self._space_down = False
        self._space_used = False
        self._viewport = self.canvas.viewport()
        self.canvas.installEventFilter(self)
        self._viewport.installEventFilter(self)

    def start_drawing(self) -> None:
        if self.editor._ready():
            self.editor.drawing = True
            self.canvas.viewport().setCursor(Qt.CrossCursor)

    def stop_drawing(self) -> None:
        self.editor.drawing = False
        self._start = None
        if self._rubber is not None:
            self.canvas.scene().removeItem(self._rubber)
            self._rubber = None
        self.canvas.viewport().unsetCursor()

    def _clamped(self, pos) -> QPointF:
        p = self.canvas.mapToScene(pos.toPoint())
        w, h = self.editor.image_size()
        return QPointF(min(max(p.x(), 0.0), w), min(max(p.y(), 0.0), h))

    @guarded("the box editor's mouse and keys", False, cleanup=lambda self: self.stop_drawing())
    def eventFilter(self, obj, event) -> bool:
        try:
            return self._filter(obj, event)
        except RuntimeError:  # the window is being torn down
            return False

    def _filter(self, obj, event) -> bool:
        assist = getattr(self.editor, "assist_input", None)  # assist mode (editor/assist/input.py) first
        if assist is not None and assist.filter(obj, event):
            return True
        t = event.type()
        if obj is self._viewport:
            if t == QEvent.MouseButtonPress and self._space_down:
                self._space_used = True  # Space + drag pans: not a "reviewed" press
            if self.editor.drawing and not self._space_down:
                return self._draw_event(t, event)
            return False
        if obj is self.canvas:
            if t == QEvent.KeyPress and not event.isAutoRepeat() and event.key() == Qt.Key_Space:
                self._space_down, self._space_used = True, False
            elif t == QEvent.KeyRelease and not event.isAutoRepeat() and event.key() == Qt.Key_Space:
                self._space_down = False
                if not self._space_used:
                    self.editor.mark_reviewed_and_next()
            elif t == QEvent.KeyPress and event.key() in _ARROWS and self.editor.selected_items():
                dx, dy = _ARROWS[event.key()]
                step = 10.0 if event.modifiers() & Qt.ShiftModifier else 1.0
                self.editor.nudge(dx * step, dy * step)
                return True
            elif t == QEvent.KeyPress and event.key() == Qt.Key_Escape and self.editor.drawing:
                self.stop_drawing()
                return True
        return False

    def _draw_event(self, t, event) -> bool:
        if t == QEvent.MouseButtonPress and event.button() == Qt.LeftButton:
            self._start = self._clamped(event.position())
            self._rubber = QGraphicsRectItem(QRectF(self._start, self._start))
            pen = QPen(QColor(255, 255, 255), 1, Qt.DashLine)
            pen.setCosmetic(True)
            self._rubber.setPen(pen)
            self._rubber.setZValue(10)
            self.canvas.scene().addItem(self._rubber)
            return True
        if t == QEvent.MouseMove and self._start is not None:
            self._rubber.setRect(QRectF(self._start, self._clamped(event.position())).normalized())
            return True
        if t == QEvent.MouseButtonRelease and event.button() == Qt.LeftButton and self._start is not None:
            rect = QRectF(self._start, self._clamped(event.position())).normalized()
            self.stop_drawing()
            if rect.width() >= MIN_SIZE and rect.height() >= MIN_SIZE:
                self.editor.add_box((rect.x(), rect.y(), rect.width(), rect.height()))
            return True
        return bool(t in (QEvent.MouseButtonPress, QEvent.MouseButtonRelease, QEvent.MouseMove)
                    and event.buttons() & Qt.LeftButton)
