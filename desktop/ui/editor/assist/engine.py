"""The segment-anything model behind assist mode, off the GUI thread (decision 0126).

- Loading (`load`) and embeddings run on one worker thread (`embed_pool`, QThreadPool of 1): the
  image shown first, then the next image of the list, ahead. A request for an image nobody waits
  for any more (the user went on) is dropped before it starts.
- Embeddings live in an `EmbeddingCache` (desktop.core.refine) by (image content, model): going back
  to an image, or the same pixels under another name, costs no encoder pass.
- Prompts (points, a box) and refinements run on a second worker (`prompt_pool`, 1 thread), so a
  prompt never waits behind the next image's embedding. Clicks coalesce: while one prompt runs,
  only the latest waiting one is kept, and a result older than the latest request is not shown.
- The preview (the mask at the decoder's resolution, as an RGBA QImage) is made in the worker; the
  GUI thread only turns it into a pixmap.
- Each task sets its own torch thread count at its start (`threads`, desktop.core.refine_threads,
  decision 0127): the embedding on screen and loading take every core, one computed ahead leaves a
  core free, and a prompt takes the cores the running embedding leaves (all of them when none runs).
Torch is imported only in the workers (decision 0107).
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage

from desktop.core.refine import EmbeddingCache, content_key, refine_rect
from desktop.core.refine_threads import AHEAD, PROMPT, SHOWN, ThreadPolicy

PRESETS = ("medsam", "sam-vit-base", "slimsam", "sam2.1-tiny")
LABELS = {"medsam": "MedSAM", "sam-vit-base": "SAM ViT-B", "slimsam": "SlimSAM-77", "sam2.1-tiny": "SAM 2.1 tiny"}


@dataclass
class PromptResult:
    seq: int
    path: str
    points: list
    box: tuple | None
    rect: tuple | None  # (x, y, w, h) of the mask's box; None: the mask is empty
    score: float
    preview: QImage | None
    low_shape: tuple[int, int]
    seconds: float  # from the request to the result (the worker's part)
    extent: tuple[float, float] | None = None  # (w, h) in image pixels the preview covers; None: the image


def preview_image(low: np.ndarray, color: str) -> QImage:
    """The mask (bool h x w) as a semi-transparent RGBA image in the label's colour."""
    c = QColor(color)
    h, w = low.shape
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    rgba[low] = (c.red(), c.green(), c.blue(), 110)
    return QImage(rgba.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()


class AssistEngine(QObject):
    state_changed = Signal(str, str)  # "idle" | "loading" | "embedding" | "ready" | "error", the text shown
    embedded = Signal(str, bool)  # path, from the cache
    prompted = Signal(object)  # PromptResult (the latest request only)
    refined = Signal(int, object)  # ticket, {box id: ((x, y, w, h) | None, score)}
    failed = Signal(str, str)  # the message, details

    _sig_loaded = Signal(object, str, str)  # model, key, name
    _sig_load_failed = Signal(str, str)
    _sig_embedded = Signal(str, tuple, bool, float, tuple)  # path, key, from cache, seconds, (w, h)
    _sig_embed_failed = Signal(str, str, str)
    _sig_prompted = Signal(object)
    _sig_refined = Signal(int, object)
    _sig_prompt_failed = Signal(str, str)

    def __init__(self, parent=None, read=None, device: str = "auto", capacity: int = 6,
                 threads: ThreadPolicy | None = None):
        super().__init__(parent)
        self.threads = threads or ThreadPolicy()  # torch threads per task (decision 0127)
        self.model = None
        self.model_key = ""
        self.model_name = ""
        self.device = device
        self.cache = EmbeddingCache(capacity)
        self.embed_pool = QThreadPool(self)
        self.embed_pool.setMaxThreadCount(1)
        self.prompt_pool = QThreadPool(self)
        self.prompt_pool.setMaxThreadCount(1)
        self._read = read
        self._keys: dict[str, tuple] = {}  # path -> (content key, model key) of its embedding
        self._sizes: dict[str, tuple[int, int]] = {}
        self._wanted: set[str] = set()
        self._queued: set[str] = set()
        self.current: str | None = None
        self.embeds_computed = 0
        self.last_embed_seconds: float | None = None
        self._seq = 0
        self._running = False
        self._waiting = None  # the latest prompt request that waits for the running one
        self._ticket = 0
        self.state = "idle"
        self.generation = 0  # bumped when the model changes: older results are dropped
        self._sig_loaded.connect(self._loaded)
        self._sig_load_failed.connect(self._load_failed)
        self._sig_embedded.connect(self._on_embedded)
        self._sig_embed_failed.connect(self._on_embed_failed)
        self._sig_prompted.connect(self._on_prompted)
        self._sig_refined.connect(self._on_refined)
        self._sig_prompt_failed.connect(self._on_prompt_failed)

    # -- the model -------------------------------------------------------------------------------
    def _set_state(self, state: str, text: str) -> None:
        self.state = state
        self.state_changed.emit(state, text)

    def load(self, preset: str, folder) -> None:
        """Load `preset` from the weights folder `folder` (a worker; the state says how it goes)."""
        from pathlib import Path

        self.generation += 1
        self.model, self.model_key = None, ""
        self.model_name = preset
        self._keys.clear()
        self._queued.clear()
        name = LABELS.get(preset, preset)
        self._set_state("loading", f"Loading {name} from {Path(folder).name}…")
        device = self.device
        threads = self.threads

        def work():
            try:
                from models import load_model

                with threads.task(SHOWN):  # the user waits for it
                    model = load_model(preset, weights=folder, device=device)
                if getattr(model, "task", "") != "segmentation":
                    raise ValueError(f"{folder} is a {model.task} model, not a segment-anything model")
                _send(self._sig_loaded, model, f"{preset}:{Path(folder).resolve()}", preset)
            except Exception as exc:  # every failure is said in the panel, never raised into Qt
                _send(self._sig_load_failed, _message(exc), traceback.format_exc())

        self.embed_pool.start(work)

    def _loaded(self, model, key: str, name: str) -> None:
        if name != self.model_name:
            return  # another model was chosen meanwhile
        self.model, self.model_key = model, key
        self._set_state("ready", f"{LABELS.get(name, name)} ready")
        if self.current:
            self.show(self.current, self._next)

    def _load_failed(self, text: str, details: str) -> None:
        self.model = None
        self._set_state("error", text)
        self.failed.emit(text, details)

    def unload(self) -> None:
        self.generation += 1
        self.model, self.model_key, self.model_name = None, "", ""
        self._set_state("idle", "No model chosen")

    # -- embeddings ------------------------------------------------------------------------------
    def show(self, path: str | None, next_path: str | None = None) -> None:
        """`path` is on screen (its embedding first), `next_path` comes next (computed ahead)."""
        self.current, self._next = path, next_path
        self._wanted = {p for p in (path, next_path) if p}
        if self.model is None or not path:
            return
        if self.embedding(path) is not None:
            self._set_state("ready", "Ready: click the image (Shift+click excludes), or select a box and press F")
        else:
            self._set_state("embedding", "Computing the image embedding…")
        for p in (path, next_path):
            if p and self.embedding(p) is None and p not in self._queued:
                self._queue_embed(p)

    _next: str | None = None

    def _queue_embed(self, path: str) -> None:
        model, key, gen = self.model, self.model_key, self.generation
        self._queued.add(path)
        read, threads = self._read, self.threads

        def work():
            if path not in self._wanted or gen != self.generation:
                _send(self._sig_embed_failed, path, "", "")  # dropped: nobody waits for it any more
                return
            # on screen when it starts: every core; ahead: one left to prompts and the GUI. An image
            # the user moves to while its embedding runs ahead keeps the count it started with.
            kind = SHOWN if path == self.current else AHEAD
            try:
                if read is None:
                    from desktop.core.imaging.model_input import model_input

                    rgb = model_input(path)
                else:
                    rgb = read(path)
                k = (content_key(rgb), key)
                hit = self.cache.get(k) is not None
                t = time.perf_counter()
                if not hit:
                    with threads.task(kind):
                        emb = model.embed(rgb)
                    self.cache.put(k, emb)
                    self.embeds_computed += 1
                _send(self._sig_embedded, path, k, hit, time.perf_counter() - t, (int(rgb.shape[1]), int(rgb.shape[0])))
            except Exception as exc:
                _send(self._sig_embed_failed, path, _message(exc), traceback.format_exc())

        self.embed_pool.start(work)

    def _on_embedded(self, path: str, key: tuple, hit: bool, seconds: float, size: tuple) -> None:
        self._queued.discard(path)
        if key[1] != self.model_key:
            return
        self._keys[path] = key
        self._sizes[path] = size
        if not hit:
            self.last_embed_seconds = seconds
        if path == self.current:
            how = "from the cache" if hit else (f"in {seconds:.1f} s" if seconds >= 1 else f"in {seconds * 1000:.0f} ms")
            self._set_state("ready", f"Embedding ready ({how}): click the image (Shift+click excludes), "
                                     "or select a box and press F")
        self.embedded.emit(path, hit)
        self.retry_waiting()

    def _on_embed_failed(self, path: str, text: str, details: str) -> None:
        self._queued.discard(path)
        if not text:
            return
        if path == self.current:
            self._set_state("error", text)
        self.failed.emit(text, details)

    def embedding(self, path: str):
        key = self._keys.get(path)
        return None if key is None else self.cache.get(key)

    def model_size(self, path: str) -> tuple[int, int] | None:
        """(width, height) of the image the model saw for `path`."""
        return self._sizes.get(path)

    # -- prompts ---------------------------------------------------------------------------------
    def prompt(self, path: str, points, box=None, color: str = "#56B4E9") -> int:
        """Ask for the mask of `points` [(x, y, 1|0)] and/or `box` (x0, y0, x1, y1) on `path`; the
        result comes as `prompted` (only the latest request's). Returns the request's number."""
        self._seq += 1
        request = (self._seq, path, list(points), box, color, time.perf_counter())
        if self._running:
            self._waiting = request  # coalesce: only the latest click waits
        else:
            self._start_prompt(request)
        return self._seq

    def _start_prompt(self, request) -> None:
        seq, path, points, box, color, t0 = request
        emb, model = self.embedding(path), self.model
        if emb is None or model is None:
            self._waiting = request  # runs once the embedding is there (see `embedded`)
            return
        self._running = True
        threads = self.threads

        def work():
            try:
                with threads.task(PROMPT):
                    got = model.prompt(emb, points=points or None, box=box)
                preview = preview_image(got.low, color)
                rect = None if got.box is None else (float(got.box[0]), float(got.box[1]),
                                                     float(got.box[2] - got.box[0]), float(got.box[3] - got.box[1]))
                _send(self._sig_prompted, PromptResult(seq, path, points, box, rect, got.score, preview,
                                                     got.low.shape, time.perf_counter() - t0, got.extent))
            except Exception as exc:
                _send(self._sig_prompt_failed, _message(exc), traceback.format_exc())

        self.prompt_pool.start(work)

    def retry_waiting(self) -> None:
        """An embedding arrived: a prompt that waited for it runs now."""
        if not self._running and self._waiting is not None:
            request, self._waiting = self._waiting, None
            self._start_prompt(request)

    def _on_prompted(self, result: PromptResult) -> None:
        self._running = False
        self.retry_waiting()
        if result.seq == self._seq:
            self.prompted.emit(result)

    def _on_prompt_failed(self, text: str, details: str) -> None:
        self._running = False
        self.retry_waiting()
        self.failed.emit(text, details)

    def refine(self, path: str, rects: dict[int, tuple]) -> int:
        """Refine boxes {id: (x, y, w, h)} of `path` with box prompts (the prompt worker); the result
        comes as `refined(ticket, {id: (rect | None, score)})`."""
        self._ticket += 1
        ticket, emb, model, threads = self._ticket, self.embedding(path), self.model, self.threads

        def work():
            try:
                with threads.task(PROMPT):
                    results = {i: refine_rect(model, emb, r) for i, r in rects.items()}
                _send(self._sig_refined, ticket, results)
            except Exception as exc:
                _send(self._sig_prompt_failed, _message(exc), traceback.format_exc())

        self.prompt_pool.start(work)
        return ticket

    def _on_refined(self, ticket: int, results) -> None:
        self.refined.emit(ticket, results)

    def wait(self, ms: int = 5000) -> bool:
        """Let the workers finish (tests; on quit)."""
        return self.embed_pool.waitForDone(ms) and self.prompt_pool.waitForDone(ms)


def _send(signal, *args) -> None:
    """Emit a worker's result. The engine may be gone by then (its window closed while an embedding
    ran): its signals are deleted with it, and nobody waits for the result, so it is dropped."""
    try:
        signal.emit(*args)
    except RuntimeError as exc:
        if "deleted" not in str(exc):
            raise


def _message(exc: BaseException) -> str:
    from models.errors import LoupeError

    if isinstance(exc, LoupeError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
