"""Work off the GUI thread: listing a folder, decoding neighbours ahead, making thumbnails.

Each job is a QRunnable with its own QObject of signals; results reach the GUI thread through
queued connections, so the widgets are only touched there.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRunnable, Signal

from desktop.core.folder import scan_folder
from desktop.core.imaging import ImageReadError, read_image


class ScanSignals(QObject):
    batch = Signal(object)  # list[str]
    finished = Signal(int)  # generation


class FolderScanJob(QRunnable):
    """Lists `folder` with scan_folder and emits batches; `cancel()` stops it between batches."""

    def __init__(self, folder: Path, generation: int):
        super().__init__()
        self.folder, self.generation = folder, generation
        self.signals = ScanSignals()
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    def run(self) -> None:
        try:
            for batch in scan_folder(self.folder, cancelled=self._stop.is_set):
                if self._stop.is_set():
                    return
                self.signals.batch.emit((self.generation, [str(p) for p in batch]))
        finally:
            if not self._stop.is_set():
                self.signals.finished.emit(self.generation)


class DecodeSignals(QObject):
    done = Signal(str, object, str)  # path, LoupeImage or None, error reason


class DecodeJob(QRunnable):
    """Decodes one image (for the prefetch cache)."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.signals = DecodeSignals()

    def run(self) -> None:
        try:
            image = read_image(self.path)
            image.pixels  # noqa: B018 - modality values computed here, not on the GUI thread
            self.signals.done.emit(self.path, image, "")
        except ImageReadError as exc:
            self.signals.done.emit(self.path, None, exc.reason)


class ThumbSignals(QObject):
    done = Signal(str, object, str)  # path, RGB/grey uint8 array or None, error reason


class ThumbnailJob(QRunnable):
    """Decodes an image and shrinks it to a thumbnail of at most `size` pixels a side."""

    def __init__(self, path: str, size: int):
        super().__init__()
        self.path, self.size = path, size
        self.signals = ThumbSignals()

    def run(self) -> None:
        from PIL import Image

        try:
            shown = read_image(self.path).render()
        except ImageReadError as exc:
            self.signals.done.emit(self.path, None, exc.reason)
            return
        im = Image.fromarray(shown)
        im.thumbnail((self.size, self.size), Image.BILINEAR)
        self.signals.done.emit(self.path, np.ascontiguousarray(np.asarray(im)), "")
