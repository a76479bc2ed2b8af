"""Pieces the dialogs share: a read-only report with Copy and Save…, opening a folder in the
system's file manager, and bringing a dock to the front."""

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
