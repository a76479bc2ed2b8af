"""File > Import annotations…: choose a file (or a folder of YOLO/VOC files), the format is told
from it (and can be changed), a preview says what the import will do before anything is written,
then the import runs as a job, in one transaction, with a progress bar (images and boxes checked,
boxes written) and Cancel, which keeps nothing of it. The report of problems (file, place,
reason) can be copied or saved. The work is desktop.core.exchange's, the same as `loupe import`."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from desktop.core.exchange import IMPORT_FORMATS, detect_format, import_annotations, preview_import
from desktop.core.exchange.preview import FORMAT_NAMES
from desktop.jobs.runner import runner_for
from desktop.ui.dialogs.common import JobProgress, ReportView, edits_saved_first, job_progress, window_store

FILE_FILTER = ("Annotation files (*.json *.csv *.xml *.txt);;COCO (*.json);;NIH CSV (*.csv);;"
               "Pascal VOC (*.xml);;YOLO (*.txt);;All files (*)")


def label_mapping_supported() -> bool:
    """Whether this build's import can rename labels (`label_map`, desktop.core.exchange.authors_csv)."""
    import inspect

    return "label_map" in inspect.signature(preview_import).parameters


def parse_mapping(text: str) -> dict[str, str]:
    """'Mass=Nodule/Mass; Nodule=Nodule/Mass' (or one per line, or commas) -> {OLD: NEW}, through the
    core's own parser, so the dialog accepts what `loupe import --map` accepts."""
    from desktop.core.exchange.authors_csv import parse_label_map

    entries = [e.strip() for e in text.replace("\n", ";").replace(",", ";").split(";") if e.strip()]
    return parse_label_map(entries) if entries else {}


def _with_store(folder: Path, fn):
    """Run `fn(store)` on a connection of its own (the editor's stays free for edits)."""
    from desktop.core.store import open_store
    from desktop.core.store.errors import StoreError

    with open_store(folder) as store:
        if getattr(store, "read_only", False):
            raise StoreError(f"{folder} is read-only: its annotations cannot be changed, so nothing can be "
                             "imported into it")
        return fn(store)


class ImportDialog(QDialog):
    imported = Signal(object)  # the ImportReport

    def __init__(self, window, parent=None):
        super().__init__(parent or window)
        self.window = window
        self.folder = Path(window.folder)
        self.jobs = runner_for(window)
        self.preview = None
        self.job = None
        self._read_path = ""  # the path the current preview read
        self.setWindowTitle("Import annotations")
        self.setMinimumWidth(760)
        lay = QVBoxLayout(self)
        intro = QLabel(f"Into the annotations of <b>{html.escape(str(self.folder))}</b>")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("a COCO or COCO results .json, BBox_List_2017.csv, a VOC .xml, YOLO labels")
        self.path_edit.editingFinished.connect(self._path_edited)
        file_button = QPushButton("Choose file…")
        file_button.clicked.connect(self._choose_file)
        folder_button = QPushButton("Choose folder…")
        folder_button.setToolTip("A folder of YOLO .txt label files (with classes.txt) or of VOC .xml files")
        folder_button.clicked.connect(self._choose_folder)
        row.addWidget(self.path_edit, 1)
        row.addWidget(file_button)
        row.addWidget(folder_button)
        form.addRow("File", row)
        self.format_box = QComboBox()
        self.format_box.addItem("Detect from the file", None)
        for fmt in IMPORT_FORMATS:
            self.format_box.addItem(FORMAT_NAMES.get(fmt, fmt), fmt)
        self.format_box.currentIndexChanged.connect(lambda _i: self.refresh())
        form.addRow("Format", self.format_box)
        self.mapping_edit = None
        if label_mapping_supported():
            row = QHBoxLayout()
            self.mapping_edit = QLineEdit()
            self.mapping_edit.setPlaceholderText("optional: OLD=NEW; OLD=NEW (a label of the file, the label to store)")
            self.mapping_edit.editingFinished.connect(self._mapping_edited)
            nih = QPushButton("NIH → EfficientDet classes")
            nih.setToolTip("Mass and Nodule become Nodule/Mass, the chest X-ray EfficientDet's class")
            nih.clicked.connect(self._nih_mapping)
            row.addWidget(self.mapping_edit, 1)
            row.addWidget(nih)
            form.addRow("Rename labels", row)
        self._read_mapping = ""
        lay.addLayout(form)

        self.summary = QLabel("Choose the file to import.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.summary)
        self.report = ReportView("Problems (file, place, reason)")
        lay.addWidget(self.report, 1)
        self.skip_bad = QCheckBox("Import the good boxes and leave out the ones with problems")
        self.skip_bad.toggled.connect(lambda _on: self._enable_import())
        self.skip_bad.hide()
        lay.addWidget(self.skip_bad)
        self.progress = JobProgress(self)
        lay.addWidget(self.progress)
        self.buttons = QDialogButtonBox()
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.run_import)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.clicked.connect(self.reject)
        lay.addWidget(self.buttons)

    # -- choosing ----------------------------------------------------------------------------------
    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import annotations", str(self.folder), FILE_FILTER)
        if path:
            self.set_path(path)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder of YOLO or VOC files", str(self.folder))
        if path:
            self.set_path(path)

    def _path_edited(self) -> None:
        # editingFinished also fires when the field loses focus, e.g. to the Import button being
        # pressed: only a changed path is read again (else the press would find Import disabled)
        text = self.path_edit.text().strip()
        if text and text != self._read_path:
            self.set_path(text)

    def set_path(self, path: str, fmt: str | None = None) -> None:
        self.path_edit.setText(str(path))
        if fmt is not None:
            self.format_box.blockSignals(True)
            self.format_box.setCurrentIndex(max(0, self.format_box.findData(fmt)))
            self.format_box.blockSignals(False)
        self.refresh()

    def _mapping_edited(self) -> None:
        if self.mapping_edit is not None and self.mapping_edit.text().strip() != self._read_mapping:
            self.refresh()

    def _nih_mapping(self) -> None:
        from desktop.core.exchange.authors_csv import NIH_TO_AUTHORS

        self.mapping_edit.setText("; ".join(f"{k}={v}" for k, v in NIH_TO_AUTHORS.items()))
        self.refresh()

    def label_map(self) -> dict[str, str] | None:
        """The renames asked for (None when none, or when this build cannot rename)."""
        if self.mapping_edit is None:
            return None
        return parse_mapping(self.mapping_edit.text()) or None

    def chosen_format(self) -> str:
        """The format picked, or the one told from the file (ExchangeError when it cannot be told)."""
        return self.format_box.currentData() or detect_format(self.path_edit.text().strip())

    # -- preview -----------------------------------------------------------------------------------
    def refresh(self):
        """Preview the import (nothing is written) in a worker; returns its job."""
        from models.errors import LoupeError

        self.preview = None
        self.import_button.setEnabled(False)
        self.report.set_lines([])
        self.skip_bad.hide()
        path = self.path_edit.text().strip()
        self._read_path = path
        self._read_mapping = self.mapping_edit.text().strip() if self.mapping_edit is not None else ""
        if not path:
            return None
        try:
            fmt = self.chosen_format()
            mapping = self.label_map()
        except LoupeError as exc:
            self._show_error(str(exc))
            return None
        kw = {"label_map": mapping} if mapping else {}
        self.preview_map = kw
        self.summary.setText(f"Reading {html.escape(Path(path).name)} as {html.escape(FORMAT_NAMES.get(fmt, fmt))}…")
        folder = self.folder
        self.job = self.jobs.submit(
            lambda ctx: _with_store(folder, lambda s: preview_import(s, path, fmt, progress=job_progress(ctx), **kw)),
            name=f"Reading {Path(path).name}", device=None, heavy=False)
        self.job.result.connect(lambda p, f=fmt: self._previewed(p, f))
        self.job.error.connect(lambda text, _d: self._show_error(text))
        self.job.cancelled.connect(lambda: self.summary.setText("Stopped reading the file; nothing was imported."))
        self._busy(self.job, "Checking what the import would do", "Stop reading the file (nothing is written)")
        return self.job

    def _previewed(self, preview, fmt: str) -> None:
        self.preview = preview
        self.preview_format = fmt
        name = FORMAT_NAMES.get(fmt, fmt)
        lines = [str(p) for p in preview.problems]
        self.report.set_lines(lines)
        text = f"<b>{html.escape(name)}</b>: {html.escape(preview.text())}."
        if lines:
            text += " With problems nothing is imported unless you tick the box below."
            self.skip_bad.setChecked(False)
            self.skip_bad.show()
        self.summary.setText(text)
        self._enable_import()

    def _enable_import(self) -> None:
        p = self.preview
        if p is None:
            self.import_button.setEnabled(False)
            return
        something = p.report.boxes_imported > 0 or p.report.images_touched > 0
        self.import_button.setEnabled(something and (not p.problems or self.skip_bad.isChecked()))

    def _show_error(self, text: str) -> None:
        self.summary.setText(f"<span style='color:#c0392b'>{html.escape(text)}</span>")

    def _busy(self, job, text: str, cancel_tip: str) -> None:
        """The bar follows `job` until it ends; Close waits for it (Cancel stops it)."""
        self.progress.follow(job, text, cancel_tip)
        self.close_button.setEnabled(False)
        job.finished.connect(lambda: self.close_button.setEnabled(True))

    # -- import ------------------------------------------------------------------------------------
    def run_import(self):
        if self.preview is None:
            return None
        path, fmt, folder, kw = self.path_edit.text().strip(), self.preview_format, self.folder, self.preview_map
        strict = not self.skip_bad.isChecked()
        waiting = window_store(self.window)

        def run(ctx):
            ctx.progress(0, 0, "waiting for the window's edits to be saved")
            edits_saved_first(waiting, "the import")  # edits waiting in memory go first
            return _with_store(folder, lambda s: import_annotations(s, path, fmt, strict=strict,
                                                                    progress=job_progress(ctx), **kw))

        self.import_button.setEnabled(False)
        self.job = self.jobs.submit(run, name=f"Importing {Path(path).name}", device=None, heavy=False)
        self.job.result.connect(self._imported)
        self.job.error.connect(lambda text, _d: self._import_failed(text))
        self.job.cancelled.connect(self._import_cancelled)
        self._busy(self.job, "Importing (one transaction)",
                   "Stop the import: it is one transaction, so nothing of it is kept")
        return self.job

    def _import_cancelled(self) -> None:
        self.summary.setText("<b>Import cancelled.</b> Nothing was imported: the import is one transaction, "
                             "and it was rolled back.")
        self._enable_import()

    def _import_failed(self, text: str) -> None:
        report = getattr(getattr(self.job, "outcome", None), "error", None)
        problems = getattr(getattr(report, "report", None), "problems", None)
        if problems:
            self.report.set_lines([str(p) for p in problems])
        self._show_error(text.splitlines()[0] if problems else text)

    def _imported(self, report) -> None:
        text = report.summary()
        self.summary.setText(f"<b>Done.</b> {html.escape(text)}")
        self.report.set_lines([str(p) for p in report.problems])
        editor = getattr(self.window, "box_editor", None)
        if editor is not None:
            if hasattr(editor, "reload"):
                editor.reload()
            image_list = getattr(self.window, "image_list", None)
            if image_list is not None and hasattr(image_list, "set_review_statuses"):
                image_list.set_review_statuses(editor.review_statuses())
            if hasattr(editor, "labels_changed"):
                editor.labels_changed.emit()
        self.window.notify(text, None, "info")
        self.imported.emit(report)
