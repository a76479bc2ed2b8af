"""`ImageCanvas`: a QGraphicsView whose scene coordinates are image pixels.

The image is `image_item` (a QGraphicsPixmapItem at (0, 0), one scene unit per pixel); other panels
add their own items to `canvas.scene()`. Left-button events go to the scene (the box editor uses
them); middle-drag or Space+left-drag pans; right-drag emits `window_drag(dx, dy)` for
window/level and `window_drag_finished` on release; the wheel zooms about the cursor.

Rendering goes through one reused `DisplayBuffer`: `buffer_for(shape)` gives the uint8 array to
render into and `present()` puts it on screen, so a window/level drag allocates nothing.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

from desktop.ui.guard import guarded

from .display_buffer import DisplayBuffer

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.02, 64.0
_ARROWS = (Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down)


def to_qimage(pixels: np.ndarray) -> QImage:
    """uint8 (H, W) grey or (H, W, 3) RGB -> QImage sharing a copy-free buffer (kept alive)."""
    pixels = np.ascontiguousarray(pixels)
    h, w = pixels.shape[:2]
    if pixels.ndim == 2:
        image = QImage(pixels.data, w, h, pixels.strides[0], QImage.Format_Grayscale8)
    else:
        image = QImage(pixels.data, w, h, pixels.strides[0], QImage.Format_RGB888)
    image._keep = pixels  # the QImage does not own the buffer
    return image


class ImageCanvas(QGraphicsView):
    image_shown = Signal()  # a new image (or frame) is on screen
    window_drag = Signal(float, float)  # right-drag in screen pixels since the last event
    window_drag_finished = Signal()  # the right button was released
    zoom_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(Qt.SmoothTransformation)
        self.image_item.setZValue(-1000)
        self.scene().addItem(self.image_item)
        self.setBackgroundBrush(QColor(24, 24, 24))
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setFocusPolicy(Qt.StrongFocus)
        # panning is middle-drag or Space+drag; the scene is larger than the image, so scroll bars
        # would always show and steal room from the image
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setAcceptDrops(False)  # drops go to the main window
        self._pixels: np.ndarray | None = None
        self._buffer = DisplayBuffer()
        self._fit = True
        self._pan_from: QPointF | None = None
        self._wl_from: QPointF | None = None
        self._space = False
        self.message = ""

    # ----- content ------------------------------------------------------------------------------
    def set_pixels(self, pixels: np.ndarray | None, new_image: bool = True) -> None:
        """Show uint8 grey/RGB pixels (copied); `new_image` refits when the canvas is in fit mode."""
        if pixels is None:
            self._pixels = None
            self.image_item.setPixmap(QPixmap())
            if new_image and self._fit:
                self.fit()
            self.viewport().update()
            self.image_shown.emit()
            return
        np.copyto(self.buffer_for(pixels.shape), pixels)
        self.present(new_image)

    def buffer_for(self, shape: tuple[int, ...]) -> np.ndarray:
        """The reused uint8 array ((H, W) grey or (H, W, 3) RGB) that `present` shows."""
        return self._buffer.ensure(shape)

    def present(self, new_image: bool = False) -> None:
        """Put the buffer on screen: only the pixmap is replaced unless the size changed."""
        pixels = self._buffer.pixels
        resized = self._pixels is None or self._pixels.shape[:2] != pixels.shape[:2]
        self._pixels = pixels
        self.image_item.setPixmap(self._buffer.pixmap())
        if resized or new_image:
            h, w = pixels.shape[:2]
            self.scene().setSceneRect(QRectF(-w, -h, 3 * w, 3 * h))
            self.message = ""
        if new_image and self._fit:
            self.fit()
        self.image_shown.emit()

    def show_message(self, text: str) -> None:
        """Clear the image and write `text` in the middle of the canvas (e.g. why a file is bad)."""
        self.set_pixels(None, new_image=False)
        self.message = text
        self.viewport().update()

    def shown_pixels(self) -> np.ndarray | None:
        """The 8-bit pixels on screen (the reused buffer: copy them to keep them)."""
        return self._pixels

    # ----- zoom ---------------------------------------------------------------------------------
    def scale_factor(self) -> float:
        return self.transform().m11()

    def zoom(self, factor: float, anchor_under_mouse: bool = True) -> None:
        new = self.scale_factor() * factor
        if not MIN_SCALE <= new <= MAX_SCALE:
            return
        self._fit = False
        self.setTransformationAnchor(
            QGraphicsView.AnchorUnderMouse if anchor_under_mouse else QGraphicsView.AnchorViewCenter)
        self.scale(factor, factor)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.zoom_changed.emit(self.scale_factor())

    def zoom_in(self) -> None:
        self.zoom(ZOOM_STEP, self.underMouse())

    def zoom_out(self) -> None:
        self.zoom(1 / ZOOM_STEP, self.underMouse())

    def fit(self) -> None:
        self._fit = True
        rect = self.image_item.boundingRect()
        if not rect.isEmpty():
            self.fitInView(rect, Qt.KeepAspectRatio)
        self.zoom_changed.emit(self.scale_factor())

    def actual_size(self) -> None:
        self._fit = False
        self.resetTransform()
        self.centerOn(self.image_item.boundingRect().center())
        self.zoom_changed.emit(1.0)

    @guarded("fitting the image to the window")
    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    @guarded("zooming with the mouse wheel")
    def wheelEvent(self, event):
        delta = event.angleDelta().y()
        if delta:
            self.zoom(ZOOM_STEP ** (delta / 120.0))
        event.accept()

    # ----- mouse: pan, window/level; the left button belongs to the scene --------------------
    @guarded("the mouse on the image")
    def mousePressEvent(self, event):
        if event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.ClosedHandCursor)
            event.accept()
            return
        if event.button() == Qt.RightButton:
            self._wl_from = event.position()
            event.accept()
            return
        super().mousePressEvent(event)

    @guarded("the mouse on the image")
    def mouseMoveEvent(self, event):
        pos = event.position()
        if self._pan_from is not None:
            delta = pos - self._pan_from
            self._pan_from = pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            event.accept()
            return
        if self._wl_from is not None:
            delta = pos - self._wl_from
            self._wl_from = pos
            self.window_drag.emit(delta.x(), delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    @guarded("the mouse on the image")
    def mouseReleaseEvent(self, event):
        if self._pan_from is not None and event.button() in (Qt.MiddleButton, Qt.LeftButton):
            self._pan_from = None
            self.viewport().setCursor(Qt.OpenHandCursor if self._space else Qt.ArrowCursor)
            event.accept()
            return
        if self._wl_from is not None and event.button() == Qt.RightButton:
            self._wl_from = None
            self.window_drag_finished.emit()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # ----- keys: Space pans; arrows go to the scene while an item is selected -----------------
    @guarded("the keys on the image", False)
    def event(self, event):
        if event.type() == QEvent.ShortcutOverride:
            if event.key() in _ARROWS and self.scene().selectedItems():
                event.accept()  # the window's arrow navigation yields to the selected item
                return True
            if event.key() == Qt.Key_Space:
                event.accept()
                return True
        return super().event(event)

    @guarded("the keys on the image")
    def keyPressEvent(self, event):
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    @guarded("the keys on the image")
    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space = False
            self._pan_from = None
            self.viewport().setCursor(Qt.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    @guarded("drawing over the image")
    def drawForeground(self, painter: QPainter, rect):
        super().drawForeground(painter, rect)
        if self.message:
            painter.save()
            painter.resetTransform()
            painter.setPen(QColor(230, 200, 120))
            painter.drawText(self.viewport().rect().adjusted(20, 20, -20, -20),
                             Qt.AlignCenter | Qt.TextWordWrap, self.message)
            painter.restore()
