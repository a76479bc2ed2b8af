"""The Assist dock: which segment-anything model (a Hugging Face folder in the models folder, or
one chosen), its state, assist mode, and refinement of the image or the whole folder."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.editor.assist.engine import LABELS, PRESETS

COLORS = {"info": "", "warning": "#b9770e", "error": "#c0392b"}


def _models_dir(window) -> Path:
    from desktop.ui.model_panel.panel import models_dir

    return models_dir(getattr(window, "settings", None))


class AssistPanel(QWidget):
    def __init__(self, assist, parent=None):
        super().__init__(parent)
        self.assist = assist
        self.window = assist.window
        self.settings = getattr(self.window, "settings", None)
        from desktop.ui.editor.assist.folder_run import FolderRun

        self.run = FolderRun(assist, self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        row = QHBoxLayout()
        row.addWidget(QLabel("Model"))
        self.picker = QComboBox()
        for preset in PRESETS:
            self.picker.addItem(LABELS[preset], preset)
        self.picker.setToolTip("The segment-anything model that draws masks for you (runs on this computer)")
        row.addWidget(self.picker, 1)
        lay.addLayout(row)
        self.folder_label = QLabel()
        self.folder_label.setWordWrap(True)
        self.folder_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(self.folder_label)
        buttons = QHBoxLayout()
        self.load_button = QPushButton("Load")
        self.load_button.clicked.connect(self.load)
        self.choose_button = QPushButton("Choose folder…")
        self.choose_button.setToolTip("A weights folder in the Hugging Face layout: config.json, "
                                      "model.safetensors, preprocessor_config.json")
        self.choose_button.clicked.connect(lambda: self.choose_folder())
        self.get_button = QPushButton("Get weights…")
        self.get_button.clicked.connect(self.get_weights)
        for b in (self.load_button, self.choose_button, self.get_button):
            buttons.addWidget(b)
        lay.addLayout(buttons)
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        lay.addWidget(self.state_label)
        self.mode_button = QPushButton("Assist mode (S)")
        self.mode_button.setCheckable(True)
        self.mode_button.setToolTip("Click the image to include a point, Shift+click to exclude one, drag for a "
                                    "box; Enter keeps the box, Esc drops it")
        self.mode_button.toggled.connect(self._mode_toggled)
        lay.addWidget(self.mode_button)
        self.refine_button = QPushButton("Refine selected box (F)")
        self.refine_button.clicked.connect(assist.refine_selected)
        self.refine_all_button = QPushButton("Refine all model boxes on this image (Shift+F)")
        self.refine_all_button.clicked.connect(assist.refine_all)
        self.folder_button = QPushButton("Refine all in the folder")
        self.folder_button.clicked.connect(self.refine_folder)
        self.chain = QCheckBox("Run the Models dock's detector first")
        self.chain.setToolTip("Detector, then segmenter: the detector's boxes on every image, each snapped "
                              "to its mask")
        for w in (self.refine_button, self.refine_all_button, self.folder_button, self.chain):
            lay.addWidget(w)
        progress = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.run.cancel)
        progress.addWidget(self.progress, 1)
        progress.addWidget(self.cancel_button)
        lay.addLayout(progress)
        self.progress.hide()
        self.cancel_button.hide()
        self.timing_label = QLabel()
        self.timing_label.setWordWrap(True)
        lay.addWidget(self.timing_label)
        lay.addStretch(1)

        saved = str(self.settings.value("assist/preset", "medsam")) if self.settings is not None else "medsam"
        self.picker.setCurrentIndex(max(0, self.picker.findData(saved)))
        self.picker.currentIndexChanged.connect(self._picked)
        assist.engine.state_changed.connect(self.show_state)
        assist.message.connect(self.show_message)
        assist.active_changed.connect(self._active_changed)
        assist.latency.connect(self._latency)
        self._picked()

    # -- the model -------------------------------------------------------------------------------
    def preset(self) -> str:
        return str(self.picker.currentData())

    def folder(self) -> Path:
        """The chosen folder of the preset, else its folder in the models folder."""
        if self.settings is not None:
            chosen = self.settings.value(f"assist/folder/{self.preset()}")
            if chosen:
                return Path(str(chosen))
        from models.registry import preset_card

        return _models_dir(self.window) / str(preset_card(self.preset()).weights)

    def _picked(self) -> None:
        if self.settings is not None:
            self.settings.setValue("assist/preset", self.preset())
        self._show_folder()
        if self.assist.engine.model is not None and self.assist.engine.model_name != self.preset():
            self.assist.engine.unload()
            self.assist.drop()
        if self.assist.engine.model is None and self.assist.engine.state != "loading":
            self.show_state("idle", "Not loaded: press Load (or turn on assist mode).")

    def _show_folder(self) -> None:
        folder = self.folder()
        if folder.is_dir():
            self.folder_label.setText(f"Weights: {html.escape(str(folder))}")
        else:
            self.folder_label.setText(f"Weights: {html.escape(folder.name)} is not in the models folder "
                                      f"({html.escape(str(folder.parent))}). Get weights… downloads it; Choose "
                                      "folder… uses one you have.")

    def load(self) -> None:
        folder = self.folder()
        if not folder.exists():
            self.show_state("error", f"{folder} not found: {LABELS[self.preset()]} needs its weights folder "
                                     "(config.json, model.safetensors, preprocessor_config.json). Use Get weights… "
                                     "or Choose folder….")
            return
        self.assist.engine.load(self.preset(), folder)

    def choose_folder(self, folder: str | None = None) -> None:
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, f"Weights folder for {LABELS[self.preset()]}",
                                                      str(self.folder().parent if self.folder().parent.is_dir()
                                                          else Path.home()))
        if not folder:
            return
        if self.settings is not None:
            self.settings.setValue(f"assist/folder/{self.preset()}", str(folder))
        self._show_folder()
        self.load()

    def get_weights(self) -> None:
        from desktop.ui.dialogs.weights_dialog import open_get_weights

        open_get_weights(self.window, self.preset(), _models_dir(self.window),
                         on_installed=lambda _path: (self._show_folder(), self.load()))

    def show_state(self, state: str, text: str) -> None:
        self.show_message(text, "error" if state == "error" else "info")
        busy = state == "loading"
        self.load_button.setEnabled(not busy)
        self.choose_button.setEnabled(not busy)

    def show_message(self, text: str, level: str = "info") -> None:
        color = COLORS.get(level, "")
        body = html.escape(text)
        self.state_label.setText(f"<span style='color:{color}'>{body}</span>" if color else body)

    # -- mode and refinement ---------------------------------------------------------------------
    def _mode_toggled(self, on: bool) -> None:
        if on and self.assist.engine.model is None and self.assist.engine.state != "loading":
            self.load()
        self.assist.set_active(on)

    def _active_changed(self, on: bool) -> None:
        if self.mode_button.isChecked() != on:
            self.mode_button.setChecked(on)
        dock = getattr(self.assist, "dock", None)
        if on and dock is not None:
            dock.show()
            dock.raise_()  # the model's state and the refine buttons in view

    def _latency(self, seconds: float) -> None:
        embed = self.assist.engine.last_embed_seconds
        text = f"Last click → box: {seconds * 1000:.0f} ms"
        if embed is not None:
            text += f"; last embedding: {embed:.1f} s" if embed >= 1 else f"; last embedding: {embed * 1000:.0f} ms"
        self.timing_label.setText(text)

    def refine_folder(self) -> None:
        self.run.start(chain=self.chain.isChecked())

    def job_started(self, name: str) -> None:
        self.progress.setRange(0, 0)
        self.progress.setFormat(name)
        self.progress.show()
        self.cancel_button.show()
        self.folder_button.setEnabled(False)

    def job_progress(self, p) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
            self.progress.setFormat(p.text())

    def job_finished(self, text: str) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.folder_button.setEnabled(True)
        self.show_message(text)
