"""Decoded images kept in memory: the current one and its prefetched neighbours (LRU)."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject, Signal

from .workers import DecodeJob, WorkQueue


class ImageCache(QObject):
    """LRU of decoded images, bounded by count and bytes; `prefetch(paths)` decodes in workers,
    `request(path)` decodes one path before anything else waiting (a step the user asked for)."""

    decoded = Signal(str)  # a path is in the cache now (or has its error)

    def __init__(self, capacity: int = 8, max_bytes: int = 1 << 30, parent=None):
        super().__init__(parent)
        self.capacity, self.max_bytes = capacity, max_bytes
        self._images: OrderedDict[str, object] = OrderedDict()
        self._errors: dict[str, str] = {}
        self._pending: set[str] = set()
        self._jobs: list[DecodeJob] = []
        self.pool = WorkQueue(1)

    def get(self, path: str):
        image = self._images.get(path)
        if image is not None:
            self._images.move_to_end(path)
        return image

    def put(self, path: str, image) -> None:
        self._images[path] = image
        self._images.move_to_end(path)
        self._trim()

    def error(self, path: str) -> str | None:
        return self._errors.get(path)

    def prefetch(self, paths: list[str]) -> None:
        for path in paths:
            if path in self._images or path in self._pending or path in self._errors:
                continue
            self._pending.add(path)
            job = DecodeJob(path)
            job.signals.done.connect(self._done)
            job.signals.failed.connect(self._failed)
            self._jobs.append(job)
            self.pool.start(job)

    def request(self, path: str) -> None:
        """Decode `path` next: waiting jobs for other paths (prefetches, earlier steps) are
        dropped, the latest request wins. A job already running finishes into the cache."""
        dropped = self.pool.cancel_waiting(keep=lambda j: j.path == path)
        for job in dropped:
            self._pending.discard(job.path)
        if dropped:
            self._jobs = [j for j in self._jobs if not j.cancelled]
        self.prefetch([path])

    def clear(self) -> None:
        self.pool.clear()
        self._images.clear()
        self._errors.clear()
        self._pending.clear()

    def _done(self, path: str, image) -> None:
        self._pending.discard(path)
        self._jobs = [j for j in self._jobs if j.path != path]
        self.put(path, image)
        self.decoded.emit(path)

    def _failed(self, path: str, reason: str) -> None:
        self._pending.discard(path)
        self._jobs = [j for j in self._jobs if j.path != path]
        self._errors[path] = reason
        self.decoded.emit(path)

    def _nbytes(self) -> int:
        total = 0
        for image in self._images.values():
            frames = image.raw_frames if isinstance(image.raw_frames, list) else [image.raw(0)]
            total += sum(f.nbytes for f in frames)
        return total

    def _trim(self) -> None:
        while len(self._images) > self.capacity or (len(self._images) > 1 and self._nbytes() > self.max_bytes):
            self._images.popitem(last=False)
