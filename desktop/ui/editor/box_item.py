"""Boxes on the canvas, built for thousands per image.

`BoxItem` is a QGraphicsRectItem whose painting and bounding rect stay in C++ (no Python call per
box per frame): a cosmetic outline, no brush, no shadow, dashed while it is an unreviewed
prediction. The few things that need text or handles (the hovered and selected boxes, and the
scores of predictions once they are big enough on screen to read) are painted by one
`LabelOverlay` item. Mouse drags on a box move or resize it; the controller commits on release.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem

from desktop.ui.editor.geometry import handle_at, handle_points, move_rect, resize_rect
from desktop.ui.guard import guarded

HANDLE_PX = 7.0  # handle size on screen
SCORE_MIN_PX = 36.0  # a prediction's score is written once the box is this tall on screen
_FONT = QFont()
_FONT.setPixelSize(11)
_CURSORS = {"nw": Qt.SizeFDiagCursor, "se": Qt.SizeFDiagCursor, "ne": Qt.SizeBDiagCursor,
            "sw": Qt.SizeBDiagCursor, "n": Qt.SizeVerCursor, "s": Qt.SizeVerCursor,
            "e": Qt.SizeHorCursor, "w": Qt.SizeHorCursor}


class BoxLayer(QGraphicsItem):
    """Parent of every box of the image: hiding it hides all; dropping it drops all at once."""

    def __init__(self):
        super().__init__()
        self.setFlag(QGraphicsItem.ItemHasNoContents, True)

    def boundingRect(self) -> QRectF:
        return QRectF()

    def paint(self, painter, option, widget=None) -> None:  # pragma: no cover - no contents
        pass


class BoxItem(QGraphicsRectItem):
    def __init__(self, box, color: str, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.box_id = box.id
        self._drag = None  # (mode, handle, press scene pos, {item: rect before})
        self.setFlag(QGraphicsItem.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        self.set_box(box, color)

    # -- state ---------------------------------------------------------------------------------
    def set_box(self, box, color: str | None = None) -> None:
        self.box = box
        if color is not None:
            self.color = QColor(color)
        pen = QPen(self.color, 2)
        pen.setCosmetic(True)
        if box.is_prediction:
            pen.setStyle(Qt.DashLine)
        self.setPen(pen)
        self.setZValue(1 if box.is_prediction else 2)
        self.set_rect(QRectF(box.x, box.y, box.w, box.h))

    def label(self) -> str:
        text = self.box.category
        if self.box.score is not None and self.box.source == "model":
            text += f" {self.box.score:.2f}"
        return text + (" [locked]" if self.box.locked else "")

    def rect_tuple(self) -> tuple[float, float, float, float]:
        r = self.rect()
        return (r.x(), r.y(), r.width(), r.height())

    def set_rect(self, rect: QRectF) -> None:
        if rect != self.rect():
            self.setRect(rect)
            self.controller.overlay_changed()

    @property
    def locked(self) -> bool:
        return self.box.locked

    # -- hover -----------------------------------------------------------------------------------
    @guarded("moving the mouse over a box")
    def hoverEnterEvent(self, event):
        self.controller.set_hovered(self)

    @guarded("moving the mouse over a box")
    def hoverMoveEvent(self, event):
        handle = self._handle_at(event.scenePos()) if self.isSelected() and not self.locked else None
        self.setCursor(_CURSORS[handle] if handle else (Qt.SizeAllCursor if self.isSelected() else Qt.ArrowCursor))

    @guarded("moving the mouse over a box")
    def hoverLeaveEvent(self, event):
        self.controller.set_hovered(None)
        self.unsetCursor()

    @guarded("selecting a box", fallback=lambda self, change, value: value)
    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemSelectedHasChanged:
            self.controller.overlay_changed()
        return super().itemChange(change, value)

    # -- dragging --------------------------------------------------------------------------------
    def _handle_at(self, pos):
        return handle_at(self.rect_tuple(), pos.x(), pos.y(), HANDLE_PX / self.controller.view_scale())

    @guarded("dragging a box")
    def mousePressEvent(self, event):
        if event.button() != Qt.LeftButton or self.controller.drawing:
            event.ignore()
            return
        handle = self._handle_at(event.scenePos()) if self.isSelected() and not self.locked else None
        super().mousePressEvent(event)  # selection (Ctrl toggles)
        if handle:
            self.scene().clearSelection()
            self.setSelected(True)
            self._drag = ("resize", handle, event.scenePos(), {self: self.rect_tuple()})
        else:
            items = [i for i in self.controller.selected_items() if not i.locked] if self.isSelected() else []
            self._drag = ("move", None, event.scenePos(), {i: i.rect_tuple() for i in items})
        event.accept()

    @guarded("dragging a box")
    def mouseMoveEvent(self, event):
        if self._drag is None:
            return
        mode, handle, start, rects = self._drag
        d = event.scenePos() - start
        width, height = self.controller.image_size()
        for item, rect in rects.items():
            if mode == "resize":
                new = resize_rect(rect, handle, d.x(), d.y(), width, height)
            else:
                new = move_rect(rect, d.x(), d.y(), width, height)
            item.set_rect(QRectF(*new))

    @guarded("dragging a box")
    def mouseReleaseEvent(self, event):
        drag, self._drag = self._drag, None
        super().mouseReleaseEvent(event)
        if drag is None:
            return
        changes = [(item, before, item.rect_tuple()) for item, before in drag[3].items()
                   if item.rect_tuple() != before]
        if changes:
            self.controller.commit_geometry(changes, "Resize box" if drag[0] == "resize" else "Move box")


class LabelOverlay(QGraphicsItem):
    """Labels, scores and resize handles, painted in screen pixels for the few boxes that need them."""

    def __init__(self, controller):
        super().__init__()
        self.controller = controller
        self._bounds = QRectF()
        self.summary = False  # level of detail: paint every outline here, in a few batched calls
        self._batches: list | None = None
        self.setZValue(50)
        self.setAcceptedMouseButtons(Qt.NoButton)
        self.setAcceptHoverEvents(False)

    def set_bounds(self, width: float, height: float) -> None:
        self.prepareGeometryChange()
        self._bounds = QRectF(-200, -200, width + 400, height + 400)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def invalidate(self) -> None:
        self._batches = None
        self.update()

    def _paint_summary(self, painter) -> None:
        if self._batches is None:
            groups: dict = {}
            for item in self.controller.items.values():
                if item.isVisible():
                    key = (item.color.rgba(), item.box.is_prediction)
                    groups.setdefault(key, []).append(item.rect())
            self._batches = []
            for (rgba, dashed), rects in groups.items():
                pen = QPen(QColor.fromRgba(rgba), 1.5)
                pen.setCosmetic(True)
                pen.setStyle(Qt.DashLine if dashed else Qt.SolidLine)
                self._batches.append((pen, rects))
        painter.setBrush(Qt.NoBrush)
        for pen, rects in self._batches:
            painter.setPen(pen)
            painter.drawRects(rects)

    @guarded("drawing the box labels")
    def paint(self, painter, option, widget=None) -> None:
        if self.summary:
            self._paint_summary(painter)
        scale = self.controller.view_scale()
        exposed = option.exposedRect.intersected(self.controller.visible_scene_rect())
        items = self.controller.items.values()
        shown = [i for i in self.controller.selected_items() if i.isVisible()]
        hovered = self.controller.hovered
        if hovered is not None and hovered.isVisible() and hovered not in shown:
            shown.append(hovered)
        texts = list(shown)
        if self.controller.visible and getattr(self.controller, "all_labels", False):
            texts += [i for i in items if i.isVisible() and i not in shown and i.rect().intersects(exposed)]
        elif self.controller.visible and not self.summary:
            texts += [i for i in items if i.box.is_prediction and i.isVisible() and i not in shown
                      and i.rect().height() * scale >= SCORE_MIN_PX and i.rect().intersects(exposed)]
        if not texts:
            return
        world = painter.worldTransform()
        painter.save()
        painter.resetTransform()
        painter.setFont(_FONT)
        metrics = painter.fontMetrics()
        for item in texts:
            origin = world.map(item.rect().topLeft())
            text = item.label()
            width = metrics.horizontalAdvance(text) + 6
            painter.fillRect(QRectF(origin.x(), origin.y() - 15, width, 15), item.color.darker(170))
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(QPointF(origin.x() + 3, origin.y() - 4), text)
        for item in shown:
            if item.isSelected() and not item.locked:
                painter.setPen(Qt.NoPen)
                painter.setBrush(QBrush(item.color))
                for hx, hy in handle_points(item.rect_tuple()).values():
                    p = world.map(QPointF(hx, hy))
                    painter.drawRect(QRectF(p.x() - HANDLE_PX / 2, p.y() - HANDLE_PX / 2, HANDLE_PX, HANDLE_PX))
        painter.restore()
