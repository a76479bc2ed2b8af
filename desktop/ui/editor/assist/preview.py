"""What assist mode draws over the image: the mask preview (semi-transparent, at the decoder's
resolution, scaled onto the image), the mask's box (dashed) and the clicked points (green: include,
red: exclude). The items sit above the boxes and take no clicks."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsPixmapItem, QGraphicsRectItem

Z = 50
POINT_RADIUS = 5.0  # screen pixels


class AssistPreview:
    def __init__(self, canvas):
        self.canvas = canvas
        self.mask_item: QGraphicsPixmapItem | None = None
        self.mask_clip: QGraphicsRectItem | None = None  # the mask item's parent: clips it to the image
        self.box_item: QGraphicsRectItem | None = None
        self.rubber: QGraphicsRectItem | None = None
        self.points: list[QGraphicsEllipseItem] = []

    def _scene(self):
        return self.canvas.scene()

    def show_points(self, points) -> None:
        for item in self.points:
            self._scene().removeItem(item)
        self.points = []
        for x, y, label in points:
            r = POINT_RADIUS
            item = QGraphicsEllipseItem(-r, -r, 2 * r, 2 * r)
            item.setPos(x, y)
            item.setFlag(QGraphicsItem.ItemIgnoresTransformations)  # the same size at every zoom
            item.setBrush(QBrush(QColor("#2ecc71") if label else QColor("#e74c3c")))
            pen = QPen(QColor("white"), 1.5)
            pen.setCosmetic(True)
            item.setPen(pen)
            item.setZValue(Z + 2)
            item.setAcceptedMouseButtons(Qt.NoButton)
            self._scene().addItem(item)
            self.points.append(item)

    def show_mask(self, image, low_shape, image_size, rect, extent=None) -> None:
        """The mask `image` (RGBA, low_shape = (h, w)) over the image of `image_size` (w, h): it covers
        `extent` (w, h) image pixels from the top-left corner (None: the whole image), clipped to the
        image; and the box `rect` (x, y, w, h) of the full-resolution mask."""
        if self.mask_item is None:
            # the decoder's last pixel row may reach past the image's edge: a clipping parent
            self.mask_clip = QGraphicsRectItem()
            self.mask_clip.setPen(QPen(Qt.NoPen))
            self.mask_clip.setFlag(QGraphicsItem.ItemClipsChildrenToShape)
            self.mask_clip.setZValue(Z)
            self.mask_clip.setAcceptedMouseButtons(Qt.NoButton)
            self._scene().addItem(self.mask_clip)
            self.mask_item = QGraphicsPixmapItem(self.mask_clip)
            self.mask_item.setAcceptedMouseButtons(Qt.NoButton)
            self.mask_item.setTransformationMode(Qt.SmoothTransformation)
        self.mask_clip.setRect(QRectF(0, 0, image_size[0], image_size[1]))
        self.mask_item.setPixmap(QPixmap.fromImage(image))
        h, w = low_shape
        ew, eh = extent if extent else image_size
        self.mask_item.setTransform(QTransform.fromScale(ew / w, eh / h))
        self.show_box(rect)

    def show_box(self, rect) -> None:
        if rect is None:
            if self.box_item is not None:
                self.box_item.hide()
            return
        if self.box_item is None:
            self.box_item = QGraphicsRectItem()
            pen = QPen(QColor("#ffd166"), 2, Qt.DashLine)
            pen.setCosmetic(True)
            self.box_item.setPen(pen)
            self.box_item.setZValue(Z + 1)
            self.box_item.setAcceptedMouseButtons(Qt.NoButton)
            self._scene().addItem(self.box_item)
        self.box_item.setRect(QRectF(*rect))
        self.box_item.show()

    def show_rubber(self, rect) -> None:
        """The box being dragged as a prompt (None hides it)."""
        if rect is None:
            if self.rubber is not None:
                self._scene().removeItem(self.rubber)
                self.rubber = None
            return
        if self.rubber is None:
            self.rubber = QGraphicsRectItem()
            pen = QPen(QColor(255, 255, 255), 1, Qt.DashLine)
            pen.setCosmetic(True)
            self.rubber.setPen(pen)
            self.rubber.setZValue(Z + 3)
            self._scene().addItem(self.rubber)
        self.rubber.setRect(rect)

    def clear(self) -> None:
        scene = self._scene()
        for item in [self.mask_clip, self.box_item, self.rubber, *self.points]:
            if item is not None and item.scene() is scene:
                scene.removeItem(item)
        self.mask_clip = self.mask_item = self.box_item = self.rubber = None
        self.points = []

    @property
    def showing(self) -> bool:
        return bool(self.points) or self.mask_item is not None
