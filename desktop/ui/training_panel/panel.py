"""The training panel widget (Qt). It exports a Roboflow snapshot of the reviewed images, runs the
training child through `TrainingSupervisor`, draws live curves with pyqtgraph, shows the child's log
and the report, and offers "Use this model".

Before a run it asks when the base weights are missing (random start) or the reviewed images do not
fill the split (guards.py); Cancel says "stopping…" at once and the child is killed after a short
grace; the snapshot folder is removed after every run, whatever its end."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.jobs.training import TrainingSupervisor, training_command
from desktop.ui.training_panel import guards
from desktop.ui.viewer.elided_label import ElidedLabel

CANCEL_GRACE_S = 3.0  # after this the child's process group is killed: gone well within 5 s


def ask(parent, title: str, text: str, yes: str, extra: str | None = None) -> str:
    """A question before a run: returns "yes", "extra" (e.g. Get weights…) or "no"."""
    box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.NoButton, parent)
    yes_button = box.addButton(yes, QMessageBox.AcceptRole)
    extra_button = box.addButton(extra, QMessageBox.ActionRole) if extra else None
    box.addButton(QMessageBox.Cancel)
    box.setDefaultButton(QMessageBox.Cancel)
    box.exec()
    clicked = box.clickedButton()
    return "yes" if clicked is yes_button else "extra" if extra_button is not None and clicked is extra_button else "no"


def tell(parent, title: str, text: str, extra: str | None = None) -> str:
    """A message that stops a run: returns "extra" when that button was pressed, else "ok"."""
    box = QMessageBox(QMessageBox.Information, title, text, QMessageBox.NoButton, parent)
    extra_button = box.addButton(extra, QMessageBox.ActionRole) if extra else None
    box.addButton(QMessageBox.Close)
    box.exec()
    return "extra" if extra_button is not None and box.clickedButton() is extra_button else "ok"


class TrainingPanel(QWidget):
    model_ready = Signal(str)  # the new card's path, when the user picks "Use this model"

    def __init__(self, window=None, parent=None):
        super().__init__(parent)
        self.window = window
        self.supervisor = TrainingSupervisor(self, grace_s=CANCEL_GRACE_S)
        self.snapshot: Path | None = None  # the export folder of the run going on (removed after it)
        self.questions: list[str] = []  # what was asked before the last run (for tests and logs)
        self._steps_seen = 0
        self._run_started = 0.0
        self.card_path: str | None = None
        self.chosen_model: str | None = None
        self.curves: dict[str, list[tuple[int, float]]] = {"train_loss": [], "val_loss": [], "metric": []}
        self.base = QComboBox()
        self._load_presets()
        self.epochs, self.batch, self.lr = QSpinBox(), QSpinBox(), QDoubleSpinBox()
        self.epochs.setRange(1, 1000)
        self.batch.setRange(1, 256)
        self.lr.setDecimals(7)
        self.lr.setRange(1e-7, 1.0)
        self.resolution = QSpinBox()
        self.resolution.setRange(32, 2048)
        self.resolution.setSingleStep(32)
        for box in (self.epochs, self.batch, self.lr, self.resolution):
            box.setMinimumWidth(80)  # not the width of the largest value: the dock stays narrow
        self.base.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.base.setMinimumContentsLength(10)
        self.device_note = ElidedLabel("Looking for a GPU…")  # one line from the start: nothing moves
        self.status = ElidedLabel("idle")
        self.train_button, self.cancel_button = QPushButton("Train"), QPushButton("Cancel")
        self.use_button = QPushButton("Use this model")
        self.cancel_button.setEnabled(False)
        self.use_button.setEnabled(False)
        self.plot = pg.PlotWidget()
        self.plot.addLegend()
        self.lines = {k: self.plot.plot([], [], name=k, pen=pg.mkPen(c, width=2))
                      for k, c in (("train_loss", "b"), ("val_loss", "r"), ("metric", "g"))}
        self.report = QTextBrowser()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        self.log.setPlaceholderText("The training process's messages appear here.")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.plot, "Curves")
        self.tabs.addTab(self.log, "Log")
        self.tabs.addTab(self.report, "Report")
        form = QFormLayout()
        form.addRow("Base model", self.base)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch)
        form.addRow("Learning rate", self.lr)
        form.addRow("Resolution", self.resolution)
        buttons = QHBoxLayout()
        for b in (self.train_button, self.cancel_button):
            buttons.addWidget(b)
        result = QHBoxLayout()  # the outcome and what to do with it, side by side
        result.addWidget(self.status, 1)
        result.addWidget(self.use_button)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addLayout(result)
        lay.addWidget(self.device_note)  # below the buttons: its late text moves nothing under the cursor
        lay.addWidget(self.tabs, 1)
        self.base.currentIndexChanged.connect(self._prefill)
        self.train_button.clicked.connect(lambda: self.start_training())
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button.clicked.connect(self.use_model)
        s = self.supervisor
        s.progress.connect(self._on_step)
        s.epoch.connect(self._on_epoch)
        s.finished.connect(self._on_finished)
        s.failed.connect(self._on_failed)
        s.cancelled.connect(self._on_cancelled)
        s.started.connect(self._on_started)
        s.log.connect(self._append_log)
        s.started.connect(lambda ev: self._append_log(f"started on {ev.get('device', '?')}: {ev.get('out', '')}"))
        self._prefill()
        from desktop.ui.device_probe import when_found

        when_found(self, self._device_note, 2000)  # after the first window

    # -- setup ---------------------------------------------------------------------------------------
    def _load_presets(self) -> None:
        from models.registry import list_presets

        for card in list_presets():
            if card.task == "detection" and card.architecture.startswith("rfdetr") or \
                    card.architecture in ("qing", "oasis-resnet18", "oasis-vit", "chexnet"):
                self.base.addItem(card.name, card)

    def _prefill(self) -> None:
        from models.training.hparams import defaults_for

        card = self.base.currentData()
        if card is None:
            return
        hp = defaults_for(card.task, card.architecture)
        self.epochs.setValue(int(hp["epochs"]))
        self.batch.setValue(int(hp["batch_size"]))
        self.lr.setValue(float(hp["lr"]))
        self.resolution.setValue(int(hp.get("resolution", 224)))
        self.resolution.setEnabled(card.task == "detection")

    def _device_note(self, devices) -> None:
        """The shared device probe's answer (a child process: the window never imports torch for
        it, docs/decisions/0121-device-probe-in-a-child-process.md)."""
        gpu = any(dev_id != "cpu" for dev_id, _label in devices)
        self.device_note.setText("GPU found: training runs on it." if gpu else
                                 "No GPU found: training runs on the CPU and will be slow (hours for a full run).")

    def options(self) -> dict:
        card = self.base.currentData()
        opts = {"epochs": self.epochs.value(), "batch_size": self.batch.value(), "lr": self.lr.value()}
        if card is not None and card.task == "detection":
            opts["resolution"] = self.resolution.value()
        return opts

    def models_folder(self) -> Path:
        """Where new models go: the model panel's folder (the window's settings), so the model
        picker lists them; a non-empty `<name>-finetuned` gets a numbered sibling, never overwritten."""
        settings = getattr(self.window, "settings", None)
        try:
            from desktop.ui.model_panel.panel import models_dir

            return models_dir(settings)
        except ImportError:  # pragma: no cover - the model panel is not installed
            from models.resources import user_models_dir

            return user_models_dir()

    # -- running -------------------------------------------------------------------------------------
    def export_snapshot(self) -> Path:
        """Reviewed images of the current folder -> a Roboflow-layout snapshot (deterministic split).
        A failed export leaves no folder behind."""
        from desktop.core.exchange.roboflow import export_roboflow

        store = self.window.box_editor.store
        out = Path(tempfile.mkdtemp(prefix="loupe-train-data-"))
        try:
            export_roboflow(store, self.window.folder, out, split=guards.SPLIT, seed=0, only_reviewed=True)
        except BaseException:
            shutil.rmtree(out, ignore_errors=True)
            raise
        return out

    def reviewed_count(self) -> int | None:
        editor = getattr(self.window, "box_editor", None)
        store = getattr(editor, "store", None)
        if store is None:
            return None
        from desktop.core.exchange.coco_export import selected_images

        return len(selected_images(store, only_reviewed=True))

    def check_before_run(self, card, data_given: bool) -> tuple[bool, Path | None]:
        """Ask what needs asking; (go ahead, base weights file or None)."""
        self.questions = []
        n = None if data_given else self.reviewed_count()
        if n == 0:  # nothing reviewed: the export says so, no question to ask first
            return True, None
        folder = self.models_folder()
        weights = guards.base_weights(card, folder)
        if weights.state == "missing":
            text = guards.missing_weights_message(card, weights, folder)
            self.questions.append(text)
            if tell(self, "Base weights missing", text, extra="Get weights…") == "extra":
                self.get_weights(card)
            return False, None
        if weights.state == "random":
            text = guards.random_weights_warning(card, weights)
            self.questions.append(text)
            answer = ask(self, "Train from random weights?", text, "Train from random weights",
                         extra="Get weights…")
            if answer == "extra":
                self.get_weights(card)
            if answer != "yes":
                return False, None
        if n:
            text = guards.few_images_warning(n)
            if text:
                self.questions.append(text)
                if ask(self, "Few reviewed images", text, "Train anyway") != "yes":
                    return False, None
        return True, weights.path

    def get_weights(self, card) -> None:
        """The "Get weights…" dialog for this preset where the app has it, else the Models dock."""
        opener = getattr(self.window, "get_weights", None)
        if callable(opener):
            opener(card.name)
            return
        try:
            from desktop.ui.dialogs.weights_dialog import open_get_weights
        except ImportError:  # the dialogs are not installed: point to the Models dock
            open_get_weights = None
        if open_get_weights is not None and self.window is not None:
            self.weights_dialog = open_get_weights(self.window, card.name, self.models_folder())
            return
        panel = getattr(self.window, "model_panel", None)
        dock = getattr(panel, "dock", None)
        if dock is not None:
            dock.show()
            dock.raise_()
        self._notify(f"Put {card.weights} in the models folder ({self.models_folder()}), "
                     "or choose it in the Models panel")

    def start_training(self, data_dir: str | None = None, out_dir: str | None = None) -> list[str] | None:
        card = self.base.currentData()
        if card is None or self.supervisor.is_running():
            return None
        if not data_dir and getattr(self.window, "folder", None) is None:
            self.status.setText("not started")
            self._notify("Open a folder and mark the images you have checked as reviewed, then train on them")
            return None
        go, weights = self.check_before_run(card, bool(data_dir))
        if not go:
            self.status.setText("not started")
            return None
        try:
            data = Path(data_dir) if data_dir else self.export_snapshot()
        except Exception as exc:  # noqa: BLE001 - shown to the user, the app goes on
            self._notify(f"cannot export the reviewed images: {guards.app_terms(str(exc))}", level="error")
            return None
        self.snapshot = None if data_dir else data
        out = Path(out_dir) if out_dir else self.models_folder() / f"{card.name}-finetuned"
        kind = "detector" if card.task == "detection" else "classifier"
        options = self.options()
        if weights is not None:  # the base model's file (the app's models folder first)
            options["weights"] = str(weights)
        cmd = training_command(kind, str(data), card.name, str(out), options,
                               stop_file=str(self.supervisor.stop_file))
        for k in self.curves:
            self.curves[k].clear()
        self._redraw()
        self.log.clear()
        self._steps_seen, self._run_started = 0, time.monotonic()
        try:
            self.supervisor.start(cmd)
        except OSError as exc:
            self._remove_snapshot()
            self._notify(f"the training process could not start: {exc}", level="error")
            return None
        self.train_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText("starting…")
        self.tabs.setCurrentWidget(self.plot)
        return cmd

    def cancel(self) -> None:
        """Says "stopping…" at once; the child stops after its step or is killed after the grace."""
        if not self.supervisor.is_running():
            return
        self.cancel_button.setEnabled(False)
        self.status.setText("stopping…")
        self._append_log("stopping: asked the training process to stop")
        self.supervisor.cancel()

    def _append_log(self, line: str) -> None:
        self.log.appendPlainText(str(line))

    def _remove_snapshot(self) -> None:
        if self.snapshot is not None:
            shutil.rmtree(self.snapshot, ignore_errors=True)
            self.snapshot = None

    def _on_step(self, ev: dict) -> None:
        if self.status.text() == "stopping…":
            return
        self._steps_seen += 1
        eta = guards.eta_text(ev.get("eta_s"), self._steps_seen, time.monotonic() - self._run_started)
        self.status.setText(f"epoch {ev.get('epoch')} step {ev.get('step')}/{ev.get('steps')} "
                            f"loss {ev.get('loss') or 0:.4f}" + eta)

    def _on_epoch(self, ev: dict) -> None:
        e = ev["epoch"]
        metrics = ev.get("metrics") or {}
        metric = metrics.get("map50", metrics.get("auc"))
        for key, value in (("train_loss", ev.get("train_loss")), ("val_loss", ev.get("val_loss")),
                           ("metric", metric)):
            if value is not None:
                self.curves[key].append((e, float(value)))
        self._redraw()

    def _redraw(self) -> None:
        for key, line in self.lines.items():
            pts = self.curves[key]
            line.setData([p[0] for p in pts], [p[1] for p in pts])

    def _done_buttons(self) -> None:
        self.train_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_finished(self, ev: dict) -> None:
        self._done_buttons()
        self._remove_snapshot()
        self.card_path = ev.get("card")
        self.status.setText(f"done: {ev.get('out')}")
        report = Path(ev.get("out", "")) / "report.html"
        if report.is_file():
            self.report.setHtml(report.read_text(encoding="utf-8"))
            self.tabs.setCurrentWidget(self.report)
        self.use_button.setEnabled(bool(self.card_path))
        self._notify(f"training finished: {json.dumps(ev.get('metrics'))}")

    def _on_failed(self, message: str, tail: str) -> None:
        self._done_buttons()
        self._remove_snapshot()
        message = guards.app_terms(message)
        self.status.setText(message)
        self._append_log(message)
        self.tabs.setCurrentWidget(self.log)
        self._notify(message, details=tail, level="error")

    def _on_started(self, ev: dict) -> None:
        self._run_out = ev.get("out") or None

    def _on_cancelled(self, out: str) -> None:
        self._done_buttons()
        self._remove_snapshot()
        self.status.setText("cancelled")
        self._append_log("cancelled")
        self._remove_unfinished(out or getattr(self, "_run_out", None))

    def _remove_unfinished(self, out: str | None) -> None:
        """A cancelled run's folder in the models folder holds no model (no card): the model picker
        would list clutter and the next run would be numbered past it. Removed; anything with a card,
        or outside the models folder (a folder the user chose), is left as it is."""
        from models.training.outputs import CARD_NAME

        self._run_out = None
        if not out:
            return
        path = Path(out)
        try:
            inside = path.resolve().parent == self.models_folder().resolve()
        except OSError:
            return
        if inside and path.is_dir() and not (path / CARD_NAME).exists():
            shutil.rmtree(path, ignore_errors=True)
            self._append_log(f"removed the unfinished output folder {path}")

    def use_model(self) -> None:
        """Switch to the new model; the old model and its files stay as they were."""
        if not self.card_path:
            return
        self.chosen_model = self.card_path
        self.model_ready.emit(self.card_path)
        model_panel = getattr(self.window, "model_panel", None)
        if model_panel is not None and hasattr(model_panel, "use_model"):
            model_panel.use_model(self.card_path)

    def _notify(self, text, details=None, level="info") -> None:
        if self.window is not None and hasattr(self.window, "notify"):
            self.window.notify(text, details=details, level=level)
