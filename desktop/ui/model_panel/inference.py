"""The panel's jobs (no Qt): run a model over images, one result per image, and compute saliency.

They run on a worker thread (`desktop.jobs.runner`); every value they yield reaches the GUI thread,
which writes it to the store (SQLite stays on the GUI thread). A file that cannot be read or run is
yielded as an `ItemResult` with `error` set: the run goes on and the panel lists it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from desktop.core.runs import (  # noqa: F401 (STORE_FLOOR re-exported)
    MIN_FLOOR,
    STORE_FLOOR,
    classify_with_passes,
    detection_rows,
    storage_floor,
)

# Images per forward in a folder run of a classifier, with one decode thread beside the GUI thread.
# Measured (tests/benchmarks/bench_responsiveness.py --model oasis-resnet18 --size 1024, 2 cores):
# 87 ms/image one by one -> 54-57 ms/image, longest event-loop stall 37-59 ms (goal < 100 ms);
# two decode threads were no faster and stalled the window longer (68 ms).
CLASSIFY_BATCH = 4
CAPTION_BATCH = 4  # captions per shared decode in a folder run (the CLI takes 16)


@dataclass
class ItemResult:
    path: str
    size: tuple[int, int] = (0, 0)  # width, height of the image the model saw
    task: str = ""
    value: Any = None  # list of (category, x, y, w, h, score) | {class: p} | caption text
    error: str | None = None
    samples: list | None = None  # Monte Carlo dropout passes ({class: p} each), when asked for


def read_rgb(path: str, screen=None) -> np.ndarray:
    """What the model gets for `path`: the file as its authors' reader reads it, or, with `screen`
    (a desktop.core.imaging.model_input.ScreenView), the on-screen window (decision 0093)."""
    from desktop.core.imaging.model_input import model_input

    return model_input(path, screen=screen)


def run_one(model, rgb: np.ndarray, options: dict) -> Any:
    task = model.task
    if task == "detection":
        return detection_rows(model.detect(rgb, threshold=storage_floor(options.get("threshold"))))
    if task == "classification":
        return {str(k): float(v) for k, v in model.classify(rgb).items()}
    if task == "captioning":
        return model.caption(rgb, max_len=int(options.get("max_length", 80)),
                             beam_size=int(options.get("beam_size", 1)))
    raise ValueError(f"{model.name}: unknown task {task!r}")


def run_images(model, paths: list[str], options: dict, current: tuple[str, np.ndarray] | None = None):
    """A generator job over `paths` through `models.batch.run_batch`, which decodes the next images
    in a background thread while the model runs on this one; one `ItemResult` per image.

    Single-view classifiers (`model.batchable()`) take run_batch's batched path: preprocessing in
    the decode threads and `CLASSIFY_BATCH` images per forward, so cancel waits for at most one
    batch. Captioners decode `CAPTION_BATCH` images together (same captions as one at a time;
    small, so cancel stays quick). Detectors go image by image.

    `current` is (path, rgb) of the image on screen, given only when the user asked for the window
    on screen (`options["screen"]`, a ScreenView that the other images then get too); by default every
    image is read as the authors' reader reads the file.
    """
    screen = options.get("screen")

    def read(path):
        if screen is not None and current is not None and current[0] == path and current[1] is not None:
            return current[1]
        return read_rgb(path, screen)

    batchable = getattr(model, "batchable", lambda: False)()
    passes = int(options.get("mc_passes") or 0) if model.task == "classification" else 0
    batched = model.task == "classification" and batchable and not passes
    if passes:  # Monte Carlo dropout: the plain prediction, then `passes` with dropout on (one batch)
        how = dict(fn=lambda rgb: classify_with_passes(model, rgb, passes), prefetch=2, workers=1)
    elif batched:
        how = dict(batch_size=CLASSIFY_BATCH, workers=1)
    elif model.task == "captioning" and batchable:  # one weight pass per step serves the batch
        how = dict(batch_size=CAPTION_BATCH, workers=1, max_len=int(options.get("max_length", 80)),
                   beam_size=int(options.get("beam_size", 1)))
    else:
        how = dict(fn=lambda rgb: run_one(model, rgb, options), prefetch=2, workers=1)

    def job(ctx):
        from models.batch import run_batch

        total = len(paths)
        done = 0
        ctx.progress(0, total, "")
        for r in run_batch(model, paths, read=read, cancel=ctx.cancelled, **how):
            size = (r.size[1], r.size[0]) if r.size else (0, 0)
            value = {str(k): float(v) for k, v in r.value.items()} if batched and r.ok else r.value
            samples = None
            if passes and r.ok:
                value, samples = value
            yield ItemResult(str(r.path), size, model.task, value, r.error, samples)
            done += 1
            ctx.progress(done, total, _name(str(r.path)))
        return done

    return job


def run_sequences(model, paths: list[str], options: dict, among: list[str],
                  current: tuple[str, np.ndarray] | None = None):
    """A job running the temporal model on each of `paths` over its patient's real sequence: the
    patient's images among `among` (the folder) up to that one, oldest first, as `loupe classify`
    does (desktop.core.sequences). `options["pattern"]` reads patient and date from file names;
    without it, from DICOM PatientID/StudyDate."""
    screen = options.get("screen")
    sizes: dict[str, tuple[int, int]] = {}

    def read(path):
        if screen is not None and current is not None and current[0] == path and current[1] is not None:
            rgb = current[1]
        else:
            rgb = read_rgb(path, screen)
        sizes[path] = (int(rgb.shape[1]), int(rgb.shape[0]))
        return rgb

    def job(ctx):
        from desktop.core.sequences import classify_in_sequence

        total, done = len(paths), 0
        ctx.progress(0, total, "")
        for path, value, error in classify_in_sequence(model, paths, options.get("pattern") or None, among=among,
                                                       read=read, cancel=ctx.cancelled):
            yield ItemResult(path, sizes.get(path, (0, 0)), model.task, value, error)
            done += 1
            ctx.progress(done, total, _name(path))
        return done

    return job


def _name(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass
class SaliencyResult:
    path: str
    method: str
    heat: np.ndarray  # (H, W) float32 in [0, 1], aligned with the image


def saliency_job(model, path: str, rgb: np.ndarray, method: str, box=None, target=None):
    """A job computing one map; Qing's attention map ("attention") comes from the model itself."""

    def job(ctx):
        ctx.progress(0, 1, method)
        if method == "attention":
            heat = resize_heat(np.asarray(model.attention_map(rgb), dtype=np.float32), rgb.shape[:2])
        else:
            from models.saliency import explain

            opts, index = {}, None
            if box is not None:  # the editor's box (pixels) -> the index of the detection it is
                index, opts["threshold"] = detection_index(model, rgb, box)
            heat = np.asarray(explain(model, rgb, method, target=target, box=index, **opts), dtype=np.float32)
            if heat.shape != rgb.shape[:2]:
                heat = resize_heat(heat, rgb.shape[:2])
        ctx.progress(1, 1, method)
        return SaliencyResult(path, method, normalise(heat))

    return job


def detection_index(model, rgb: np.ndarray, xyxy) -> tuple[int, float]:
    """(index, threshold): the detection of `model.detect(rgb, threshold)` that best overlaps the
    box `xyxy` (a stored prediction, or a person's box: then the model's nearest detection)."""
    from models.errors import LoupeError

    threshold = MIN_FLOOR
    dets = model.detect(rgb, threshold=threshold)
    if len(dets) == 0:
        raise LoupeError(f"{model.name} finds nothing on this image, so no box can be explained")
    b = np.asarray(xyxy, np.float32)
    d = dets.xyxy
    ix = np.clip(np.minimum(d[:, 2], b[2]) - np.maximum(d[:, 0], b[0]), 0, None)
    iy = np.clip(np.minimum(d[:, 3], b[3]) - np.maximum(d[:, 1], b[1]), 0, None)
    inter = ix * iy
    union = (d[:, 2] - d[:, 0]) * (d[:, 3] - d[:, 1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return int(np.argmax(inter / np.maximum(union, 1e-9))), threshold


def resize_heat(heat: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    heat = np.squeeze(heat).astype(np.float32)
    return cv2.resize(heat, (int(shape[1]), int(shape[0])), interpolation=cv2.INTER_LINEAR)


def normalise(heat: np.ndarray) -> np.ndarray:
    heat = np.nan_to_num(heat.astype(np.float32))
    lo, hi = float(heat.min()), float(heat.max())
    if hi - lo < 1e-12:
        return np.zeros_like(heat)
    return (heat - lo) / (hi - lo)


def box_xyxy(box) -> tuple[float, float, float, float] | None:
    """The editor's selected box (a store Box, (x, y, w, h), or None) as x1, y1, x2, y2 pixels."""
    if box is None:
        return None
    if hasattr(box, "rect"):
        x, y, w, h = box.rect
    elif all(hasattr(box, a) for a in "xywh"):
        x, y, w, h = box.x, box.y, box.w, box.h
    else:
        x, y, w, h = box
    return (float(x), float(y), float(x + w), float(y + h))


def labels_to_use(probs: dict[str, float], multi_label: bool, cut: float = 0.5) -> dict[str, float]:
    """The labels "use as image label" writes: every class at or over `cut` for a multi-label
    model (none if none is), the most probable one otherwise."""
    if not probs:
        return {}
    if multi_label:
        return {k: v for k, v in probs.items() if v >= cut}
    best = max(probs, key=probs.get)
    return {best: probs[best]}


def is_multi_label(card: dict, probs: dict[str, float]) -> bool:
    """From the card when it says so; else probabilities that do not sum to one are independent."""
    flag = (card.get("extra") or {}).get("multi_label", card.get("multi_label"))
    if flag is not None:
        return bool(flag)
    return len(probs) == 1 or abs(sum(probs.values()) - 1.0) > 1e-3
