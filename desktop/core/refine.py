"""Boxes refined by a segment-anything model (no Qt): the box editor's assist mode, "Refine all" on
a folder, and the embedding cache they share.

- `EmbeddingCache`: a small LRU of image embeddings per (image content, model), thread-safe: the
  worker that computes the next image's embedding ahead and the one that answers prompts both use it.
- `refine_rect(model, emb, rect)`: a box prompt -> the tight box of the model's mask, in the store's
  (x, y, w, h), through `model.prompt` (the full-resolution mask's box, without building that mask).
- `refine_folder(...)`: the job behind Refine all on a folder. Per image it reads the file as models
  get it (desktop.core.imaging.model_input, decision 0093), optionally runs a detector first (its
  predictions are then what gets refined: detector, then segmenter, as X-AnyLabeling chains them),
  computes the embedding once and prompts each box. It yields one `RefinedImage` per image; the GUI
  thread writes them (SQLite stays there) as one undoable command per image.
  With a `ThreadPolicy` (desktop.core.refine_threads, decision 0127) its embeddings and detector
  passes are background work (a core left to the window's prompts) and its prompts take the cores
  left by the embeddings running then.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

Rect = tuple[float, float, float, float]  # x, y, w, h in image pixels


def content_key(rgb: np.ndarray) -> str:
    """A digest of an image's pixels (and shape): the same pixels give the same key, wherever the file is."""
    a = np.ascontiguousarray(rgb)
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((a.shape, a.dtype.str)).encode())
    h.update(memoryview(a).cast("B"))
    return h.hexdigest()


class EmbeddingCache:
    """The last `capacity` embeddings, by (content key, model key); least recently used goes first."""

    def __init__(self, capacity: int = 6):
        self.capacity = max(1, int(capacity))
        self._items: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str]):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
            return None

    def put(self, key: tuple[str, str], emb) -> None:
        with self._lock:
            self._items[key] = emb
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __contains__(self, key) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def detection_rows(dets) -> list[tuple[str, float, float, float, float, float]]:
    """models.base.Detections -> the store's rows (category, x, y, w, h, score) in pixels."""
    return [(str(name), float(x1), float(y1), float(x2 - x1), float(y2 - y1), float(score))
            for (x1, y1, x2, y2), score, name in zip(dets.xyxy.tolist(), dets.scores.tolist(), dets.class_names)]


def rect_of(box) -> Rect | None:
    """(x0, y0, x1, y1) pixel edges -> (x, y, w, h); None stays None (an empty mask)."""
    if box is None:
        return None
    x0, y0, x1, y1 = box
    return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def refine_rect(model, emb, rect: Rect) -> tuple[Rect | None, float]:
    """The box of the mask `model` gives for the box prompt `rect`, and the mask's predicted IoU."""
    x, y, w, h = rect
    got = model.prompt(emb, box=(x, y, x + w, y + h))
    return rect_of(got.box), got.score


@dataclass
class RefinedImage:
    path: str
    size: tuple[int, int] = (0, 0)  # width, height the models saw
    refined: dict[int, Rect] = field(default_factory=dict)  # stored box id -> refined rect
    empty: list[int] = field(default_factory=list)  # box ids whose mask came out empty (left as they are)
    detector: str | None = None  # the detector run first, when chained
    detections: list[tuple] = field(default_factory=list)  # its rows (category, x, y, w, h, score)
    refined_detections: dict[int, Rect] = field(default_factory=dict)  # row index -> refined rect
    error: str | None = None


def refine_folder(segmenter, work: Iterable[tuple[str, list[tuple[int, Rect]]]], detector=None,
                  detect: Callable | None = None, read: Callable | None = None, cache: EmbeddingCache | None = None,
                  model_key: str = "", threads=None):
    """A generator job (desktop.jobs.core) over `work`: (path, [(box id, rect), ...]) per image. With
    `detector`, `detect(detector, rgb)` gives its rows first and those are refined instead of the
    listed boxes. A file that cannot be read or run yields a RefinedImage with `error`; the run goes on.
    `threads`: a desktop.core.refine_threads.ThreadPolicy, or None to leave torch's thread count alone."""
    from contextlib import nullcontext

    from desktop.core.refine_threads import AHEAD, PROMPT
    from models.errors import LoupeError

    def task(kind):
        return nullcontext() if threads is None else threads.task(kind)

    if read is None:
        from desktop.core.imaging.model_input import model_input as read
    work = list(work)

    def job(ctx):
        done = 0
        for path, boxes in work:
            if ctx.cancelled():
                return done
            ctx.progress(done, len(work), os.path.basename(path))
            out = RefinedImage(path)
            try:
                rgb = read(path)
                out.size = (int(rgb.shape[1]), int(rgb.shape[0]))
                key = (content_key(rgb), model_key)
                emb = cache.get(key) if cache is not None else None
                if emb is None:
                    with task(AHEAD):
                        emb = segmenter.embed(rgb)
                    if cache is not None:
                        cache.put(key, emb)
                if detector is not None:
                    out.detector = detector.name
                    with task(AHEAD):
                        out.detections = list(detect(detector, rgb))
                    with task(PROMPT):
                        for k, (_cat, x, y, w, h, _score) in enumerate(out.detections):
                            rect, _ = refine_rect(segmenter, emb, (x, y, w, h))
                            if rect is not None:
                                out.refined_detections[k] = rect
                else:
                    with task(PROMPT):
                        for box_id, rect in boxes:
                            new, _ = refine_rect(segmenter, emb, rect)
                            if new is None:
                                out.empty.append(box_id)
                            else:
                                out.refined[box_id] = new
            except (LoupeError, OSError, ValueError) as exc:
                out.error = str(exc) or type(exc).__name__
            done += 1
            ctx.progress(done, len(work), os.path.basename(path))
            yield out
        return done

    return job
