"""Measurements on the canvas: the ruler (with end ticks), the angle (with its arc), the ellipse and
box regions, each with a label that keeps its size on screen at any zoom."""

from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem

from desktop.ui.guard import guarded

COLOR = QColor("#ffd54a")
SELECTED = QColor("#4fc3f7")
LABEL_BG = QColor(0, 0, 0, 185)
TICK = 6.0  # screen pixels
ARC = 22.0  # screen pixels
HANDLE_REACH = 7.0  # screen pixels: how close a press must be to a handle to drag it


def view_scale(view) -> float:
    return max(view.transform().m11(), 1e-6) if view is not None else 1.0


class MeasureLabel(QGraphicsItem):
    """Lines of text on a dark box, the same size on screen at any zoom."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFlag(QGraphicsItem.ItemIgnoresTransformations)
        self.setZValue(1)
        self.lines: list[str] = []
        self.font = QFont()
        self._rect = QRectF()

    def set_text(self, text: str, gap: float = 10.0) -> None:
        """`gap`: screen pixels between the anchor and the label (past an angle's arc)."""
        self.prepareGeometryChange()
        self.lines = [line for line in text.split("\n") if line] if text else []
        fm = QFontMetricsF(self.font)
        w = max((fm.horizontalAdvance(line) for line in self.lines), default=0.0)
        h = fm.lineSpacing() * len(self.lines)
        self._rect = QRectF(gap, -h / 2 - 3, w + 10, h + 6) if self.lines else QRectF()
        self.update()

    def text(self) -> str:
        return "\n".join(self.lines)

    def boundingRect(self) -> QRectF:
        return self._rect

    @guarded("drawing a measurement's label")
    def paint(self, painter, _option, _widget=None) -> None:
        if not self.lines:
            return
        painter.setPen(Qt.NoPen)
        painter.setBrush(LABEL_BG)
        painter.drawRoundedRect(self._rect, 3, 3)
        painter.setFont(self.font)
        painter.setPen(QColor(255, 240, 200))
        fm = QFontMetricsF(self.font)
        y = self._rect.top() + 3 + fm.ascent()
        for line in self.lines:
            painter.drawText(QPointF(self._rect.left() + 5, y), line)
            y += fm.lineSpacing()


class MeasurementItem(QGraphicsItem):
    """One measurement: `kind` ("line", "angle", "ellipse", "box"), its points in image pixels, and
    the label text. `measurement_id` is None while it is being drawn (the preview)."""

    def __init__(self, kind: str, points, text: str = "", measurement_id: int | None = None, scale: float = 1.0):
        super().__init__()
        self._scale = max(float(scale), 1e-6)  # screen pixels per image pixel; set_view_scale tells changes
        self.kind = kind
        self.measurement_id = measurement_id
        self.points: list[QPointF] = [QPointF(float(x), float(y)) for x, y in points]
        self.setZValue(20)
        self.on_edit = None  # callback(item, points, final) -> label text; set by the controller
        self._drag: tuple | None = None  # (handle or "move", press point, points at the press)
        if measurement_id is not None:
            self.setFlag(QGraphicsItem.ItemIsSelectable)
            self.setAcceptedMouseButtons(Qt.LeftButton)
            self.setCursor(Qt.SizeAllCursor)
        else:
            self.setAcceptedMouseButtons(Qt.NoButton)
        self.label = MeasureLabel(self)
        self.set_text(text)

    # ----- content ---------------------------------------------------------------------------------
    def set_view_scale(self, scale: float) -> None:
        """The zoom changed: the handles and the pick area keep their size on screen. The scene is
        told first (its index holds the old bounding rectangle)."""
        scale = max(float(scale), 1e-6)
        if scale != self._scale:
            self.prepareGeometryChange()
            self._scale = scale

    def set_points(self, points) -> None:
        self.prepareGeometryChange()
        self.points = [QPointF(float(x), float(y)) for x, y in points]
        self._place_label()
        self.update()

    def set_text(self, text: str) -> None:
        self.label.set_text(text, ARC + 6 if self.kind == "angle" else 10.0)
        self._place_label()

    def _place_label(self) -> None:
        if not self.points:
            return
        if self.kind == "line":
            a, b = self.points[0], self.points[-1]
            anchor = b if b.x() >= a.x() else a  # beside the right-hand end
        elif self.kind == "angle":
            anchor = self.points[1] if len(self.points) > 1 else self.points[0]
        else:
            rect = self.rect()
            anchor = QPointF(rect.right(), rect.center().y())
        self.label.setPos(anchor)

    def rect(self) -> QRectF:
        if len(self.points) < 2:
            return QRectF(self.points[0], self.points[0]) if self.points else QRectF()
        return QRectF(self.points[0], self.points[1]).normalized()

    def point_list(self) -> list[list[float]]:
        return [[p.x(), p.y()] for p in self.points]

    # ----- handles: drag a point (a region's corner) or the whole measurement -------------------------
    def handles(self) -> list[tuple[int, int]]:
        """(index of the point giving x, index of the point giving y) of each handle: the points of a
        ruler or an angle, the four corners of a region's rectangle."""
        if self.kind in ("line", "angle"):
            return [(k, k) for k in range(len(self.points))]
        return [(0, 0), (1, 0), (0, 1), (1, 1)] if len(self.points) == 2 else []

    def handle_pos(self, handle: tuple[int, int]) -> QPointF:
        return QPointF(self.points[handle[0]].x(), self.points[handle[1]].y())

    def _handle_at(self, pos: QPointF):
        reach = HANDLE_REACH / self._scale
        best = None
        for h in self.handles():
            d = QLineF(pos, self.handle_pos(h)).length()
            if d <= reach and (best is None or d < best[0]):
                best = (d, h)
        return best[1] if best else None

    def dragged_points(self, pos: QPointF) -> list[list[float]]:
        """The points the drag in progress gives at scene point `pos`."""
        handle, start, before = self._drag
        pts = [[p.x(), p.y()] for p in before]
        if handle == "move":
            dx, dy = pos.x() - start.x(), pos.y() - start.y()
            return [[x + dx, y + dy] for x, y in pts]
        ix, iy = handle
        pts[ix][0] = pos.x()
        pts[iy][1] = pos.y()
        return pts

    @guarded("dragging a measurement")
    def mousePressEvent(self, event) -> None:
        try:
            if self.measurement_id is None or event.button() != Qt.LeftButton:
                event.ignore()
                return
            handle = self._handle_at(event.pos()) if self.isSelected() else None
            self._drag = (handle or "move", event.pos(), [QPointF(p) for p in self.points])
            super().mousePressEvent(event)  # selection
            event.accept()
        except Exception:  # noqa: BLE001 - never out of a Qt virtual (PySide)
            self._drag = None

    @guarded("dragging a measurement")
    def mouseMoveEvent(self, event) -> None:
        try:
            if self._drag is None:
                return
            pts = self.dragged_points(event.pos())
            self.set_points(pts)
            if self.on_edit is not None:
                self.set_text(self.on_edit(self, pts, False))
        except Exception:  # noqa: BLE001
            self._drag = None

    @guarded("dragging a measurement")
    def mouseReleaseEvent(self, event) -> None:
        try:
            drag, self._drag = self._drag, None
            if drag is None:
                return
            moved = [[p.x(), p.y()] for p in self.points] != [[p.x(), p.y()] for p in drag[2]]
            if moved and self.on_edit is not None:
                self.on_edit(self, [[p.x(), p.y()] for p in self.points], True)
        except Exception:  # noqa: BLE001
            pass

    # ----- geometry --------------------------------------------------------------------------------
    def _path(self) -> QPainterPath:
        path = QPainterPath()
        if not self.points:
            return path
        if self.kind in ("line", "angle"):
            path.moveTo(self.points[0])
            for p in self.points[1:]:
                path.lineTo(p)
        elif self.kind == "ellipse":
            path.addEllipse(self.rect())
        else:
            path.addRect(self.rect())
        return path

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10.0 / self._scale)  # 10 screen pixels wide to pick it
        path = stroker.createStroke(self._path())
        reach = HANDLE_REACH / self._scale
        for h in self.handles() if self.measurement_id is not None else []:
            path.addEllipse(self.handle_pos(h), reach, reach)
        return path

    def boundingRect(self) -> QRectF:
        pad = (ARC + TICK + 4) / self._scale
        return self._path().boundingRect().adjusted(-pad, -pad, pad, pad)

    @guarded("drawing a measurement")
    def paint(self, painter, _option, _widget=None) -> None:
        if not self.points:
            return
        color = SELECTED if self.isSelected() else COLOR
        pen = QPen(color, 2.5 if self.isSelected() else 1.6)
        pen.setCosmetic(True)
        if self.measurement_id is None:
            pen.setStyle(Qt.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.NoBrush)
        s = self._scale
        painter.drawPath(self._path())
        if self.kind == "line" and len(self.points) == 2:
            self._ticks(painter, self.points[0], self.points[1], TICK / s)
        elif self.kind == "angle" and len(self.points) == 3:
            self._arc(painter, ARC / s)
        dot = 2.5 / s
        painter.setBrush(color)
        for p in self.points if self.kind in ("line", "angle") else []:
            painter.drawEllipse(p, dot, dot)
        if self.isSelected():  # the handles that drag a point or a corner
            half = 3.5 / s
            painter.setBrush(QColor(0, 0, 0, 160))
            for h in self.handles():
                c = self.handle_pos(h)
                painter.drawRect(QRectF(c.x() - half, c.y() - half, 2 * half, 2 * half))

    @staticmethod
    def _ticks(painter, a: QPointF, b: QPointF, size: float) -> None:
        line = QLineF(a, b)
        if line.length() == 0:
            return
        normal = line.normalVector().unitVector()
        d = QPointF(normal.dx() * size, normal.dy() * size)
        for p in (a, b):
            painter.drawLine(p - d, p + d)

    def _arc(self, painter, radius: float) -> None:
        a, v, b = self.points
        # QPainter angles are counter-clockwise with y up; the scene's y points down
        start = math.degrees(math.atan2(-(a.y() - v.y()), a.x() - v.x()))
        end = math.degrees(math.atan2(-(b.y() - v.y()), b.x() - v.x()))
        span = (end - start + 540.0) % 360.0 - 180.0  # the smaller way round
        painter.setBrush(Qt.NoBrush)
        painter.drawArc(QRectF(v.x() - radius, v.y() - radius, 2 * radius, 2 * radius), int(start * 16), int(span * 16))
