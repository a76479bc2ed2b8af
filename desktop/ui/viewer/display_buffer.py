"""`DisplayBuffer`: the canvas's reused screen buffers, so a window/level drag allocates nothing.

`pixels` receives the 8-bit render (grey (H, W) or RGB (H, W, 3)); `pixmap()` expands it into a
(H, W, 4) buffer that an RGB32 QImage wraps, and `QPixmap.fromImage` of an RGB32 image shares that
memory instead of converting it. Expanding grey with cv2.merge costs ~1 ms on a 2048x2048 image
where Qt's own Grayscale8 -> pixmap conversion costs ~8 ms
(docs/decisions/0015-window-level-drag-path.md).
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtGui import QImage, QPixmap


class DisplayBuffer:
    def __init__(self):
        self.pixels: np.ndarray | None = None
        self._bgra: np.ndarray | None = None
        self._alpha: np.ndarray | None = None
        self._qimage: QImage | None = None
        self._retired: list = []  # the previous size's buffers, kept until its pixmap is replaced

    def ensure(self, shape: tuple[int, ...]) -> np.ndarray:
        """The uint8 buffer of `shape` ((H, W) grey or (H, W, 3) RGB) to render into."""
        shape = tuple(int(s) for s in shape)
        if self.pixels is not None and self.pixels.shape == shape:
            return self.pixels
        h, w = shape[:2]
        if self._bgra is None or self._bgra.shape[:2] != (h, w):
            self._retired = [self._bgra, self._qimage, self._alpha]
            self._bgra = np.empty((h, w, 4), np.uint8)
            self._alpha = np.full((h, w), 255, np.uint8)
            self._qimage = QImage(self._bgra.data, w, h, 4 * w, QImage.Format_RGB32)
        self.pixels = np.empty(shape, np.uint8)
        return self.pixels

    def pixmap(self) -> QPixmap:
        """A pixmap of `pixels` (it shares this buffer: valid until the next `pixmap()`/`ensure`)."""
        p = self.pixels
        if p.ndim == 2:
            cv2.merge([p, p, p, self._alpha], dst=self._bgra)
        else:
            cv2.cvtColor(p, cv2.COLOR_RGB2BGRA, dst=self._bgra)
        return QPixmap.fromImage(self._qimage)
