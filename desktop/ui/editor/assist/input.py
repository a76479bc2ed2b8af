"""Mouse and keys of assist mode, called first by the editor's canvas hook (canvas_input.py):

- click: a point to include; Shift+click: a point to exclude (each adds to the prompt);
- drag: a box prompt (with the points, if any);
- Enter keeps the mask's box as a box with the current label; Esc drops the prompt.
Space+drag still pans, W/R drawing still draws; without assist mode nothing here takes an event.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt

DRAG_PIXELS = 4  # screen pixels a press may move and still be a click

_KEEP = (Qt.Key_Return, Qt.Key_Enter)


class AssistInput:
    def __init__(self, assist, canvas_input):
        self.assist = assist
        self.canvas_input = canvas_input
        self.canvas = canvas_input.canvas
        self._press: QPointF | None = None  # viewport position of the press
        self._start: QPointF | None = None  # scene position of the press
        self._dragging = False

    def _scene(self, pos) -> QPointF:
        p = self.canvas.mapToScene(pos.toPoint())
        w, h = self.assist.editor.image_size()
        return QPointF(min(max(p.x(), 0.0), w), min(max(p.y(), 0.0), h))

    def filter(self, obj, event) -> bool:
        """True when assist mode took the event."""
        assist = self.assist
        if not assist.active or assist.editor.drawing:
            return False
        t = event.type()
        if obj is self.canvas_input._viewport:
            if getattr(self.canvas, "_space", False) or self.canvas_input._space_down:
                return False  # Space + drag pans
            return self._mouse(t, event)
        if obj is self.canvas:
            return self._key(t, event)
        return False

    def _mouse(self, t, event) -> bool:
        if t == QEvent.MouseButtonPress and event.button() == Qt.LeftButton:
            self._press, self._start, self._dragging = event.position(), self._scene(event.position()), False
            self.canvas.setFocus(Qt.MouseFocusReason)  # Enter / Esc then reach the canvas
            return True
        if t == QEvent.MouseMove and self._press is not None:
            if not self._dragging and (event.position() - self._press).manhattanLength() > DRAG_PIXELS:
                self._dragging = True
            if self._dragging:
                self.assist.preview.show_rubber(QRectF(self._start, self._scene(event.position())).normalized())
            return True
        if t == QEvent.MouseButtonRelease and event.button() == Qt.LeftButton and self._press is not None:
            end = self._scene(event.position())
            start, dragging = self._start, self._dragging
            self._press = self._start = None
            self._dragging = False
            self.assist.preview.show_rubber(None)
            if dragging:
                r = QRectF(start, end).normalized()
                if r.width() >= 2 and r.height() >= 2:
                    self.assist.set_box_prompt(r.left(), r.top(), r.right(), r.bottom())
            else:
                self.assist.add_point(end.x(), end.y(), positive=not (event.modifiers() & Qt.ShiftModifier))
            return True
        if t == QEvent.MouseButtonDblClick and event.button() == Qt.LeftButton:
            return True  # two quick clicks are two points, not a box's label editor
        return False

    def _key(self, t, event) -> bool:
        key = event.key() if t in (QEvent.ShortcutOverride, QEvent.KeyPress) else None
        if key is None or not self.assist.has_prompt():
            return False
        if key in _KEEP or key == Qt.Key_Escape:
            if t == QEvent.ShortcutOverride:
                event.accept()  # Enter is "Accept All Predictions" elsewhere: here it keeps the mask's box
                return True
            if key == Qt.Key_Escape:
                self.assist.drop()
            else:
                self.assist.keep()
            return True
        return False
