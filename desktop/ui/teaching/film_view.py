"""A film on its own canvas, for the quiz and the presentation: the viewer's ImageCanvas (zoom,
pan, right-drag window/level through a WindowLevelState of its own) with two layers of boxes that
are never the folder's box items: the expert's boxes (drawn from the store, read only) and the
learner's marks (kept by the quiz, saved in the quiz tables). The box editor's items and its
controller are not involved at all, so nothing drawn here can become a folder box (decision 0143).
"""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QVBoxLayout, QWidget

from desktop.ui.guard import guarded
from desktop.ui.viewer.canvas import ImageCanvas
from desktop.ui.viewer.window_level import WindowLevelState, window_key

MIN_MARK = 3.0  # px: a click is not a mark
HIT, MISS, FALSE, EXPERT, LEARNER = "#33c27f", "#ff9f1c", "#ff4d6d", "#33c27f", "#4cc9f0"


class Tag(QGraphicsItem):
    """A label drawn at a constant size on screen above its box's top-left corner."""

    def __init__(self, text: str, color: str, parent, pixel_size: int = 12):
        super().__init__(parent)
        self.setFlag(QGraphicsItem.ItemIgnoresTransformations, True)
        self.text, self.color = text, QColor(color)
        self.font = QFont()
        self.font.setPixelSize(pixel_size)
        self.font.setBold(True)
        m = QFontMetricsF(self.font)
        self._rect = QRectF(0, -m.height() - 4, m.horizontalAdvance(text) + 8, m.height() + 4)

    def boundingRect(self) -> QRectF:
        return self._rect

    @guarded("drawing a label on the film")
    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.fillRect(self._rect, QColor(0, 0, 0, 190))
        painter.setFont(self.font)
        painter.setPen(self.color)
        painter.drawText(self._rect.adjusted(4, 0, -4, 0), Qt.AlignVCenter | Qt.AlignLeft, self.text)


class Outline(QGraphicsRectItem):
    def __init__(self, rect: QRectF, color: str, dashed: bool = False, width: float = 2.0, parent=None):
        super().__init__(rect, parent)
        pen = QPen(QColor(color), width)
        pen.setCosmetic(True)
        if dashed:
            pen.setStyle(Qt.DashLine)
        self.setPen(pen)
        self.setBrush(QBrush(Qt.NoBrush))
        self.tag: Tag | None = None

    def set_tag(self, text: str | None, color: str, pixel_size: int = 12) -> None:
        if self.tag is not None:
            self.scene().removeItem(self.tag) if self.scene() else None
            self.tag = None
        if text:
            self.tag = Tag(text, color, self, pixel_size)
            self.tag.setPos(self.rect().topLeft())


class Layer(QGraphicsItem):
    def __init__(self, z: float):
        super().__init__()
        self.setFlag(QGraphicsItem.ItemHasNoContents, True)
        self.setZValue(z)

    def boundingRect(self) -> QRectF:
        return QRectF()

    def paint(self, painter, option, widget=None) -> None:  # pragma: no cover - no contents
        pass

    def clear(self) -> None:
        for child in self.childItems():
            child.setParentItem(None)
            if child.scene() is not None:
                child.scene().removeItem(child)


class MarkItem(Outline):
    """A learner's mark: selectable and movable; `mark_label` is its label. `image_size()` gives
    the film's (width, height): a move stops at its edges as a box editor box does (move_rect)."""

    def __init__(self, rect: QRectF, label: str, parent, image_size=None):
        super().__init__(rect, LEARNER, dashed=False, width=2.0, parent=parent)
        self.mark_label = label
        self.image_size = image_size
        self.setFlag(QGraphicsItem.ItemIsSelectable, True)
        self.setFlag(QGraphicsItem.ItemIsMovable, True)
        self.setFlag(QGraphicsItem.ItemSendsGeometryChanges, True)  # ItemPositionChange: kept in the image
        self.set_tag(label, LEARNER)

    def scene_rect(self) -> tuple[float, float, float, float]:
        r = self.mapRectToScene(self.rect())
        return r.x(), r.y(), r.width(), r.height()

    def set_scene_rect(self, rect) -> None:
        """Put the mark at `rect` (x, y, w, h in image pixels), however it was moved before."""
        self.setPos(0, 0)
        self.setRect(QRectF(*rect))
        if self.tag is not None:
            self.tag.setPos(self.rect().topLeft())

    @guarded("selecting or moving a mark", fallback=lambda self, change, value: value)
    def itemChange(self, change, value):
        if change == QGraphicsItem.ItemPositionChange and self.image_size is not None:
            return self._inside(value)
        if change == QGraphicsItem.ItemSelectedHasChanged:
            pen = self.pen()
            pen.setWidthF(3.5 if value else 2.0)
            self.setPen(pen)
        return super().itemChange(change, value)

    def _inside(self, pos: QPointF) -> QPointF:
        """The position nearest `pos` that keeps the mark inside the film (its layer sits at the
        scene's origin, so positions are image pixels)."""
        from desktop.ui.editor.geometry import move_rect

        width, height = self.image_size()
        if width <= 0 or height <= 0:
            return pos
        r = self.rect()
        x, y, _w, _h = move_rect((r.x() + pos.x(), r.y() + pos.y(), r.width(), r.height()), 0.0, 0.0, width, height)
        return QPointF(x - r.x(), y - r.y())


class FilmView(QWidget):
    """One image at a time; `load(path)` shows it. The owner decides what the layers hold."""

    marks_changed = Signal()

    def __init__(self, parent=None, background: str = "#181818", educator_window=None):
        super().__init__(parent)
        self.canvas = ImageCanvas(self)
        self.canvas.setBackgroundBrush(QColor(background))
        self.wl = WindowLevelState(self)
        self.wl.changed.connect(self._render)
        self.canvas.window_drag.connect(self.wl.drag)
        self.canvas.window_drag_finished.connect(self.wl.end_drag)
        self.educator_window = educator_window  # callable(image, path) -> Window or None
        self.image = None
        self.path: str | None = None
        self.expert = Layer(10)
        self.marks = Layer(20)
        self.canvas.scene().addItem(self.expert)
        self.canvas.scene().addItem(self.marks)
        self._drawing = False
        self.current_label = ""
        self._draw = _MarkDrawing(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.canvas)

    @property
    def drawing_enabled(self) -> bool:
        """Whether left-drags draw learner's marks (the quiz, before the answer is submitted)."""
        return self._drawing

    @drawing_enabled.setter
    def drawing_enabled(self, on: bool) -> None:
        self._drawing = bool(on)
        if on:
            self.canvas.viewport().setCursor(Qt.CrossCursor)
        else:
            self.canvas.viewport().unsetCursor()

    # -- the image -----------------------------------------------------------------------------
    def load(self, path: str | None, cache=None) -> bool:
        from desktop.core.imaging import ImageReadError, read_image

        self.path, self.image = path, None
        self.expert.clear()
        self.marks.clear()
        if not path:
            self.canvas.show_message("")
            return False
        image = cache.get(path) if cache is not None else None
        try:
            if image is None:
                image = read_image(path)
        except ImageReadError as exc:
            self.canvas.show_message(f"{os.path.basename(path)} cannot be shown:\n{exc.reason}")
            return False
        self.image = image
        self.wl.set_image(image, path)
        self.wl.user = self.educator_window(image, path) if self.educator_window else None
        self._render(new_image=True)
        return True

    def _render(self, new_image: bool = False) -> None:
        if self.image is None:
            return
        try:
            pixels = self.image.render(self.wl.effective(), 0, self.wl.invert_flag())
        except Exception as exc:  # a renderer failure on odd data: explained, not raised
            self.canvas.show_message(f"{os.path.basename(self.path or '')} cannot be displayed ({exc})")
            return
        self.canvas.set_pixels(pixels, new_image=new_image)
        if new_image:
            self.canvas.fit()

    def image_size(self) -> tuple[int, int]:
        if self.image is None:
            return 0, 0
        h, w = self.image.pixels.shape[:2]
        return int(w), int(h)

    # -- expert boxes ----------------------------------------------------------------------------
    def add_outline(self, rect, color: str, label: str | None = None, dashed: bool = False,
                    layer: Layer | None = None, width: float = 2.0, pixel_size: int = 12) -> Outline:
        item = Outline(QRectF(*rect), color, dashed, width, layer or self.expert)
        if label:
            item.set_tag(label, color, pixel_size)
        return item

    # -- learner marks ---------------------------------------------------------------------------
    def add_mark(self, rect, label: str) -> MarkItem:
        """A learner's mark at `rect` (x, y, w, h in image pixels), cut to the film as the box
        editor cuts a box (clamp_rect): a mark kept from elsewhere never lies past an edge."""
        from desktop.ui.editor.geometry import clamp_rect

        width, height = self.image_size()
        if width > 0 and height > 0:
            rect = clamp_rect(*rect, width, height, min_size=MIN_MARK)
        item = MarkItem(QRectF(*rect), label, self.marks, self.image_size)
        self.marks_changed.emit()
        return item

    def mark_items(self) -> list[MarkItem]:
        return [i for i in self.marks.childItems() if isinstance(i, MarkItem)]

    def delete_selected_marks(self) -> int:
        gone = [i for i in self.mark_items() if i.isSelected()]
        for item in gone:
            item.setParentItem(None)
            self.canvas.scene().removeItem(item)
        if gone:
            self.marks_changed.emit()
        return len(gone)

    def remove_last_mark(self) -> None:
        items = self.mark_items()
        if items:
            items[-1].setParentItem(None)
            self.canvas.scene().removeItem(items[-1])
            self.marks_changed.emit()

    def freeze_marks(self) -> None:
        for item in self.mark_items():
            item.setFlag(QGraphicsItem.ItemIsMovable, False)
            item.setFlag(QGraphicsItem.ItemIsSelectable, False)


_CURSORS = {"nw": Qt.SizeFDiagCursor, "se": Qt.SizeFDiagCursor, "ne": Qt.SizeBDiagCursor,
            "sw": Qt.SizeBDiagCursor, "n": Qt.SizeVerCursor, "s": Qt.SizeVerCursor,
            "e": Qt.SizeHorCursor, "w": Qt.SizeHorCursor}
HANDLE_PX = 7.0  # how near (on screen) an edge or corner of a mark grabs it for resizing


class _MarkDrawing(QObject):
    """Left-drag on the film draws a learner's mark with the current label; on a mark's edge or
    corner it resizes that mark (the box editor's geometry: never flipped, kept in the image); on
    a mark it selects and moves it."""

    def __init__(self, view: FilmView):
        super().__init__(view)
        self.view = view
        self._start: QPointF | None = None
        self._rubber: QGraphicsRectItem | None = None
        self._resize: tuple[MarkItem, str, QPointF, tuple] | None = None
        view.canvas.viewport().installEventFilter(self)
        view.canvas.viewport().setMouseTracking(True)

    def cancel(self) -> None:
        """Drop a drawing or resize in progress (after an error: no rubber band is left behind)."""
        if self._rubber is not None and self._rubber.scene() is not None:
            self._rubber.scene().removeItem(self._rubber)
        self._start = self._rubber = self._resize = None

    def _clamped(self, pos) -> QPointF:
        p = self.view.canvas.mapToScene(pos.toPoint())
        w, h = self.view.image_size()
        return QPointF(min(max(p.x(), 0.0), w), min(max(p.y(), 0.0), h))

    def _handle_under(self, pos) -> tuple[MarkItem, str] | None:
        from desktop.ui.editor.geometry import handle_at

        p = self.view.canvas.mapToScene(pos.toPoint())
        tolerance = HANDLE_PX / max(self.view.canvas.transform().m11(), 1e-6)
        for item in reversed(self.view.mark_items()):
            if item.flags() & QGraphicsItem.ItemIsMovable:
                handle = handle_at(item.scene_rect(), p.x(), p.y(), tolerance)
                if handle is not None:
                    return item, handle
        return None

    @guarded("drawing marks on the film", False, cleanup=lambda self: self.cancel())
    def eventFilter(self, obj, event) -> bool:
        v = self.view
        if not v.drawing_enabled or v.image is None:
            return False
        t = event.type()
        if t == QEvent.MouseButtonPress and event.button() == Qt.LeftButton and not v.canvas._space:
            grabbed = self._handle_under(event.position())
            if grabbed is not None:
                item, handle = grabbed
                v.canvas.scene().clearSelection()
                item.setSelected(True)
                self._resize = (item, handle, self._clamped(event.position()), item.scene_rect())
                return True
            item = v.canvas.itemAt(event.position().toPoint())
            while item is not None and not isinstance(item, MarkItem):
                item = item.parentItem()
            if item is not None:
                return False  # select / move the mark
            v.canvas.scene().clearSelection()
            self._start = self._clamped(event.position())
            self._rubber = QGraphicsRectItem(QRectF(self._start, self._start))
            pen = QPen(QColor(LEARNER), 1, Qt.DashLine)
            pen.setCosmetic(True)
            self._rubber.setPen(pen)
            self._rubber.setZValue(30)
            v.canvas.scene().addItem(self._rubber)
            return True
        if t == QEvent.MouseMove and self._resize is not None:
            from desktop.ui.editor.geometry import resize_rect

            item, handle, start, rect = self._resize
            p = self._clamped(event.position())
            item.set_scene_rect(resize_rect(rect, handle, p.x() - start.x(), p.y() - start.y(), *v.image_size(),
                                            min_size=MIN_MARK))
            return True
        if t == QEvent.MouseMove and self._start is not None:
            self._rubber.setRect(QRectF(self._start, self._clamped(event.position())).normalized())
            return True
        if t == QEvent.MouseMove and not event.buttons():
            grabbed = self._handle_under(event.position())
            if grabbed is not None:
                v.canvas.viewport().setCursor(_CURSORS[grabbed[1]])
            else:
                v.canvas.viewport().setCursor(Qt.CrossCursor)
            return False
        if t == QEvent.MouseButtonRelease and event.button() == Qt.LeftButton and self._resize is not None:
            self._resize = None
            v.marks_changed.emit()
            return True
        if t == QEvent.MouseButtonRelease and event.button() == Qt.LeftButton and self._start is not None:
            rect = QRectF(self._start, self._clamped(event.position())).normalized()
            v.canvas.scene().removeItem(self._rubber)
            self._start = self._rubber = None
            if rect.width() >= MIN_MARK and rect.height() >= MIN_MARK:
                v.add_mark((rect.x(), rect.y(), rect.width(), rect.height()), v.current_label)
            return True
        return False


def educator_window_of(main_window):
    """The window/level the educator set for an image in the viewer this session (its series'
    manual window, or the locked one), else None: the file's own default."""
    state = getattr(main_window, "wl", None)

    def choose(image, path):
        if state is None:
            return None
        if state.locked:
            return state.user
        key = window_key(image, path)
        return state.manual.get(key) if key else None

    return choose
