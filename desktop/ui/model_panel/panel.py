"""The model panel: pick a model and a device, load it in the background, run it over images,
and show what it says (boxes via the box editor, bars, caption, saliency)."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.jobs.runner import runner_for
from desktop.ui.model_panel.catalog import ModelEntry, entry_for_card, list_models
from desktop.ui.model_panel.controls import ModelControls, saliency_methods
from desktop.ui.model_panel.inference import ItemResult, is_multi_label, labels_to_use
from desktop.ui.model_panel.results import CaptionBox, ClassBars
from desktop.ui.model_panel.runs import RunController, rel_path, store_of
from desktop.ui.model_panel.saliency_view import SaliencyView
from models.uncertainty import MC_PASSES

log = logging.getLogger(__name__)
SETTINGS_MODELS_DIR = "models/folder"


def models_dir(settings: QSettings | None = None) -> Path:
    """The user's models folder: the window's settings can point elsewhere than the default."""
    from models.resources import user_models_dir

    value = (settings if settings is not None else QSettings()).value(SETTINGS_MODELS_DIR)
    return Path(str(value)) if value else user_models_dir()


DEVICE_PROBE_DELAY_MS = 1500


class ModelPanel(QWidget):
    run_scored = Signal(int)  # a run's id, once it stored each image's uncertainty (decision 0130)

    def __init__(self, window):
        super().__init__()
        self.window = window
        self.jobs = runner_for(window)
        settings = getattr(window, "settings", None)
        self.settings = settings if isinstance(settings, QSettings) else QSettings()
        self.entries: list[ModelEntry] = []
        self.entry: ModelEntry | None = None
        self.model = None
        self._loaded: dict[tuple[str, str], object] = {}  # (spec, weights) -> model
        self.load_job = None
        self.annotations_shown = True
        self.runs = RunController(self)
        self._build()
        self.refresh_models()

    # -- layout ------------------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        row = QHBoxLayout()
        self.picker = QComboBox()
        self.picker.setMinimumContentsLength(18)
        self.picker.currentIndexChanged.connect(self._picked)
        self.folder_button = QPushButton("Folder…")
        self.folder_button.setToolTip("Choose the folder where your model cards and weights live")
        self.folder_button.clicked.connect(self._choose_folder)
        row.addWidget(self.picker, 1)
        row.addWidget(self.folder_button)
        lay.addLayout(row)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.get_weights_button = QPushButton("Get weights…")
        self.get_weights_button.setToolTip("Where this preset's weights file comes from, and how to get it")
        self.get_weights_button.clicked.connect(self.get_weights)
        self.get_weights_button.hide()
        lay.addWidget(self.get_weights_button)

        row = QHBoxLayout()
        row.addWidget(QLabel("Device"))
        self.device = QComboBox()
        self.device.currentIndexChanged.connect(self._device_changed)
        row.addWidget(self.device, 1)
        lay.addLayout(row)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate: the busy indicator
        self.busy.setMaximumHeight(8)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.status = QLabel("")
        lay.addWidget(self.busy)
        lay.addWidget(self.status)

        self.use_screen = QCheckBox("Use the window on screen")
        self.use_screen.setToolTip(
            "Off: the model gets each file as its authors' code reads it (8-bit PNG/JPEG unchanged; "
            "16-bit and DICOM with the file's own window). On: the images as you see them, with the "
            "window/level and inversion on screen.")
        lay.addWidget(self.use_screen)
        self.pattern = QLineEdit()
        self.pattern.setPlaceholderText("File-name pattern (empty: DICOM patient and study date)")
        self.pattern.setToolTip(
            "How the temporal model finds a patient's earlier images: a regular expression with the "
            "groups (?P<patient>...) and (?P<date>...), e.g. (?P<patient>OAS2_\\d+)_MR(?P<date>\\d+). "
            "Empty: each DICOM file's PatientID and StudyDate.")
        self.pattern.hide()
        lay.addWidget(self.pattern)

        self.controls = ModelControls()
        self.controls.filter_changed.connect(self._filter_changed)
        lay.addWidget(self.controls)

        grid = QGridLayout()
        self.run_buttons = {}
        for i, (scope, text) in enumerate((("this", "Run on this image"), ("all", "All images"),
                                           ("unreviewed", "Unreviewed"), ("selected", "Selected"))):
            b = QPushButton(text)
            b.clicked.connect(lambda _=False, s=scope: self.run(s))
            grid.addWidget(b, i // 2, i % 2)
            self.run_buttons[scope] = b
        self.run_buttons["this"].setToolTip("Ctrl+Enter")
        lay.addLayout(grid)
        self.mc_dropout = QCheckBox(f"Monte Carlo dropout ({MC_PASSES} passes)")
        self.mc_dropout.setToolTip(
            f"For the review queue's uncertainty: run the model {MC_PASSES} more times with its dropout on and "
            "score each image by the entropy of the mean probability (as MONAI Label's epistemic scoring). "
            f"About {MC_PASSES + 1} times slower.")
        self.mc_dropout.hide()  # shown for classifiers that have dropout (Qing's transformer)
        lay.addWidget(self.mc_dropout)
        self.skip_done = QCheckBox("Skip images already done")  # short: the dock stays narrow
        self.skip_done.setToolTip("Skip images already done by this model (resume an interrupted run)")
        self.skip_done.setChecked(True)
        lay.addWidget(self.skip_done)
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setFormat("")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.runs.cancel)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        lay.addLayout(row)
        self.progress_label = QLabel("")
        lay.addWidget(self.progress_label)
        self.failures = QListWidget()
        self.failures.setMaximumHeight(80)
        self.failures.setToolTip("Files the run skipped, with the reason")
        self.failures.hide()
        lay.addWidget(self.failures)

        self.bars = ClassBars()
        self.bars.use_as_label.connect(self.use_as_label)
        self.caption = CaptionBox()
        self.caption.save_requested.connect(self.save_caption)
        self.saliency = SaliencyView(self)
        for w in (self.bars, self.caption, self.saliency):
            lay.addWidget(w)
        lay.addStretch(1)
        self._fill_devices()
        self._show_task(None)

    def _fill_devices(self) -> None:
        """Offer Automatic and CPU at once; what else this machine has comes from the shared
        device probe, a child process (device_probe.py), so the window never imports torch for it."""
        from desktop.ui.device_probe import when_found

        self.best_device = "cpu"
        self._set_devices([("auto", "Automatic"), ("cpu", "CPU")])
        # Let the first window paint and the first image show before the child starts.
        self.device_probe = when_found(self, self._devices_found, DEVICE_PROBE_DELAY_MS)

    def _devices_found(self, devices) -> None:
        self.best_device = devices[0][0] if devices else "cpu"
        best = devices[0][1] if devices else "CPU"
        self._set_devices([("auto", f"Automatic ({best})"), *devices])

    def _set_devices(self, devices) -> None:
        current = self.device.currentData()
        self.device.blockSignals(True)
        self.device.clear()
        for dev_id, label in devices:
            self.device.addItem(label, dev_id)
        index = self.device.findData(current) if current is not None else -1
        self.device.setCurrentIndex(max(index, 0))
        self.device.blockSignals(False)

    def device_id(self) -> str:
        """The chosen device; "auto" is the best one found (CPU until the probe has answered)."""
        chosen = str(self.device.currentData() or "cpu")
        return self.best_device if chosen == "auto" else chosen

    # -- models ------------------------------------------------------------------------------------
    def refresh_models(self, select: str | None = None) -> None:
        current = select or (self.entry.spec if self.entry else None)
        self.entries = list_models(models_dir(self.settings))
        self.picker.blockSignals(True)
        self.picker.clear()
        self.picker.addItem("Choose a model…", None)
        for e in self.entries:
            mark = "" if e.weights_present else "  (weights missing)"
            self.picker.addItem(f"{e.name} · {e.task}{mark}", e.spec)
        self.picker.blockSignals(False)
        if current:
            self.select(current)

    def select(self, spec_or_name: str):
        """Pick a model by spec (card path or preset name) or name; loads it. Returns the load Job."""
        for i, e in enumerate(self.entries, start=1):
            if spec_or_name in (e.spec, e.name) or (e.card_path and str(e.card_path) == spec_or_name):
                if self.picker.currentIndex() == i:
                    return self.load_job
                self.picker.setCurrentIndex(i)
                return self.load_job
        raise KeyError(spec_or_name)

    def use_model(self, card_path):
        """Switch to the model of `card_path` (the training panel calls this with a new model)."""
        card_path = Path(card_path)
        entry = entry_for_card(card_path, models_dir(self.settings))
        if not any(e.spec == entry.spec for e in self.entries):
            self.refresh_models()
            if not any(e.spec == entry.spec for e in self.entries):  # a card outside the folder
                self.entries.append(entry)
                self.picker.addItem(f"{entry.name} · {entry.task}", entry.spec)
        return self.select(entry.spec)

    def _picked(self, index: int) -> None:
        entry = self.entries[index - 1] if index > 0 else None
        self.entry = entry
        self.model = None
        self.saliency.clear()
        self._show_task(None)
        self.get_weights_button.setVisible(entry is not None and entry.origin == "preset"
                                           and not entry.weights_present)
        if entry is None:
            self.info.setText("")
            return
        text = entry.describe()
        if not entry.weights_present:
            text += "\n\n" + entry.missing_text(models_dir(self.settings))
        self.info.setText(text)
        optional = (entry.card.get("extra") or {}).get("weights_optional")
        if entry.weights_present or not entry.card.get("weights") or optional:
            self.load_job = self._load(entry)

    def get_weights(self):
        """The Get weights… dialog of the chosen preset; when a file arrives, the preset loads."""
        from desktop.ui.dialogs.weights_dialog import open_get_weights

        if self.entry is None:
            return None
        spec = self.entry.spec
        return open_get_weights(self.window, self.entry.name, models_dir(self.settings),
                                on_installed=lambda _path: self.refresh_models(select=spec))

    def _load(self, entry: ModelEntry):
        key = (entry.spec, str(entry.weights))
        device = self.device_id()
        cached = self._loaded.get(key)
        if cached is not None:
            if str(getattr(cached, "device", "")) != _torch_name(device):
                return self._move(cached, entry, device)
            self._set_model(cached, entry)
            return None

        options = load_options(entry, models_dir(self.settings))
        weights = str(entry.weights) if entry.weights_present else None

        def load(ctx):
            from models import load_model

            return load_model(entry.spec, weights=weights, device=device, **options)

        job = self.jobs.submit(load, name=f"Loading {entry.name}", device=device)
        self.set_busy(True, f"Loading {entry.name}…")
        job.result.connect(lambda m: (self._loaded.__setitem__(key, m), self._set_model(m, entry)))
        job.finished.connect(lambda: self.set_busy(False, None))
        job.error.connect(lambda text, _d: self.status.setText(text))
        return job

    def _move(self, model, entry, device):
        job = self.jobs.submit(lambda ctx: model.to(device), name=f"Moving {entry.name} to {device}",
                               device=device)
        self.set_busy(True, f"Moving {entry.name} to {self.device.currentText()}…")
        job.result.connect(lambda m: self._set_model(m, entry))
        job.finished.connect(lambda: self.set_busy(False, None))
        return job

    def _device_changed(self) -> None:
        if self.entry is not None and self.entry.weights_present:
            self.load_job = self._load(self.entry)

    def _set_model(self, model, entry: ModelEntry) -> None:
        if entry is not self.entry:
            return  # the user picked another model meanwhile
        self.model = model
        controls = list(getattr(model, "controls", ()) or ()) + entry.controls
        methods = saliency_methods(model.task) if "saliency_method" in controls else []
        if hasattr(model, "attention_map"):
            methods = ["attention"] + methods
        threshold = float(entry.card.get("default_threshold", 0.5))
        self.controls.set_controls(controls, list(model.class_names), threshold, methods)
        self.pattern.setVisible(hasattr(model, "classify_sequence"))
        self.mc_dropout.setVisible(_mc_dropout_possible(model))
        self._show_task(model.task)
        self.status.setText(f"{model.name} ready on {self.device.currentText()}")
        if model.task == "detection":
            self._filter_changed(self.controls.threshold_value(), self.controls.selected_classes())
        self.image_changed(self.window.current_path())

    def _show_task(self, task) -> None:
        for b in self.run_buttons.values():
            b.setEnabled(task is not None)
        self.bars.setVisible(task == "classification")
        self.caption.setVisible(task == "captioning")
        self.saliency.setVisible(task is not None and self.controls.method.count() > 0)

    def set_busy(self, busy: bool, text: str | None) -> None:
        """Show or hide the busy indicator; `text` (when not None) replaces the status line."""
        self.busy.setVisible(busy)
        if text is not None:
            self.status.setText(text)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Models folder", str(models_dir(self.settings)))
        if path:
            self.settings.setValue(SETTINGS_MODELS_DIR, path)
            self.refresh_models()

    # -- what the model receives (decision 0093) -----------------------------------------------
    def input_options(self) -> dict:
        """{"screen": ScreenView} when "Use the window on screen" is ticked, else {}."""
        if not self.use_screen.isChecked():
            return {}
        from desktop.core.imaging.model_input import ScreenView

        wl = getattr(self.window, "wl", None)
        if wl is None:
            return {"screen": ScreenView()}
        return {"screen": ScreenView(wl.effective(), wl.invert_flag())}

    def uncertainty_options(self) -> dict:
        """{"mc_passes": N} when Monte Carlo dropout is ticked (and offered), else {}."""
        offered = not self.mc_dropout.isHidden()  # isVisible() is False while the dock is hidden
        return {"mc_passes": MC_PASSES} if offered and self.mc_dropout.isChecked() else {}

    def scores_recorded(self, run_id: int | None) -> None:
        """A run wrote each image's uncertainty into the store: the image list's queue follows."""
        self.run_scored.emit(-1 if run_id is None else int(run_id))

    def pattern_text(self) -> str:
        """The temporal model's file-name pattern ("" reads DICOM patient and date)."""
        return self.pattern.text().strip()

    def model_rgb(self, path):
        """The model's input for `path`: the file as its authors read it, or what is on screen."""
        from desktop.ui.model_panel.inference import read_rgb

        screen = self.input_options().get("screen")
        if screen is not None and str(path) == str(self.window.current_path()):
            rgb = self.window.current_rgb()
            if rgb is not None:
                return rgb
        return read_rgb(str(path), screen)

    # -- running ----------------------------------------------------------------------------------
    def run(self, scope: str):
        if self.runs.job is not None:
            self.window.notify("A run is already going; cancel it first.", None, "info")
            return None
        self.failures.clear()
        self.failures.hide()
        job = self.runs.start(scope, skip_done=self.skip_done.isChecked())
        if job is None:
            return None
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.progress_label.setText("waiting for the device…" if job.state == "queued" else "")
        job.progress.connect(self._progress)
        return job

    def _progress(self, p) -> None:
        self.progress.setMaximum(max(1, p.total))
        self.progress.setValue(p.done)
        self.progress_label.setText(p.text())

    def list_failure(self, path: str, reason: str) -> None:
        self.failures.addItem(f"{Path(path).name}: {reason}")
        self.failures.show()

    def run_finished(self, job, failed) -> None:
        self.cancel_button.setEnabled(False)
        outcome = job.outcome
        done = job.last_progress.done if job.last_progress else 0
        total = job.last_progress.total if job.last_progress else 0
        if outcome is not None and outcome.cancelled:
            self.progress_label.setText(f"Cancelled after {done} of {total}; run again to resume.")
        elif outcome is not None and outcome.error is None:
            ok = done - len(failed)
            self.progress_label.setText(f"Done: {ok} image{'s' if ok != 1 else ''}"
                                        + (f", {len(failed)} skipped (listed below)" if failed else ""))
        if failed:
            self.window.notify(f"{len(failed)} file(s) could not be run and were skipped.",
                               "\n".join(f"{p}: {r}" for p, r in failed), "warning")
        editor = getattr(self.window, "box_editor", None)
        if self.model is not None and self.model.task == "detection" and editor is not None:
            editor.reload()

    # -- results of the current image --------------------------------------------------------------
    def show_result(self, item: ItemResult) -> None:
        editor = getattr(self.window, "box_editor", None)
        if item.task == "detection" and editor is not None:
            editor.reload()
        elif item.task == "classification":
            self.bars.set_probabilities(item.value, is_multi_label(self.entry.card, item.value))
        elif item.task == "captioning":
            self.caption.set_text(item.value, f"by {self.model.name}; edit and save")

    def image_changed(self, path) -> None:
        self.saliency.clear()
        if self.model is None or not path:
            return
        path = str(path)
        item = self.runs.results.get((self.model.name, path))
        if self.model.task == "classification":
            probs = item.value if item else {}
            self.bars.set_probabilities(probs, is_multi_label(self.entry.card, probs) if probs else False)
        elif self.model.task == "captioning":
            store = store_of(self.window)
            iid = store.image_id(rel_path(store, path)) if store is not None else None
            saved = store.caption(iid) if iid is not None else ""
            if saved:
                self.caption.set_text(saved, "saved caption")
            else:
                self.caption.set_text(item.value if item else "", "")

    def use_as_label(self) -> None:
        store, path = store_of(self.window), self.window.current_path()
        probs = self.bars.probs
        if store is None or not path or not probs:
            return
        labels = labels_to_use(probs, is_multi_label(self.entry.card, probs))
        iid = store.ensure_image(rel_path(store, str(path)), *self._size())
        store.set_image_labels(iid, labels)
        shown = ", ".join(labels) or "none (no class reached 50%)"
        self.window.notify(f"Image label set: {shown}", None, "info")

    def save_caption(self, text: str) -> None:
        store, path = store_of(self.window), self.window.current_path()
        if store is None or not path:
            self.window.notify("Open a folder first: captions are saved in its annotation store.", None,
                               "warning")
            return
        iid = store.ensure_image(rel_path(store, str(path)), *self._size())
        store.set_caption(iid, text)
        self.caption.status.setText("saved")

    def _size(self) -> tuple[int, int]:
        rgb = self.window.current_rgb()
        return (int(rgb.shape[1]), int(rgb.shape[0]))

    # -- view ---------------------------------------------------------------------------------------
    def _filter_changed(self, threshold: float, classes) -> None:
        editor = getattr(self.window, "box_editor", None)
        if editor is not None and hasattr(editor, "set_prediction_filter"):
            editor.set_prediction_filter(threshold, classes)

    def toggle_annotations(self) -> None:
        """H: hide every annotation and the overlay (show the film first), H again reveals them.

        When the box editor owns H (its Hide/Show action), that action runs and the overlay
        follows it (`follow_editor_visibility`), so one key hides everything."""
        hide = editor_hide_action(self.window)
        if hide is not None:
            hide.trigger()
            return
        self.annotations_shown = not self.annotations_shown
        editor = getattr(self.window, "box_editor", None)
        if editor is not None:
            editor.set_annotations_visible(self.annotations_shown)
        self.saliency._apply_visibility()

    def follow_editor_visibility(self) -> None:
        editor = getattr(self.window, "box_editor", None)
        self.annotations_shown = bool(getattr(editor, "visible", getattr(editor, "_visible", True)))
        self.saliency._apply_visibility()

    def shutdown(self) -> None:
        self.runs.cancel()
        self.saliency.clear()


def _mc_dropout_possible(model) -> bool:
    """A single-view torch classifier with dropout (Qing's transformer): Monte Carlo dropout applies."""
    if getattr(model, "task", None) != "classification" or hasattr(model, "classify_sequence"):
        return False
    if not (hasattr(model, "probabilities") and hasattr(model, "forward_logits")):
        return False
    from models.uncertainty import has_dropout

    try:
        return has_dropout(model.torch_module)
    except Exception:  # noqa: BLE001 - a model without a torch module simply gets no option
        return False


def editor_hide_action(window):
    """The box editor's Hide/Show Boxes action (bound to H), when the editor has one."""
    editor = getattr(window, "box_editor", None)
    actions = getattr(editor, "actions", None)
    return actions.get("hide") if isinstance(actions, dict) else None


def load_options(entry: ModelEntry, folder: Path) -> dict:
    """Files a card names beside its weights (the captioner's vocabulary), found where the weights
    are: the card's folder or the models folder."""
    options = {}
    extra = entry.card.get("extra") or {}
    card_dir = entry.card_path.parent if entry.origin == "user" and entry.card_path else None
    weights_dir = entry.weights.parent if entry.weights else None
    # the captioner's vocabulary; the temporal model's backbone file (torchvision's ImageNet weights)
    for key in ("vocab", "backbone_weights"):
        name = extra.get(key)
        if name and not Path(name).is_absolute():
            for place in filter(None, (card_dir, weights_dir, folder)):
                if (Path(place) / name).exists():
                    options[key] = str(Path(place) / name)
                    break
    return options


def _torch_name(device_id: str) -> str:
    return "cuda:0" if device_id == "cuda" else device_id
