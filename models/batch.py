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
              workers: int | None = None, cancel: Callable[[], bool] | None = None, batch_size: int = 8,
              **options) -> Iterator[BatchResult]:
    """Yield a BatchResult per path, in order. `fn(rgb)` defaults to the model's task call;
    `prefetch` images are decoded ahead by `workers` threads; `cancel()` True stops early.

    Classifiers whose `classify` is a single view and captioners (`model.batchable()`) go faster:
    their preprocessing runs in the decode threads too and `batch_size` images share one forward
    pass, or one decode whose every step streams the decoder's weights once for the whole batch (same
    probabilities as `classify`, same captions as `caption`, to float rounding; `options` are the
    captioner's decoding options). `workers` defaults to 2 decode threads
    there and 1 otherwise (measured on 2 cores: a second thread only pays when it also does the
    preprocessing; beside a per-image model call it slows the run down)."""
    if fn is None and getattr(model, "batchable", lambda: False)():
        yield from _run_prepared_batches(model, paths, read, max(prefetch, 2 * batch_size), workers or 2,
                                         cancel, batch_size, prepared_call(model, **options))
        return
    import torch

    fn = fn or task_function(model, **options)
    for [(path, rgb, error)] in _decoded(paths, read, prefetch, workers or 1, cancel, take=1):
        if error is not None:  # a bad file is reported, the batch goes on
            yield BatchResult(path, error=error)
            continue
        t0 = time.perf_counter()
        try:
            with torch.inference_mode():
                value = fn(rgb)
        except Exception as exc:
            yield BatchResult(path, error=_describe(exc, path), size=tuple(rgb.shape[:2]))
            continue
        yield BatchResult(path, value, None, tuple(rgb.shape[:2]), time.perf_counter() - t0)


def _decoded(paths, load, prefetch, workers, cancel, take):
    """Lists of up to `take` (path, load(path) or None, error or None), in input order, while
    `workers` threads keep `prefetch` more loading; stops early when `cancel()` says so."""
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="loupe-decode") as pool:
        it = iter(paths)
        pending: deque = deque()

        def fill():
            for p in it:
                pending.append((p, pool.submit(load, p)))
                if len(pending) >= max(1, prefetch):
                    return

        fill()
        while pending:
            if cancel is not None and cancel():
                for _, fut in pending:
                    fut.cancel()
                return
            batch = [pending.popleft() for _ in range(min(take, len(pending)))]
            fill()  # keep the decoders busy while the model runs
            items = []
            for path, fut in batch:
                try:
                    items.append((path, fut.result(), None))
                except Exception as exc:
                    items.append((path, None, _describe(exc, path)))
            yield items


def prepared_call(model, **options) -> Callable:
    """The batched call of a `batchable` model: a list of `prepare`d tensors -> one value each."""
    if model.task == "captioning":
        return lambda tensors: model.caption_prepared(tensors, **options)
    return model.classify_prepared


def _run_prepared_batches(model, paths, read, prefetch, workers, cancel, batch_size, call):
    def load(path):
        rgb = read(path)
        return tuple(rgb.shape[:2]), model.prepare(rgb)

    for items in _decoded(paths, load, prefetch, workers, cancel, take=batch_size):
        yield from _prepared_items(call, items)


def _prepared_items(call, items):
    ok = [i for i, (_, _, error) in enumerate(items) if error is None]
    t0 = time.perf_counter()
    try:
        values = call([items[i][1][1] for i in ok]) if ok else []
    except Exception:  # one image breaks the batch: run them one by one to name it
        values = None
    seconds = (time.perf_counter() - t0) / max(1, len(ok))
    results = {}
    for k, i in enumerate(ok):
        path, (size, tensor), _ = items[i]
        try:
            value = values[k] if values is not None else call([tensor])[0]
            results[i] = BatchResult(path, value, None, size, seconds)
        except Exception as exc:
            results[i] = BatchResult(path, error=_describe(exc, path), size=size)
    for i, (path, _, error) in enumerate(items):
        yield results[i] if error is None else BatchResult(path, error=error)
