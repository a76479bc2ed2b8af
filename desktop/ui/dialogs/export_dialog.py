"""File > Export…: COCO, COCO results, Roboflow split (train/valid/test), YOLO, Pascal VOC, the
corrections made to a model's predictions, the measurements (rulers, angles, regions) and a teaching set (a page for any browser; its options
in teaching_options.py), with the options `loupe export` has (only reviewed
images, predictions nobody reviewed, scores, the window used for DICOM → PNG, non-identifying
names), run as a job with a progress bar (images or boxes written) and Cancel, which removes what
it had written; at the end "Show in folder". The work is desktop.core.exchange's
`export_annotations` (the teaching set: `export_teaching_set`), the same functions as `loupe export`."""

from __future__ import annotations

import html
import importlib.util
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.exchange import export_annotations
from desktop.jobs.runner import runner_for
from desktop.ui.dialogs.common import JobProgress, edits_saved_first, job_progress, show_folder, window_store

FORMATS = (  # (format, shown name, writes a file (True) or a folder)
    ("coco", "COCO (annotations.coco.json)", True),
    ("coco-results", "COCO results (the models' predictions with scores)", True),
    ("roboflow", "Roboflow split: train / valid / test with images", False),
    ("yolo", "YOLO (txt + classes.txt)", False),
    ("voc", "Pascal VOC (XML per image)", False),
    ("corrections", "Corrections of the models' predictions (JSON)", True),
    ("measurements", "Measurements: rulers, angles, regions (CSV, or .json)", True),
    ("teaching", "Teaching set: a web page with the cases and a quiz, for any browser", False),
)
DEFAULT_NAMES = {"coco": "annotations.coco.json", "coco-results": "results.coco.json",
                 "corrections": "corrections.json", "roboflow": "dataset", "yolo": "yolo", "voc": "voc",
                 "measurements": "measurements.csv", "teaching": "teaching-set"}


def export_options(fmt: str, *, only_reviewed: bool, include_predictions: bool, scores: bool,
                   model: str | None, split=(0.8, 0.1, 0.1), seed: int = 0, window=None,
                   keep_paths: bool = False) -> dict:
    """The keyword arguments of `export_annotations` for what the dialog shows, as `loupe export`
    builds them from its options."""
    kw: dict = {"only_reviewed": only_reviewed, "include_predictions": include_predictions, "with_scores": scores}
    if fmt == "roboflow":
        kw.update(split=tuple(split), seed=seed)
        if window is not None:
            kw["window"] = tuple(window)
    if model:
        kw["model"] = model
    if keep_paths and fmt in ("coco", "voc", "corrections", "measurements") and naming_supported():
        kw["keep_paths"] = True
    return kw


def naming_supported() -> bool:
    """Whether this build's exports write non-identifying names (desktop.core.exchange.naming)."""
    return importlib.util.find_spec("desktop.core.exchange.naming") is not None


def _models_in(store) -> list[str]:
    return [m for (m,) in store.conn.execute(
        "SELECT DISTINCT model FROM boxes WHERE source = 'model' AND model IS NOT NULL ORDER BY model")]


class ExportDialog(QDialog):
    exported = Signal(str)

    def __init__(self, window, parent=None):
        super().__init__(parent or window)
        self.window = window
        self.folder = Path(window.folder)
        self.jobs = runner_for(window)
        self.job = None
        self.result_path: Path | None = None
        self.setWindowTitle("Export annotations")
        self.setMinimumWidth(600)
        lay = QVBoxLayout(self)
        self.intro = intro = QLabel(f"The annotations of <b>{html.escape(str(self.folder))}</b>")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.format_box = QComboBox()
        for fmt, name, _file in FORMATS:
            self.format_box.addItem(name, fmt)
        self.format_box.currentIndexChanged.connect(self._format_changed)
        form.addRow("Format", self.format_box)
        row = QHBoxLayout()
        self.out_edit = QLineEdit()
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._choose_out)
        row.addWidget(self.out_edit, 1)
        row.addWidget(choose)
        form.addRow("Save to", row)
        lay.addLayout(form)

        self.only_reviewed = QCheckBox("Only images marked reviewed")
        self.include_predictions = QCheckBox("Also the model boxes nobody reviewed")
        self.scores = QCheckBox("Write each model box's score")
        self.keep_paths = QCheckBox("Write the images' real file names (they may name the patient)")
        self.keep_paths.setToolTip("Off: images get non-identifying names (img000042.png); the mapping stays in "
                                   "the folder")
        self.keep_paths.setVisible(naming_supported())
        for box in (self.only_reviewed, self.include_predictions, self.scores, self.keep_paths):
            lay.addWidget(box)
        self.model_row = QWidget()
        mrow = QHBoxLayout(self.model_row)
        mrow.setContentsMargins(0, 0, 0, 0)
        mrow.addWidget(QLabel("Model"))
        self.model_box = QComboBox()
        self.model_box.addItem("All models", None)
        mrow.addWidget(self.model_box, 1)
        lay.addWidget(self.model_row)
        self.roboflow = self._roboflow_options()
        lay.addWidget(self.roboflow)
        from desktop.ui.dialogs.teaching_options import TeachingOptions

        self.teaching = TeachingOptions(self)
        self.teaching_loaded = False
        lay.addWidget(self.teaching)

        self.progress = JobProgress(self)
        lay.addWidget(self.progress)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.message)
        self.buttons = QDialogButtonBox()
        self.show_button = self.buttons.addButton("Show in folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.show_button.hide()
        self.show_button.clicked.connect(lambda: self.result_path and show_folder(self.result_path))
        self.open_page_button = self.buttons.addButton("Open the page", QDialogButtonBox.ButtonRole.ActionRole)
        self.open_page_button.hide()
        self.open_page_button.clicked.connect(self._open_page)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.clicked.connect(self.run_export)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.clicked.connect(self.reject)
        lay.addWidget(self.buttons)
        self._fill_models()
        self._format_changed()

    def _roboflow_options(self) -> QWidget:
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        self.all_images = QCheckBox("Include images not marked reviewed")
        form.addRow(self.all_images)
        row = QHBoxLayout()
        self.split = []
        for name, value in (("train", 0.8), ("valid", 0.1), ("test", 0.1)):
            spin = QDoubleSpinBox()
            spin.setRange(0.0, 1.0)
            spin.setSingleStep(0.05)
            spin.setValue(value)
            row.addWidget(QLabel(name))
            row.addWidget(spin)
            self.split.append(spin)
        form.addRow("Split", row)
        self.seed = QSpinBox()
        self.seed.setRange(0, 1_000_000)
        form.addRow("Seed of the split", self.seed)
        row = QHBoxLayout()
        self.window_mode = QComboBox()
        self.window_mode.addItem("Each file's own window", "file")
        self.window_mode.addItem("This window:", "custom")
        self.center = QDoubleSpinBox()
        self.width = QDoubleSpinBox()
        for spin, value, name in ((self.center, 40.0, "center"), (self.width, 400.0, "width")):
            spin.setRange(-100000, 100000)
            spin.setValue(value)
            spin.setPrefix(f"{name} ")
        self.window_mode.currentIndexChanged.connect(self._window_mode_changed)
        row.addWidget(self.window_mode)
        row.addWidget(self.center)
        row.addWidget(self.width)
        form.addRow("DICOM → PNG", row)
        self._window_mode_changed()
        return box

    def _window_mode_changed(self) -> None:
        custom = self.window_mode.currentData() == "custom"
        self.center.setEnabled(custom)
        self.width.setEnabled(custom)

    def _fill_models(self) -> None:
        editor = getattr(self.window, "box_editor", None)
        store = getattr(editor, "store", None)
        if store is not None:
            for m in _models_in(store):
                self.model_box.addItem(m, m)

    def fmt(self) -> str:
        return self.format_box.currentData()

    def _format_changed(self) -> None:
        fmt = self.fmt()
        self.only_reviewed.setVisible(fmt in ("coco", "yolo", "voc"))
        self.include_predictions.setVisible(fmt == "coco")
        self.scores.setVisible(fmt == "coco")
        self.keep_paths.setVisible(naming_supported() and fmt in ("coco", "voc", "corrections", "measurements", "teaching"))
        self.keep_paths.setText("List the images' real file names in manifest.json (they may name the patient)"
                                if fmt == "teaching" else
                                "Write the images' real file names (they may name the patient)")
        self.model_row.setVisible(fmt in ("coco-results", "corrections"))
        self.roboflow.setVisible(fmt == "roboflow")
        self.teaching.setVisible(fmt == "teaching")
        what = "A teaching set from" if fmt == "teaching" else "The annotations of"
        self.intro.setText(f"{what} <b>{html.escape(str(self.folder))}</b>")
        if fmt == "teaching" and not self.teaching_loaded:
            self.teaching_loaded = True
            self.teaching.load(getattr(getattr(self.window, "box_editor", None), "store", None))
        self.open_page_button.hide()
        self.out_edit.setText(str(self.folder.parent / f"{self.folder.name}-{DEFAULT_NAMES[fmt]}"))
        self.show_button.hide()
        self.message.setText("")
        self.fit_on_screen()

    def fit_on_screen(self) -> None:
        """As small as its contents, and moved up when that would reach past the screen's bottom."""
        self.adjustSize()
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        frame = self.frameGeometry()
        if screen is not None and frame.bottom() > screen.bottom():
            self.move(frame.left(), max(screen.top(), screen.bottom() - frame.height()))

    def _choose_out(self) -> None:
        fmt = self.fmt()
        writes_file = next(f for k, _n, f in FORMATS if k == fmt)
        if writes_file:
            kinds = "CSV (*.csv);;JSON (*.json)" if fmt == "measurements" else "JSON (*.json)"
            path, _ = QFileDialog.getSaveFileName(self, "Export to", self.out_edit.text(), kinds)
        else:
            path = QFileDialog.getExistingDirectory(self, "Export into folder", str(self.folder.parent))
        if path:
            self.out_edit.setText(path)

    def options(self) -> dict:
        fmt = self.fmt()
        window = (self.center.value(), self.width.value()) if self.window_mode.currentData() == "custom" else None
        only = self.only_reviewed.isChecked() if fmt != "roboflow" else not self.all_images.isChecked()
        return export_options(fmt, only_reviewed=only, include_predictions=self.include_predictions.isChecked(),
                              scores=self.scores.isChecked(),
                              model=self.model_box.currentData() if fmt in ("coco-results", "corrections") else None,
                              split=[s.value() for s in self.split], seed=self.seed.value(), window=window,
                              keep_paths=self.keep_paths.isChecked())

    def run_export(self):
        from desktop.core.store import open_store

        fmt, out, folder = self.fmt(), self.out_edit.text().strip(), self.folder
        if not out:
            self.message.setText("Choose where to save the export.")
            return None
        if fmt == "teaching":
            return self._run_teaching(out)
        kw = self.options()
        waiting = window_store(self.window)

        self.warnings = warnings = []  # burned-in text, an unwritable name mapping (read once the job is done)

        def run(ctx):
            ctx.progress(0, 0, "waiting for the window's edits to be saved")
            edits_saved_first(waiting, "the export")  # edits waiting in memory are part of the export
            with open_store(folder) as store:
                return export_annotations(store, out, fmt, progress=job_progress(ctx), warnings=warnings, **kw)

        return self._start(run, fmt)

    def _run_teaching(self, out: str):
        from desktop.core.exchange.teaching_set import export_teaching_set
        from desktop.core.store import open_store

        problem = self.teaching.problem()
        if problem:
            self.message.setText(problem)
            return None
        folder, waiting = self.folder, window_store(self.window)
        kw = self.teaching.options(keep_paths=self.keep_paths.isChecked())

        def run(ctx):
            ctx.progress(0, 0, "waiting for the window's edits to be saved")
            edits_saved_first(waiting, "the export")
            with open_store(folder) as store:  # a cancel stops between images; nothing is left behind
                return export_teaching_set(store, out, progress=job_progress(ctx), **kw)

        return self._start(run, "teaching")

    def _start(self, run, fmt: str):
        """Run the export job `run`, its progress in the bar, with Cancel."""
        self.export_button.setEnabled(False)
        self.close_button.setEnabled(False)
        self.show_button.hide()
        self.open_page_button.hide()
        self.message.setText("Exporting…")
        self.job = self.jobs.submit(run, name=f"Export ({fmt})", device=None, heavy=False)
        self.job.result.connect(self._exported)
        self.job.error.connect(lambda text, _d: self.message.setText(
            f"<span style='color:#c0392b'>{html.escape(text)}</span>"))
        self.job.cancelled.connect(lambda: self.message.setText(
            "<b>Export cancelled.</b> The files it had written were removed; nothing else was changed."))
        self.job.finished.connect(self._finished)
        self.progress.follow(self.job, "Exporting", "Stop the export and remove the files it has written")
        return self.job

    def _open_page(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        if self.result_path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.result_path / "index.html")))

    def _teaching_done(self, result) -> None:
        self.result_path = Path(result.folder)
        where = html.escape(str(self.result_path / "index.html"))
        text = f"<b>Done.</b> {result.cases} case(s), {result.images} image(s): {where}"
        if result.zip_path is not None:
            text += f"<br>and {html.escape(str(result.zip_path))}"
        details = []
        if result.left_out:
            text += f"<br>{len(result.left_out)} image(s) left out, as chosen."
            details += [f"left out: {b.line()}" for b in result.left_out]
        if result.unreadable:
            text += f"<br>{len(result.unreadable)} image(s) could not be read and were left out (Details)."
            details += [f"left out: {b.line()}" for b in result.unreadable]
        if result.burned_in_kept:
            warn = (f"{len(result.burned_in_kept)} exported image(s) may show the patient's name or ID in their "
                    "pixels (burned-in text); check them before handing the set out")
            text += f"<br><span style='color:#b07d00'>⚠ {html.escape(warn)}</span>"
            details += [w for w in result.warnings if w.startswith("warning:")]
            self.window.notify(f"Teaching set written to {self.result_path}; {warn}", "\n".join(details), "warning")
        else:
            self.window.notify(f"Teaching set written to {self.result_path}", "\n".join(details) or None, "info")
        self.message.setText(text)
        self.show_button.show()
        self.open_page_button.show()
        self.fit_on_screen()
        self.exported.emit(str(self.result_path))

    def _finished(self) -> None:
        self.export_button.setEnabled(True)
        self.close_button.setEnabled(True)

    def _exported(self, path) -> None:
        if not isinstance(path, str | Path):
            return self._teaching_done(path)
        self.result_path = Path(path)
        self.message.setText(f"<b>Done.</b> Wrote {html.escape(str(path))}")
        self.show_button.show()
        warnings = getattr(self, "warnings", [])
        burned = [w for w in warnings if "may show the patient's name" in w]
        texts = []
        if burned:  # decision 0117: pixels may carry a name that no tag filter removes
            texts.append(f"{len(burned)} exported image(s) may show the patient's name or ID in their pixels "
                         "(burned-in text); check them before sharing")
        texts += [w.removeprefix("warning: ") for w in warnings if w not in burned]
        if texts:
            self.message.setText(f"<b>Done.</b> Wrote {html.escape(str(path))}" + "".join(
                f"<br><span style='color:#b07d00'>⚠ {html.escape(t)}</span>" for t in texts))
            self.window.notify(f"Exported to {path}; {texts[0]}", "\n".join(warnings), "warning")
        else:
            self.window.notify(f"Exported to {path}", None, "info")
        self.exported.emit(str(path))
