"""Running a model over many images: the next images are decoded in background threads while the
model works on the current one; a file that cannot be read or run is reported, never fatal.

    from models.batch import run_batch
    for r in run_batch(model, paths, read=lambda p: read_image(p).display()):
        print(r.path, r.error or r.value)

`read(path) -> RGB uint8` is the caller's (the desktop passes its DICOM-aware reader; models never
read DICOM). Inference runs under `torch.inference_mode`; results come back in input order.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any


@dataclass
class BatchResult:
    path: Any
    value: Any = None  # Detections, {class: probability}, caption text, ... (None on error)
    error: str | None = None
    size: tuple[int, int] | None = None  # (height, width) of the image as read
    seconds: float = 0.0  # model time for this image

    @property
    def ok(self) -> bool:
        return self.error is None


def task_function(model, **options) -> Callable:
    """The per-image call of a model's task: detect, classify or caption."""
    if model.task == "detection":
        return lambda rgb: model.detect(rgb, options.get("threshold"))
    if model.task == "classification":
        return model.classify
    if model.task == "captioning":
        return lambda rgb: model.caption(rgb, **options)
    raise ValueError(f"no batch call for task {model.task!r}")


def _describe(exc: BaseException, path) -> str:
    msg = str(exc) or type(exc).__name__
    return msg if str(path) in msg or getattr(path, "name", "\0") in msg else f"{path}: {msg}"


def run_batch(model, paths: Iterable, read: Callable, fn: Callable | None = None, prefetch: int = 4,
              workers: int = 1, cancel: Callable[[], bool] | None = None, **options) -> Iterator[BatchResult]:
    """Yield a BatchResult per path, in order. `fn(rgb)` defaults to the model's task call;
    `prefetch` images are decoded ahead by `workers` threads; `cancel()` True stops early."""
    import torch

    fn = fn or task_function(model, **options)
    paths = list(paths)
    pending: deque = deque()
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="loupe-decode") as pool:
        it = iter(paths)

        def fill():
            while len(pending) < max(1, prefetch):
                try:
                    p = next(it)
                except StopIteration:
                    return
                pending.append((p, pool.submit(read, p)))

        fill()
        while pending:
            if cancel is not None and cancel():
                for _, fut in pending:
                    fut.cancel()
                return
            path, fut = pending.popleft()
            fill()  # keep the decoders busy while the model runs
            try:
                rgb = fut.result()
            except Exception as exc:  # a bad file is reported, the batch goes on
                yield BatchResult(path, error=_describe(exc, path))
                continue
            t0 = time.perf_counter()
            try:
                with torch.inference_mode():
                    value = fn(rgb)
            except Exception as exc:
                yield BatchResult(path, error=_describe(exc, path), size=tuple(rgb.shape[:2]))
                continue
            yield BatchResult(path, value, None, tuple(rgb.shape[:2]), time.perf_counter() - t0)
