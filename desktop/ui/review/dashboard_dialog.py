"""Models ▸ Corrections Dashboard…: how much each model's predictions were corrected in this
folder, with the plots of dashboard_chart.py and Save PNG… / Save CSV… (the same files as
`loupe corrections FOLDER --png F --csv F`)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.core.exchange.correction_stats import EMPTY_HINT, CorrectionStats, correction_stats, write_csv
from desktop.ui.guard import guarded
from desktop.ui.review.dashboard_chart import FAINT, PAPER, PNG_SIZE, paint_dashboard, save_png


class DashboardChart(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.stats = CorrectionStats()
        self.model: str | None = None
        self.setMinimumSize(560, 380)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(*PNG_SIZE) * 0.75

    @guarded("drawing the corrections chart")
    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        try:
            if self.stats.empty:  # what to do next is said above the chart, once
                painter.fillRect(self.rect(), PAPER)
                painter.setPen(FAINT)
                painter.drawText(self.rect(), Qt.AlignCenter, "Nothing to plot yet")
            else:
                paint_dashboard(painter, QRectF(self.rect()), self.stats, self.model)
        finally:
            painter.end()


class DashboardDialog(QDialog):
    counted = Signal()  # a count finished (its numbers are shown)

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.job = None
        self.counting = False
        self._again = False
        self.setWindowTitle("Corrections dashboard")
        self.model_box = QComboBox(self)
        self.model_box.setMinimumContentsLength(16)
        self.model_box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.model_box.currentIndexChanged.connect(self._model_changed)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.chart = DashboardChart(self)
        self.png_button = QPushButton("Save PNG…", self)
        self.png_button.clicked.connect(self.save_png)
        self.csv_button = QPushButton("Save CSV…", self)
        self.csv_button.clicked.connect(self.save_csv)
        refresh = QPushButton("Refresh", self)
        refresh.setToolTip("Count again (after more corrections)")
        refresh.clicked.connect(self.refresh)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.close)
        top = QHBoxLayout()
        top.addWidget(QLabel("Model", self))
        top.addWidget(self.model_box, 1)
        top.addWidget(refresh)
        bottom = QHBoxLayout()
        bottom.addWidget(self.png_button)
        bottom.addWidget(self.csv_button)
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.summary)
        lay.addWidget(self.chart, 1)
        lay.addLayout(bottom)
        self.refresh()

    def _store(self):
        editor = getattr(self.window_, "box_editor", None)
        return getattr(editor, "store", None)

    def refresh(self) -> None:
        """Count again, in a worker with its own read-only connection (a store of a million boxes
        takes seconds; the window goes on meanwhile)."""
        store = self._store()
        if store is None:
            self._show(CorrectionStats(), None)
            return
        if self.job is not None:
            self._again = True  # counted once the running count ends
            return
        path, folder = store.path, store.folder
        self.counting = True
        self.summary.setText("Counting the corrections…")
        for w in (self.model_box, self.png_button, self.csv_button):
            w.setEnabled(False)

        def count(_ctx):
            from desktop.core.store.store import AnnotationStore

            reader = AnnotationStore(path, folder=folder, read_only=True)
            try:
                return correction_stats(reader)
            finally:
                reader.close()

        from desktop.jobs.runner import runner_for

        self.job = runner_for(self.window_).submit(count, name="Counting corrections", device=None, heavy=False)
        self.job.result.connect(lambda stats: self._show(stats, folder))
        self.job.error.connect(lambda text, _details: self.summary.setText(f"The corrections could not be counted: {text}"))
        self.job.finished.connect(self._count_finished)

    def _count_finished(self) -> None:
        self.job = None
        self.counting = False
        if self._again:
            self._again = False
            self.refresh()
        self.counted.emit()

    def _show(self, stats: CorrectionStats, folder) -> None:
        store = self._store()
        self.chart.stats = stats
        keep = self.model_box.currentText()
        self.model_box.blockSignals(True)
        self.model_box.clear()
        self.model_box.addItems(stats.models)
        if keep in stats.models:
            self.model_box.setCurrentText(keep)
        self.model_box.blockSignals(False)
        self.chart.model = self.model_box.currentText() or None
        has = not stats.empty
        for w in (self.model_box, self.png_button, self.csv_button):
            w.setEnabled(has)
        if store is None:
            self.summary.setText("Open a folder first: corrections are counted in its annotations.")
        elif not has:
            self.summary.setText(EMPTY_HINT)
        else:
            n = len(stats.models)
            self.summary.setText(f"{n} model{'s' if n != 1 else ''} with predictions in {folder or store.folder}. "
                                 "A prediction counts under the class the model gave it; \"added\" are boxes "
                                 "people drew on images the model ran on.")
        self.chart.update()

    def _model_changed(self, _index: int) -> None:
        self.chart.model = self.model_box.currentText() or None
        self.chart.update()

    def _default_dir(self) -> str:
        folder = getattr(self.window_, "folder", None)
        return str(folder or Path.home())

    def save_png(self, path: str | None = None) -> str | None:
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Save the dashboard as PNG",
                                                  str(Path(self._default_dir()) / "corrections.png"), "PNG (*.png)")
        if not path:
            return None
        try:
            save_png(self.chart.stats, self.chart.model, path, PNG_SIZE)
        except Exception as exc:  # noqa: BLE001 - said in the window's terms
            self.window_.notify(f"The PNG could not be written: {exc}", None, "error")
            return None
        self.window_.notify(f"Saved the corrections dashboard to {path}", None, "info")
        return path

    def save_csv(self, path: str | None = None) -> str | None:
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Save the dashboard's numbers as CSV",
                                                  str(Path(self._default_dir()) / "corrections.csv"), "CSV (*.csv)")
        if not path:
            return None
        try:
            write_csv(self.chart.stats, path)
        except OSError as exc:
            self.window_.notify(f"The CSV could not be written: {path}: {exc.strerror or exc}", None, "error")
            return None
        self.window_.notify(f"Saved the corrections numbers to {path}", None, "info")
        return path


def open_dashboard(window) -> DashboardDialog:
    dialog = getattr(window, "_dashboard_dialog", None)
    if dialog is None:
        dialog = DashboardDialog(window)
        window._dashboard_dialog = dialog
        screen = window.screen().availableGeometry() if window.screen() is not None else None
        w, h = (980, 680) if screen is None else (min(980, screen.width() - 40), min(680, screen.height() - 60))
        dialog.resize(w, h)
    else:
        dialog.refresh()
    dialog.show()
    dialog.raise_()
    return dialog
