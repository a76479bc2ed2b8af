"""One box on the canvas: cheap to paint (a cosmetic outline, no shadow, no brush), text and
handles only where they can be read (level of detail), dashed with its score while it is an
unreviewed prediction. Mouse drags move or resize it; the controller commits on release."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from desktop.ui.editor.geometry import handle_at, handle_points, move_rect, resize_rect

HANDLE_PX = 7.0  # handle size on screen
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


class BoxItem(QGraphicsItem):
    def __init__(self, box, color: str, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.box = box
        self.box_id = box.id
        self._rect = QRectF(box.x, box.y, box.w, box.h)
        self._hover = False
        self._drag = None  # (mode, handle, press scene pos, rects of the items being dragged)
        self.setFlag(QGraphicsItem.ItemIsSelectable, True)
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.NoCache)  # an outline is cheaper to paint than a cache to keep
        self.set_box(box, color)

    # -- state ---------------------------------------------------------------------------------
    def set_box(self, box, color: str | None = None) -> None:
        self.box = box
        if color is not None:
            self._color = QColor(color)
        pen = QPen(self._color, 2)
        pen.setCosmetic(True)
        if box.is_prediction:
            pen.setStyle(Qt.DashLine)
        self._pen = pen
        self.setZValue(1 if box.is_prediction else 2)
        self.set_rect(QRectF(box.x, box.y, box.w, box.h))
        score = "" if box.score is None else f" {box.score:.2f}"
        state = "" if box.source == "person" else f"\n{box.model}: {box.state}"
        self.setToolTip(f"{box.category}{score}{state}{' (locked)' if box.locked else ''}")

    def rect_tuple(self) -> tuple[float, float, float, float]:
        r = self._rect
        return (r.x(), r.y(), r.width(), r.height())

    def set_rect(self, rect: QRectF) -> None:
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = QRectF(rect)
            self.update()

    @property
    def locked(self) -> bool:
        return self.box.locked

    # -- painting --------------------------------------------------------------------------------
    def _margin(self) -> float:
        return HANDLE_PX / max(self.controller.view_scale(), 1e-6)

    def boundingRect(self) -> QRectF:
        m, px = self._margin(), 1.0 / max(self.controller.view_scale(), 1e-6)
        return self._rect.adjusted(-m, -m - 16 * px, max(m, 180 * px), m)  # room for the label

    def shape(self):
        from PySide6.QtGui import QPainterPath

        path = QPainterPath()
        m = self._margin() if self.isSelected() else 0.0
        path.addRect(self._rect.adjusted(-m, -m, m, m))
        return path

    def paint(self, painter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setPen(self._pen)
        painter.setBrush(Qt.NoBrush)
        painter.drawRect(self._rect)
        selected = self.isSelected()
        show_text = self._hover or selected or (self.box.is_prediction and self._rect.height() * lod > 40)
        if show_text and lod > 0:
            self._paint_text(painter)
        if selected and not self.box.locked:
            s = HANDLE_PX / lod
            painter.setPen(Qt.NoPen)
            painter.setBrush(QBrush(self._color))
            for hx, hy in handle_points(self.rect_tuple()).values():
                painter.drawRect(QRectF(hx - s / 2, hy - s / 2, s, s))

    def _paint_text(self, painter) -> None:
        text = self.box.category
        if self.box.score is not None and self.box.source == "model":
            text += f" {self.box.score:.2f}"
        if self.box.locked:
            text += " 🔒"
        painter.save()
        origin = painter.worldTransform().map(self._rect.topLeft())
        painter.resetTransform()
        painter.setFont(_FONT)
        painter.setPen(QColor(255, 255, 255))
        width = painter.fontMetrics().horizontalAdvance(text) + 6
        painter.fillRect(QRectF(origin.x(), origin.y() - 15, width, 15), self._color.darker(160))
        painter.drawText(QPointF(origin.x() + 3, origin.y() - 4), text)
        painter.restore()

    # -- hover -----------------------------------------------------------------------------------
    def hoverEnterEvent(self, event):
        self._hover = True
        self.update()

    def hoverMoveEvent(self, event):
        handle = self._handle_at(event.scenePos()) if self.isSelected() and not self.locked else None
        self.setCursor(_CURSORS[handle] if handle else (Qt.SizeAllCursor if self.isSelected() else Qt.ArrowCursor))

    def hoverLeaveEvent(self, event):
        self._hover = False
        self.unsetCursor()
        self.update()

    # -- dragging --------------------------------------------------------------------------------
    def _handle_at(self, pos):
        return handle_at(self.rect_tuple(), pos.x(), pos.y(), HANDLE_PX / max(self.controller.view_scale(), 1e-6))

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

    def mouseReleaseEvent(self, event):
        drag, self._drag = self._drag, None
        super().mouseReleaseEvent(event)
        if drag is None:
            return
        changes = [(item, before, item.rect_tuple()) for item, before in drag[3].items()
                   if item.rect_tuple() != before]
        if changes:
            self.controller.commit_geometry(changes, "Resize box" if drag[0] == "resize" else "Move box")
