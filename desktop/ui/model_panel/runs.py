"""Running the loaded model over a scope of images and writing what comes back into the store.

Results arrive one image at a time on the GUI thread (queued signals of the job); each is written as
its own store transaction, then the image is marked done for this model (resume bookkeeping). A file
that fails is listed and the run goes on.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from desktop.core.runs import SCORED_TASKS, RunRecorder
from desktop.jobs.ledger import RunLedger
from desktop.ui.model_panel.inference import ItemResult, run_images, run_sequences

log = logging.getLogger(__name__)

SCOPES = ("this", "all", "unreviewed", "selected")


def store_of(window):
    editor = getattr(window, "box_editor", None)
    return getattr(editor, "store", None) if editor is not None else None


def rel_path(store, path: str) -> str:
    folder = Path(getattr(store, "folder", "") or ".")
    try:
        return Path(os.path.relpath(path, folder)).as_posix()
    except ValueError:  # another drive on Windows
        return Path(path).as_posix()


def scope_paths(window, scope: str) -> list[str]:
    if scope == "this":
        p = window.current_path()
        return [str(p)] if p else []
    if scope == "selected":
        return [str(p) for p in window.selected_paths()]
    paths = [str(p) for p in window.image_paths()]
    if scope == "unreviewed":
        store = store_of(window)
        if store is None:
            return paths
        status = {r.rel_path: r.review_status for r in store.images()}  # one query for 10,000 images
        return [p for p in paths if status.get(rel_path(store, p)) != "done"]
    return paths


class RunController:
    """One run at a time per panel; `start` returns the Job (or None when there is nothing to do)."""

    def __init__(self, panel):
        self.panel = panel
        self.window = panel.window
        self.job = None
        self.failed: list[tuple[str, str]] = []
        self.ledger: RunLedger | None = None
        self.results: dict[tuple[str, str], ItemResult] = {}  # (model name, path) -> result
        self.model = None
        self.recorder: RunRecorder | None = None
        self.scored = 0  # images whose result (and uncertainty) went into the store this run
        self.unscored: list[tuple[str, str]] = []  # a classifier's images whose score the store refused

    def start(self, scope: str, skip_done: bool = True):
        panel, window = self.panel, self.window
        model, entry = panel.model, panel.entry
        if model is None or entry is None:
            window.notify("Load a model first.", None, "warning")
            return None
        paths = scope_paths(window, scope)
        if not paths:
            window.notify("No images to run on: open a folder (or select images) first.", None, "info")
            return None
        folder = getattr(window, "folder", None)
        folder = folder() if callable(folder) else folder
        self.ledger = RunLedger(folder or Path(paths[0]).parent, entry.key)
        skipped = 0
        if skip_done and scope != "this":
            todo = self.ledger.remaining(paths)
            skipped = len(paths) - len(todo)
            paths = todo
            if not paths:
                window.notify(f"{model.name} has already run on all {skipped} images here "
                              "(untick 'Skip images already done' to run again).", None, "info")
                return None
        self.failed = []
        self.model = model
        self.scored = 0
        self.unscored: list[tuple[str, str]] = []
        current = None
        options = {**panel.controls.options(), **panel.input_options(), **panel.uncertainty_options()}
        cur = window.current_path()
        if options.get("screen") is not None and cur and str(cur) in paths and hasattr(window, "current_rgb"):
            try:
                current = (str(cur), window.current_rgb())
            except Exception:
                current = None
        self.recorder = None
        store = store_of(window)
        if store is not None and model.task in SCORED_TASKS:  # predictions and uncertainty (decision 0130)
            self.recorder = RunRecorder(store, model, threshold=options.get("threshold"), origin="window",
                                        mc_passes=options.get("mc_passes", 0) if model.task == "classification" else 0,
                                        continue_latest=scope in ("this", "selected") or skipped > 0)
        name = f"{model.name} on {len(paths)} image{'s' if len(paths) != 1 else ''}"
        if hasattr(model, "classify_sequence"):  # the temporal model: each patient's real sequence
            work = run_sequences(model, paths, {**options, "pattern": panel.pattern_text()}, window.image_paths(),
                                 current)
        else:
            work = run_images(model, paths, options, current)
        job = panel.jobs.submit(work,
                                name=name, device=panel.device_id())
        job.published.connect(self.apply)
        job.finished.connect(lambda: self._finished(job))
        self.job = job
        self.skipped_done = skipped
        return job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    # -- results, on the GUI thread ----------------------------------------------------------
    def apply(self, item: ItemResult) -> None:
        panel, window = self.panel, self.window
        if item.error:
            self.failed.append((item.path, item.error))
            panel.list_failure(item.path, item.error)
            if self.ledger:
                self.ledger.mark_failed(item.path, item.error)
            return
        model = self.model
        self.results[(model.name, item.path)] = item
        store = store_of(window)
        try:
            if store is not None and self.recorder is not None and item.task == "classification":
                try:  # only the queue's score is written: a store that refuses it fails nothing else
                    if self.recorder.record(rel_path(store, item.path), item.size, item.value,
                                            item.samples) is not None:
                        self.scored += 1
                except Exception as exc:  # noqa: BLE001 - said once when the run ends
                    self.unscored.append((item.path, str(exc) or type(exc).__name__))
            elif store is not None and self.recorder is not None and item.task in SCORED_TASKS:
                # the same function as loupe detect|classify --store (desktop/core/runs.py)
                if self.recorder.record(rel_path(store, item.path), item.size, item.value, item.samples) is not None:
                    self.scored += 1
            elif store is not None and item.task == "captioning":
                iid = store.ensure_image(rel_path(store, item.path), item.size[0], item.size[1])
                if not store.caption(iid):
                    store.set_caption(iid, item.value)  # never over a person's note (decision 0052)
            elif item.task == "detection":
                raise RuntimeError("no annotation store is open (is the box editor installed?)")
        except Exception as exc:
            reason = str(exc) or type(exc).__name__
            self.failed.append((item.path, reason))
            panel.list_failure(item.path, reason)
            return
        if self.ledger:
            self.ledger.mark_done(item.path)
        cur = window.current_path()
        if cur and str(cur) == item.path and panel.model is model:
            panel.show_result(item)

    def _finished(self, job) -> None:
        if self.job is job:
            self.job = None
        if self.recorder is not None:
            self.recorder.finish()
            if self.scored:
                self.panel.scores_recorded(self.recorder.run_id)
        if self.unscored:
            n = len(self.unscored)
            self.window.notify(f"The review queue's uncertainty of {n} image{'s' if n != 1 else ''} could not be "
                               "saved (the results are shown)", "\n".join(f"{p}: {r}" for p, r in self.unscored),
                               "warning")
        self.panel.run_finished(job, self.failed)
