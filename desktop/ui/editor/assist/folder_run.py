"""Refine all in the folder: a job (desktop/jobs) over every image of the folder with model boxes
nobody reviewed, or, with a detector chained, over every image (the detector's predictions are
stored, then refined: detector, then segmenter). Progress and cancel are the job's; each image's
result is written on the GUI thread as one undo command (the image on screen is not changed by it)."""

from __future__ import annotations

import os
from pathlib import Path

from desktop.core.refine import refine_folder
from desktop.jobs.runner import runner_for


def folder_work(editor, paths: list[str]) -> list[tuple[str, list]]:
    """(path, [(box id, rect)]) for each image in `paths` with unreviewed, unlocked model boxes."""
    store = editor.store
    by_rel = {}
    for box in store.all_boxes():
        if box.is_prediction and not box.locked:
            by_rel.setdefault(box.image_id, []).append((box.id, box.rect))
    ids = {r.rel_path: r.id for r in store.images()}
    work = []
    for p in paths:
        rel = Path(os.path.relpath(p, store.folder)).as_posix()
        if ids.get(rel) in by_rel:
            work.append((p, by_rel[ids[rel]]))
    return work


class FolderRun:
    def __init__(self, assist, panel):
        self.assist = assist
        self.panel = panel
        self.window = assist.window
        self.job = None
        self.refined_boxes = 0
        self.failed: list[tuple[str, str]] = []

    def detector(self):
        """The Models dock's loaded detector, if any (what a chained run uses)."""
        panel = getattr(self.window, "model_panel", None)
        model = getattr(panel, "model", None)
        return model if getattr(model, "task", "") == "detection" else None

    def start(self, chain: bool = False):
        assist, editor = self.assist, self.assist.editor
        segmenter = assist.engine.model
        if segmenter is None:
            self.window.notify("Choose and load a segmentation model in the Assist panel first.", None, "warning")
            return None
        if editor.store is None or not editor._ready():
            return None
        paths = [str(p) for p in self.window.image_paths()]
        detector = self.detector() if chain else None
        if chain and detector is None:
            self.window.notify("Load a detector in the Models dock to run it before refining.", None, "warning")
            return None
        work = [(p, []) for p in paths] if detector is not None else folder_work(editor, paths)
        if not work:
            self.window.notify("No model boxes to refine in this folder: run a detector (Models dock) on it "
                               "first, or tick “Run the detector first”.", None, "info")
            return None
        detect = None
        if detector is not None:
            from desktop.ui.model_panel.inference import run_one

            threshold = self._threshold()
            detect = lambda model, rgb: run_one(model, rgb, {"threshold": threshold})  # noqa: E731
        job_fn = refine_folder(segmenter, work, detector=detector, detect=detect, cache=assist.engine.cache,
                               model_key=assist.engine.model_key, threads=assist.engine.threads)
        chained = f"{detector.name} then " if detector is not None else ""
        name = f"Refine boxes with {chained}{segmenter.name} on {len(work)} image{'s' if len(work) != 1 else ''}"
        self.refined_boxes, self.failed = 0, []
        job = runner_for(self.window).submit(job_fn, name=name, device=str(getattr(segmenter, "device", "cpu")))
        job.published.connect(self.apply)
        job.progress.connect(self.panel.job_progress)
        job.finished.connect(lambda: self._finished(job))
        self.job = job
        self.panel.job_started(name)
        return job

    def _threshold(self) -> float:
        controls = getattr(getattr(self.window, "model_panel", None), "controls", None)
        try:
            return float(controls.options().get("threshold", 0.05))
        except Exception:
            return 0.05

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def apply(self, item) -> None:
        editor, assist = self.assist.editor, self.assist
        store = editor.store
        if item.error:
            self.failed.append((item.path, item.error))
            return
        if store is None:
            return
        model = assist.engine.model_name
        rel = Path(os.path.relpath(item.path, store.folder)).as_posix()
        try:
            image_id = store.ensure_image(rel, *item.size)
            refined = item.refined
            if item.detector is not None:
                ids = store.replace_predictions(image_id, item.detector, item.detections)
                refined = {ids[k]: r for k, r in item.refined_detections.items()}
                if image_id == editor.image_id:
                    editor.reload()
        except Exception as exc:
            self.failed.append((item.path, str(exc) or type(exc).__name__))
            return
        if refined:
            assist.apply(image_id, refined, model, quiet=image_id != editor.image_id)
            self.refined_boxes += len(refined)

    def _finished(self, job) -> None:
        if job is not self.job:
            return
        self.job = None
        done = job.outcome is not None and not job.outcome.cancelled and job.outcome.error is None
        how = "Refined" if done else "Cancelled after refining"
        text = f"{how} {self.refined_boxes} box{'es' if self.refined_boxes != 1 else ''}"
        if self.failed:
            text += f"; {len(self.failed)} image(s) could not be read: {os.path.basename(self.failed[0][0])}: " \
                    f"{self.failed[0][1]}"
        self.panel.job_finished(text)
        self.window.notify(text, "\n".join(f"{p}: {e}" for p, e in self.failed) or None,
                           "warning" if self.failed else "info")
