"""Work off the GUI thread: listing a folder, decoding neighbours ahead, making thumbnails.

Each job has its own QObject of signals; results reach the GUI thread through
queued connections, so the widgets are only touched there.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from desktop.core.folder import scan_folder
from desktop.core.imaging import ImageReadError, read_image

WORKER_NICENESS = 10
# How long a thread waiting for the GIL waits before the holder must let go (Python's default is
# 5 ms). The GUI thread re-takes the GIL for every Python callback while it paints (the delegate,
# data() of each row); behind a worker running Python (natural sort of a 100,000-file listing,
# torch's import) each of those waits cost up to 5 ms, and a list repaint of 200 callbacks was a
# one-second stall (docs/decisions/0108-gil-switch-interval.md).
GIL_SWITCH_S = 0.0005


def _lower_priority() -> None:
    """Linux schedules threads as tasks: a niced worker leaves the CPU to the GUI thread (W/L
    drags, stepping) when both want it. Elsewhere the workers keep the normal priority. On every
    platform the GIL changes hands quickly (GIL_SWITCH_S), so the GUI thread never waits long."""
    if GIL_SWITCH_S and sys.getswitchinterval() > GIL_SWITCH_S:
        sys.setswitchinterval(GIL_SWITCH_S)
    if sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + WORKER_NICENESS, 19))
        except OSError:
            pass


class WorkQueue:
    """Runs jobs (objects with `run()` and a `cancelled` flag) on Python worker threads.

    Used instead of QThreadPool + QRunnable: under PySide6 6.12 Python QRunnables in a pool
    crashed the interpreter ("deallocating None") after a few hundred jobs. Results still reach
    the GUI thread through the jobs' Qt signals (queued connections).
    """

    def __init__(self, workers: int = 1):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="loupe-viewer",
                                            initializer=_lower_priority)
        self._queued: list = []

    def start(self, job) -> None:
        self._queued = [j for j in self._queued if not j.finished]
        self._queued.append(job)
        self._executor.submit(job.run_guarded)

    def clear(self) -> None:
        """Jobs not started yet will not run (their results would be stale)."""
        for job in self._queued:
            job.cancelled = True
        self._queued = []

    def cancel_waiting(self, keep=lambda job: False) -> list:
        """Jobs that have not started and that `keep(job)` does not keep will not run; returns them."""
        dropped = [j for j in self._queued if not j.started and not j.finished and not keep(j)]
        for job in dropped:
            job.cancelled = True
        self._queued = [j for j in self._queued if not j.cancelled and not j.finished]
        return dropped

    def idle(self) -> bool:
        return all(j.finished or (j.cancelled and not j.started) for j in self._queued)


class LatestFirstQueue:
    """One worker thread that runs the newest job first and keeps at most `max_waiting` waiting:
    the thumbnails of the rows on screen now come before those scrolled past while a key was held,
    and those are dropped (`start` returns them, so they can be asked for again when repainted)."""

    def __init__(self, max_waiting: int = 48):
        self.max_waiting = max_waiting
        self._waiting: deque = deque()
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._running = None

    def start(self, job) -> list:
        with self._cv:
            self._waiting.append(job)
            dropped = []
            while len(self._waiting) > self.max_waiting:
                old = self._waiting.popleft()
                old.cancelled = True
                dropped.append(old)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="loupe-thumbnails", daemon=True)
                self._thread.start()
            self._cv.notify()
        return dropped

    def clear(self) -> None:
        with self._cv:
            for job in self._waiting:
                job.cancelled = True
            self._waiting.clear()

    def idle(self) -> bool:
        with self._cv:
            return not self._waiting and self._running is None

    def _loop(self) -> None:
        _lower_priority()
        while True:
            with self._cv:
                while not self._waiting:
                    self._cv.wait()
                job = self._running = self._waiting.pop()
            try:
                job.run_guarded()
            except RuntimeError:  # its window closed while it ran: nobody waits for the result
                pass
            except Exception:  # one bad job must not end the thread: the others still wait
                logging.getLogger(__name__).exception("thumbnail job failed")
            finally:
                with self._cv:
                    self._running = None


class Job:
    cancelled = False
    started = False
    finished = False

    def run_guarded(self) -> None:
        try:
            if not self.cancelled:
                self.started = True
                self.run()
        finally:
            self.finished = True


class ScanSignals(QObject):
    batch = Signal(object)  # (generation, paths, names relative to the folder, names case-folded)
    finished = Signal(int)  # generation


class FolderScanJob(Job):
    """Lists `folder` with scan_folder and emits batches; `cancel()` stops it between batches.

    The first batch (the first image) goes at once; later ones are joined up to EMIT_ROWS rows or
    EMIT_S seconds: each insert makes the list view lay out every row again, so 200 inserts of 500
    rows cost 200 layouts of a growing list, 20 inserts of 5,000 cost 20."""

    EMIT_ROWS, EMIT_S = 5000, 0.3

    def __init__(self, folder: Path, generation: int):
        self.folder, self.generation = folder, generation
        self.signals = ScanSignals()
        self._stop = threading.Event()
        self.refused: list[bytes] = []  # paths (bytes) whose names are not UTF-8; read once finished

    def cancel(self) -> None:
        self._stop.set()

    def run(self) -> None:
        import time

        pending: list[str] = []
        last = 0.0
        # the list's shown names (relative to the folder) and their case-folded form are made
        # here, not on the GUI thread: 5,000 rows' worth of Python there, competing for the GIL
        # with this scan, held the event loop for 100-380 ms on a loaded machine (decision 0123)
        prefix = len(str(Path(self.folder).resolve()).rstrip(os.sep) + os.sep)

        def emit(paths: list[str]) -> None:
            names = [p[prefix:] for p in paths]
            self.signals.batch.emit((self.generation, paths, names, [n.casefold() for n in names]))

        try:
            for batch in scan_folder(self.folder, cancelled=self._stop.is_set, refused=self.refused, as_text=True):
                if self._stop.is_set():
                    return
                pending.extend(batch)
                now = time.monotonic()
                if not last or len(pending) >= self.EMIT_ROWS or now - last >= self.EMIT_S:
                    emit(pending)
                    pending, last = [], now
            if pending and not self._stop.is_set():
                emit(pending)
        finally:
            if not self._stop.is_set():
                self.signals.finished.emit(self.generation)


class DecodeSignals(QObject):
    # two signals rather than one carrying None: PySide6 mis-counts references of a None passed
    # through a queued `object` argument (seen as a "deallocating None" crash)
    done = Signal(str, object)  # path, LoupeImage
    failed = Signal(str, str)  # path, reason


class DecodeJob(Job):
    """Decodes one image (for the prefetch cache)."""

    def __init__(self, path: str):
        self.path = path
        self.signals = DecodeSignals()

    def run(self) -> None:
        try:
            image = read_image(self.path)
            image.pixels  # noqa: B018 - modality values computed here, not on the GUI thread
            self.signals.done.emit(self.path, image)
        except ImageReadError as exc:
            self.signals.failed.emit(self.path, exc.reason)


class ThumbSignals(QObject):
    done = Signal(str, object)  # path, RGB/grey uint8 array
    failed = Signal(str, str)  # path, reason


class ThumbnailJob(Job):
    """Decodes an image and shrinks it to a thumbnail of at most `size` pixels a side."""

    def __init__(self, path: str, size: int):
        self.path, self.size = path, size
        self.signals = ThumbSignals()

    def run(self) -> None:
        from PIL import Image

        try:
            shown = read_image(self.path).render()
        except ImageReadError as exc:
            self.signals.failed.emit(self.path, exc.reason)
            return
        im = Image.fromarray(shown)
        im.thumbnail((self.size, self.size), Image.BILINEAR)
        self.signals.done.emit(self.path, np.ascontiguousarray(np.asarray(im)))
