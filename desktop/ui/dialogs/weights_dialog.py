"""Get weights… for one preset: where its file comes from (source page, file address, size and
checksum where published) and three ways in: Choose file… (checked by loading it, then copied into
the models folder), Open models folder, and Download (only when pressed; one GET, resumable,
checksum verified, loaded once, written atomically). The work is desktop.core.downloads' (no Qt),
run in a worker; `loupe weights get` does the same from the command line."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from desktop.core.downloads import (
    DownloadCancelled,
    WeightsSource,
    download_preset,
    install_file,
    install_folder,
    weights_source,
)
from desktop.jobs.core import JobCancelled
from desktop.jobs.runner import runner_for
from desktop.ui.dialogs.common import raise_dock, show_folder

WEIGHTS_FILTER = "Weights files (*.safetensors *.pth *.pt *.bin *.tar *.ckpt);;All files (*)"


def _link(url: str | None) -> str:
    if not url:
        return "—"
    u = html.escape(url)
    return f'<a href="{u}">{u}</a>'


class GetWeightsDialog(QDialog):
    installed = Signal(str)  # the path now in the models folder

    def __init__(self, window, source: WeightsSource, models_dir: Path, parent=None):
        super().__init__(parent or window)
        self.window = window
        self.source = source
        self.models_dir = Path(models_dir)
        self.jobs = runner_for(window)
        self.job = None
        self.setWindowTitle(f"Get weights — {source.preset}")
        self.setMinimumWidth(560)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.file_label = QLabel(f"<b>{html.escape(source.file)}</b>" + (" (a folder)" if source.is_folder else ""))
        form.addRow("Folder" if source.is_folder else "File", self.file_label)
        self.page_label = self._wrapping(_link(source.page), links=True)
        form.addRow("Source page", self.page_label)
        if source.is_folder:
            urls = source.file_urls()
            base = urls[0][1][: -len(urls[0][0])] if urls else ""
            files = html.escape(", ".join(source.files)) + (f"<br>from {html.escape(base)}" if base else "")
            self.files_label = self._wrapping(files, selectable=True)
            form.addRow("Files", self.files_label)
        elif source.downloadable:
            form.addRow("File address", self._wrapping(html.escape(source.url or ""), selectable=True))
            form.addRow("Size", QLabel(source.size_text()))
            form.addRow("Checksum", self._wrapping(html.escape(source.checksum_text()), selectable=True))
        self.folder_label = self._wrapping(html.escape(str(self.models_dir)), selectable=True)
        form.addRow("Models folder", self.folder_label)
        self.state_label = QLabel()
        form.addRow("Status", self.state_label)
        lay.addLayout(form)
        self.note = self._wrapping(html.escape(source.note))
        self.note.setVisible(bool(source.note))
        lay.addWidget(self.note)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.hide()
        lay.addWidget(self.progress)
        self.message = self._wrapping("")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.message)

        row = QHBoxLayout()
        self.download_button = QPushButton("Download")
        self.download_button.setToolTip(("Download these files now" if source.is_folder else "Download this file now")
                                        + " (the only time Loupe uses the network)")
        self.download_button.clicked.connect(self.download)
        self.download_button.setVisible(source.downloadable)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.choose_button = QPushButton("Choose folder…" if source.is_folder else "Choose file…")
        self.choose_button.setToolTip(f"Use a weights {'folder' if source.is_folder else 'file'} you already have: "
                                      "it is checked by loading it, then copied into the models folder")
        self.choose_button.clicked.connect(lambda: self.choose_file())
        self.folder_button = QPushButton("Open models folder")
        self.folder_button.clicked.connect(lambda: show_folder(self.models_dir))
        for b in (self.download_button, self.cancel_button, self.choose_button, self.folder_button):
            b.setAutoDefault(False)  # Enter never downloads: only a press of the button does
            row.addWidget(b)
        if not source.downloadable:
            self.train_button = QPushButton("Train one…")
            self.train_button.setToolTip("Show the Training dock")
            self.train_button.clicked.connect(self._show_training)
            self.train_button.setAutoDefault(False)
            row.addWidget(self.train_button)
        row.addStretch(1)
        lay.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Close).setDefault(True)
        lay.addWidget(buttons)
        self._update_state()

    @staticmethod
    def _wrapping(text: str, links: bool = False, selectable: bool = False) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        if links:
            label.setOpenExternalLinks(True)
        if selectable:
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _update_state(self) -> None:
        missing = self.source.missing_files(self.models_dir)
        present = not missing
        if present:
            self.state_label.setText("in the models folder")
        elif self.source.is_folder and len(missing) < len(self.source.files):
            self.state_label.setText(f"incomplete: the folder lacks {', '.join(missing)}")
        else:
            self.state_label.setText("missing")
        self.download_button.setText("Download again" if present else "Download")

    def _show_training(self) -> None:
        raise_dock(self.window, "Training")
        self.accept()

    def _busy(self, busy: bool) -> None:
        self.download_button.setEnabled(not busy)
        self.choose_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy and self.job is not None and getattr(self.job, "downloading", False))

    # -- the three ways in -------------------------------------------------------------------------
    def download(self, url: str | None = None):
        src, folder = self.source, self.models_dir
        self.progress.setValue(0)
        self.progress.setFormat("connecting…")
        self.progress.show()
        self.message.setText(f"Downloading {html.escape(src.file)}…")

        def run(ctx):
            def progress(done, total):
                ctx.progress(done, total or 0, "")

            try:
                return download_preset(src, folder, url=url, progress=progress, cancelled=ctx.cancelled)
            except DownloadCancelled as exc:  # the user's cancel, not an error to report
                raise JobCancelled() from exc

        self.job = self.jobs.submit(run, name=f"Downloading {src.file}", device=None, heavy=False)
        self.job.downloading = True
        self.job.progress.connect(self._progress)
        self.job.result.connect(lambda got: self._done(got.path, "Downloaded and checked"))
        self.job.error.connect(lambda text, _details: self._failed(text))
        self.job.cancelled.connect(lambda: self._failed("Download cancelled; pressing Download again resumes it."))
        self._busy(True)
        return self.job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def reject(self) -> None:
        """Closing the dialog stops a download (what arrived is kept, so the next press resumes)."""
        if self.job is not None and getattr(self.job, "downloading", False):
            self.job.cancel()
        super().reject()

    def choose_file(self, path: str | None = None):
        is_folder = self.source.is_folder
        if path is None and is_folder:
            path = QFileDialog.getExistingDirectory(self, f"Weights folder for {self.source.preset}", str(Path.home()))
        elif path is None:
            path, _ = QFileDialog.getOpenFileName(self, f"Weights file for {self.source.preset}", str(Path.home()),
                                                  WEIGHTS_FILTER)
        if not path:
            return None
        preset, folder = self.source.preset, self.models_dir
        install = install_folder if is_folder else install_file
        self.progress.setRange(0, 0)
        self.progress.show()
        self.message.setText(f"Checking {html.escape(Path(path).name)} by loading it…")
        self.job = self.jobs.submit(lambda _ctx: install(preset, path, folder),
                                    name=f"Checking {Path(path).name}", device=None, heavy=False)
        self.job.result.connect(lambda p: self._done(p, "Checked and copied"))
        self.job.error.connect(lambda text, _details: self._failed(text))
        self._busy(True)
        return self.job

    # -- results -------------------------------------------------------------------------------------
    def _progress(self, p) -> None:
        if p.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(p.done * 1000 / p.total))
            self.progress.setFormat(f"{p.done / 1e6:,.1f} of {p.total / 1e6:,.1f} MB")
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(f"{p.done / 1e6:,.1f} MB")

    def _done(self, path, verb: str) -> None:
        self.job = None
        self._busy(False)
        self.progress.hide()
        self.progress.setRange(0, 1000)
        self.message.setText(f"{verb}: {html.escape(str(path))}. {html.escape(self.source.preset)} is ready to use.")
        self._update_state()
        self.installed.emit(str(path))

    def _failed(self, text: str) -> None:
        self.job = None
        self._busy(False)
        self.progress.hide()
        self.progress.setRange(0, 1000)
        self.message.setText(f"<span style='color:#c0392b'>{html.escape(text)}</span>")


def open_get_weights(window, preset: str, models_dir: Path | None = None, on_installed=None) -> GetWeightsDialog:
    """The Get weights… dialog of `preset` (non-modal). The Models dock and the training panel (base
    weights) call this; `on_installed(path)` runs when a file has been put in the models folder."""
    if models_dir is None:
        from desktop.ui.model_panel.panel import models_dir as panel_models_dir

        models_dir = panel_models_dir(getattr(window, "settings", None))
    dialogs = window.__dict__.setdefault("_weights_dialogs", {})
    dialog = dialogs.get((preset, str(models_dir)))
    if dialog is None:  # one per preset: a running download keeps its dialog
        dialog = dialogs[(preset, str(models_dir))] = GetWeightsDialog(window, weights_source(preset), models_dir)
    if on_installed is not None:
        previous = getattr(dialog, "_on_installed", None)
        if previous is not None:
            dialog.installed.disconnect(previous)
        dialog._on_installed = on_installed
        dialog.installed.connect(on_installed)
    dialog._update_state()
    dialog.show()
    dialog.raise_()
    return dialog
