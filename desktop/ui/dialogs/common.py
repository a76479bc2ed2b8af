"""Pieces the dialogs share: a read-only report with Copy and Save…, a job's progress bar with
its Cancel button, opening a folder in the system's file manager, and bringing a dock to the front."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

# How long an export or import waits, in its worker, for the window's edits that still wait to be
# saved (another program holding the lock); past that it refuses rather than miss them.
SAVE_WAIT_S = 10.0


def window_store(window):
    """The window's own store (the box editor's), or None."""
    editor = getattr(window, "box_editor", None)
    return getattr(editor, "store", None)


def edits_saved_first(store, what: str, timeout: float | None = None) -> None:
    """In a worker: wait until the window's waiting edits are on disk, so that `what` (an export,
    an import) sees them; raise StoreError saying so when they still wait. Never on the GUI thread."""
    from desktop.core.store.errors import StoreError

    if store is None or not store.pending:
        return
    if store.wait_saved(SAVE_WAIT_S if timeout is None else timeout):
        return
    n, reason = store.pending, store.pending_reason or "the annotation store is busy"
    raise StoreError(f"{n} edit(s) are still waiting to be saved ({reason}), and {what} would miss "
                     "them. Try again once the status bar no longer says edits are waiting.")


def show_folder(path: Path) -> bool:
    """Open `path` (a folder; a file's folder) in the file manager. Creates a missing folder."""
    path = Path(path)
    folder = path if path.is_dir() or not path.suffix else path.parent
    folder.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def raise_dock(window, title: str) -> bool:
    name = "dock_" + "".join(ch for ch in title if ch.isalnum())
    for dock in window.findChildren(QDockWidget):
        if dock.objectName() == name:
            dock.show()
            dock.raise_()
            return True
    return False


class ReportView(QWidget):
    """Lines of a report (file, place, reason) that can be copied or saved as a text file."""

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.title = QLabel(title)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the report to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save the report as a text file")
        self.save_button.clicked.connect(self.save)
        head.addWidget(self.title, 1)
        head.addWidget(self.copy_button)
        head.addWidget(self.save_button)
        lay.addLayout(head)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        lay.addWidget(self.text)
        self.set_lines([])

    def set_lines(self, lines: list[str]) -> None:
        self.text.setPlainText("\n".join(lines))
        self.setVisible(bool(lines))

    def plain(self) -> str:
        return self.text.toPlainText()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.plain() + "\n")

    def save(self, path: str | None = None) -> Path | None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Save report", str(Path.home() / "import-report.txt"),
                                                  "Text files (*.txt)")
        if not path:
            return None
        out = Path(path)
        out.write_text(self.plain() + "\n", encoding="utf-8")
        return out


def job_progress(ctx):
    """The `progress(done, total, stage)` an exchange function takes (desktop/core/exchange/
    progress.py), for a job: it raises JobCancelled once Cancel was pressed (an import then rolls
    back, an export removes what it wrote) and passes the counts on to the dialog."""
    last = [None]

    def progress(done: int, total: int, stage: str) -> None:
        ctx.check()
        ctx.progress(done, total, stage, force=stage != last[0])  # a new stage shows at once
        last[0] = stage

    return progress


class JobProgress(QWidget):
    """A job's progress: a determinate bar "Boxes written: 5,000 / 12,000" (a busy bar for a
    stage that cannot be counted) and Cancel, hidden when no job runs."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        lay.addWidget(self.bar, 1)
        lay.addWidget(self.cancel_button)
        self.job = None
        self.hide()

    def follow(self, job, text: str, cancel_tip: str) -> None:
        self.job = job
        self._set(0, 0, text)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setToolTip(cancel_tip)
        job.progress.connect(lambda p: self._set(p.done, p.total, p.message))
        job.finished.connect(self.hide)
        self.show()

    def _set(self, done: int, total: int, text: str) -> None:
        if not self.cancel_button.isEnabled():
            return  # "Cancelling…" stays until the job is done
        text = text[:1].upper() + text[1:]
        if total:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.bar.setFormat(f"{text}: {done:,} / {total:,}")
        else:
            self.bar.setRange(0, 0)
            self.bar.setFormat(f"{text}…" if not text.endswith("…") else text)

    def cancel(self) -> None:
        if self.job is not None and self.job.state != "done":
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.bar.setFormat("Cancelling…")
