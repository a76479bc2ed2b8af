"""The saliency overlay on the canvas: a heat map coloured by a colour map, above the image, with
its own opacity; or, side by side, the blended image beside the plain one. Plus the legend."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QLinearGradient, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem, QWidget

from desktop.ui.guard import guarded

COLORMAPS = ("jet", "inferno", "viridis", "turbo", "hot")
OVERLAY_Z = -500  # above the viewer's image item (-1000), below the editor's box layer (0)
SIDE_GAP = 16  # pixels between the image and its side-by-side copy


def colorize(heat: np.ndarray, cmap: str = "jet") -> np.ndarray:
    """(H, W) in [0, 1] -> (H, W, 3) RGB uint8 through OpenCV's colour map of that name."""
    import cv2

    code = getattr(cv2, f"COLORMAP_{cmap.upper()}", cv2.COLORMAP_JET)
    u8 = np.clip(heat * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(u8, code), cv2.COLOR_BGR2RGB)


def rgba_overlay(heat: np.ndarray, cmap: str) -> np.ndarray:
    """Colour with alpha growing with the heat, so cold areas leave the film visible."""
    rgb = colorize(heat, cmap)
    alpha = np.clip(0.25 + 0.75 * heat, 0, 1) * 255
    return np.dstack([rgb, alpha.astype(np.uint8)])


def blend(rgb: np.ndarray, heat: np.ndarray, cmap: str, opacity: float) -> np.ndarray:
    colour = colorize(heat, cmap).astype(np.float32)
    return (rgb.astype(np.float32) * (1 - opacity) + colour * opacity).clip(0, 255).astype(np.uint8)


def to_qimage(arr: np.ndarray) -> QImage:
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    fmt = QImage.Format.Format_RGBA8888 if arr.shape[2] == 4 else QImage.Format.Format_RGB888
    return QImage(arr.data, w, h, arr.strides[0], fmt).copy()


class SaliencyOverlay(QGraphicsPixmapItem):
    """Lives in the window's scene; `show_map` repaints it, `set_mode` puts it over or beside."""

    def __init__(self):
        super().__init__()
        self.setZValue(OVERLAY_Z)
        self.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.heat: np.ndarray | None = None
        self.rgb: np.ndarray | None = None
        self.cmap = "jet"
        self.mode = "overlay"  # "overlay" | "side"
        self.alpha = 0.5

    def show_map(self, heat: np.ndarray, rgb: np.ndarray | None = None) -> None:
        self.heat = heat
        self.rgb = rgb
        self._repaint()
        self.setVisible(True)

    def set_colormap(self, cmap: str) -> None:
        self.cmap = cmap
        self._repaint()

    def set_alpha(self, alpha: float) -> None:
        self.alpha = float(alpha)
        if self.mode == "overlay":
            self.setOpacity(self.alpha)
        else:
            self._repaint()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._repaint()

    def clear(self) -> None:
        self.heat = None
        self.setPixmap(QPixmap())
        self.setVisible(False)

    def _repaint(self) -> None:
        if self.heat is None:
            return
        h, w = self.heat.shape
        if self.mode == "side" and self.rgb is not None and self.rgb.shape[:2] == (h, w):
            self.setOpacity(1.0)
            self.setPixmap(QPixmap.fromImage(to_qimage(blend(self.rgb, self.heat, self.cmap, self.alpha))))
            self.setPos(w + SIDE_GAP, 0)
        else:
            self.setOpacity(self.alpha)
            self.setPixmap(QPixmap.fromImage(to_qimage(rgba_overlay(self.heat, self.cmap))))
            self.setPos(0, 0)


class Legend(QWidget):
    """A horizontal colour bar from 'low' to 'high' for the current colour map."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.cmap = "jet"
        self.setMinimumHeight(28)
        self.setToolTip("Saliency: how much each area moved the model's output (normalised per image)")

    def set_colormap(self, cmap: str) -> None:
        self.cmap = cmap
        self.update()

    @guarded("drawing the model's overlay")
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        p = QPainter(self)
        bar = self.rect().adjusted(2, 2, -2, -14)
        ramp = colorize(np.linspace(0, 1, 64, dtype=np.float32)[None, :], self.cmap)[0]
        grad = QLinearGradient(bar.left(), 0, bar.right(), 0)
        for i, (r, g, b) in enumerate(ramp.tolist()):
            grad.setColorAt(i / 63, _qcolor(r, g, b))
        p.fillRect(bar, grad)
        p.setPen(self.palette().text().color())
        p.drawText(self.rect().adjusted(2, 0, -2, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                   "low 0")
        p.drawText(self.rect().adjusted(2, 0, -2, 0), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
                   "1 high")
        p.end()


def _qcolor(r, g, b):
    from PySide6.QtGui import QColor

    return QColor(int(r), int(g), int(b))
