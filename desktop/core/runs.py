"""Recording a model run into a folder's store: the predictions a detector makes and each image's
uncertainty (models.uncertainty, decision 0130). The window's Models dock and `loupe detect|classify
--store FOLDER` both go through `RunRecorder`, so a run from either lands the same way.

    rec = RunRecorder(store, model, threshold=0.3, origin="cli")
    rec.record("sub/img1.png", (width, height), value)   # detection rows or {class: probability}
    rec.finish()
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from models.uncertainty import (
    Uncertainty,
    classification_uncertainty,
    detection_uncertainty,
    mc_dropout_uncertainty,
)

log = logging.getLogger(__name__)

# Predictions are stored down to this score, so the threshold slider can show more or fewer of them
# later without running the model again (decision 0050), and the uncertainty sees the scores below
# the threshold (its ambiguous band).
STORE_FLOOR = 0.05
MIN_FLOOR = 0.01  # a DETR scores all its 300 queries: below this it is noise, never stored
SCORED_TASKS = ("detection", "classification")


def storage_floor(threshold: float | None) -> float:
    """The score down to which a run's detections are kept (the threshold when it is lower)."""
    t = STORE_FLOOR if threshold is None else float(threshold)
    return max(MIN_FLOOR, min(t, STORE_FLOOR))


def detection_rows(dets) -> list[tuple[str, float, float, float, float, float]]:
    """models.base.Detections -> the store's rows (category, x, y, w, h, score) in pixels."""
    rows = []
    for (x1, y1, x2, y2), score, name in zip(dets.xyxy.tolist(), dets.scores.tolist(), dets.class_names):
        rows.append((str(name), float(x1), float(y1), float(x2 - x1), float(y2 - y1), float(score)))
    return rows


def is_multi_label(model) -> bool:
    """Independent per-class probabilities (CheXNet's 14 sigmoids), from the model or its card."""
    card = getattr(model, "card", None)
    extra = getattr(card, "extra", None) or {}
    return bool(getattr(model, "multi_label", False) or extra.get("multi_label", False))


def score_of(task: str, value, threshold: float | None, multi_label: bool,
             samples: Sequence[dict] | None = None) -> Uncertainty | None:
    """The image's uncertainty for one result (None for tasks that get none)."""
    if task == "detection":
        return detection_uncertainty([row[5] for row in value], 0.5 if threshold is None else threshold)
    if task == "classification":
        if samples:
            return mc_dropout_uncertainty(samples, multi_label)
        return classification_uncertainty(value, multi_label)
    return None


def classify_with_passes(model, rgb, passes: int) -> tuple[dict[str, float], list[dict[str, float]]]:
    """(probabilities, Monte Carlo dropout passes) of a classifier on one image."""
    from models.uncertainty import mc_dropout_probabilities

    probs = {str(k): float(v) for k, v in model.classify(rgb).items()}
    return probs, mc_dropout_probabilities(model, rgb, passes=passes)


def record_paths(store, recorder: RunRecorder, items, say) -> int:
    """`items`: (path, (width, height), value, samples). Records those inside the store's folder;
    `say(text)` is told about the others. Returns how many were scored."""
    import os

    root = os.path.abspath(store.folder)
    scored = 0
    for path, size, value, samples in items:
        p = os.path.abspath(path)
        if not p.startswith(root + os.sep):
            say(f"{path} is not inside {store.folder}: left out of its store")
            continue
        rel = p[len(root) + 1:].replace(os.sep, "/")
        if recorder.record(rel, size, value, samples) is not None:
            scored += 1
    recorder.finish()
    return scored


class RunRecorder:
    """One run of `model` into `store`. Creating it writes the run's row; when the store cannot
    be written (read-only, locked) `run_id` stays None and `record` still tries the predictions
    (whose write then fails with the store's own message), without a score.

    `continue_latest`: record into the newest run of the same model and settings when there is one
    (the Models dock does for "this image", "selected" and a resumed run), so running one image
    again updates its score in the queue instead of making a one-image run the latest."""

    def __init__(self, store, model, threshold: float | None = None, origin: str = "window",
                 mc_passes: int = 0, continue_latest: bool = False):
        self.store = store
        self.model_name = model.name
        self.task = model.task
        self.multi_label = is_multi_label(model)
        if self.task == "detection" and threshold is None:
            threshold = getattr(getattr(model, "card", None), "default_threshold", 0.5)
        self.threshold = threshold
        self.mc_passes = int(mc_passes or 0)
        self.run_id: int | None = None
        self.error: str | None = None
        if self.task in SCORED_TASKS:
            method, params = self._method()
            try:
                if continue_latest:  # one image again, or a resumed run: the same run, newer scores
                    self.run_id = store.latest_run_like(self.model_name, self.task, method, params)
                if self.run_id is None:
                    self.run_id = store.begin_run(self.model_name, self.task, method, params, origin)
            except Exception as exc:  # noqa: BLE001 - the predictions' write will say why
                self.error = str(exc) or type(exc).__name__
                log.info("run of %s not recorded: %s", self.model_name, self.error)

    def _method(self) -> tuple[str, dict]:
        from models.uncertainty import DETECTION_BAND, DETECTION_TOP_K

        if self.task == "detection":
            return "detection-band", {"threshold": self.threshold, "band": DETECTION_BAND, "top_k": DETECTION_TOP_K}
        if self.mc_passes:
            return "mc-dropout-entropy", {"passes": self.mc_passes, "multi_label": self.multi_label}
        return ("binary-entropy-sum" if self.multi_label else "margin"), {"multi_label": self.multi_label}

    def record(self, rel_path: str, size: tuple[int, int], value, samples: Sequence[dict] | None = None
               ) -> Uncertainty | None:
        """Write one image's result: `size` is (width, height); `value` detection rows
        (category, x, y, w, h, score) or {class: probability}; `samples` the Monte Carlo passes.
        Predictions and the score are one transaction. Returns the score (None when not stored)."""
        store = self.store
        if self.task != "detection" and self.run_id is None:
            return None  # a classifier's run writes nothing else into the store
        width, height = int(size[0]), int(size[1])
        iid = store.image_id(rel_path) if width <= 0 or height <= 0 else None  # size unknown: keep the record's
        if iid is None:
            iid = store.ensure_image(rel_path, width, height)
        score = score_of(self.task, value, self.threshold, self.multi_label, samples)
        with store.batch():
            if self.task == "detection":
                store.replace_predictions(iid, self.model_name, value, run_id=self.run_id)
            if score is not None and self.run_id is not None:
                store.set_image_score(self.run_id, iid, score.value, score.detail)
        return score if self.run_id is not None else None

    def finish(self) -> None:
        if self.run_id is not None:
            try:
                self.store.finish_run(self.run_id)
            except Exception as exc:  # noqa: BLE001 - only the end time is lost
                log.info("end of run %s not recorded: %s", self.run_id, exc)
