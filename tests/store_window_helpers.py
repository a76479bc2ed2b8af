"""Helpers for the store's window tests: another program holding the write lock (a real
subprocess), another Loupe window (a subprocess with the store in the window's mode), and
answering a modal message box."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

_LOCKER = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
c.execute("ROLLBACK")
"""

_OTHER_WINDOW = """
import sys
from desktop.core.store import open_store
store = open_store(sys.argv[1])
store.start_background()
print("open", flush=True)
sys.stdin.readline()
store.close()
"""


def _env():
    root = str(Path(__file__).parent.parent)
    return dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))


class Held:
    """A subprocess that holds something until `release()`."""

    def __init__(self, script: str, arg, ready: str):
        self.proc = subprocess.Popen([sys.executable, "-c", script, str(arg)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=_env())
        line = self.proc.stdout.readline().strip()
        assert line == ready, f"the helper process said {line!r}"

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            self.proc.wait(20)


def hold_write_lock(db_path) -> Held:
    """Another program takes SQLite's exclusive write lock on the database and keeps it."""
    return Held(_LOCKER, db_path, "locked")


def other_loupe(folder) -> Held:
    return Held(_OTHER_WINDOW, folder, "open")


def answer_message_box(button_text: str, seen: list, delay_ms: int = 50) -> None:
    """When a modal QMessageBox shows, note its text and click the button named `button_text`."""

    def look():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(delay_ms, look)
            return
        seen.append((box.text(), box.informativeText(), [b.text() for b in box.buttons()]))
        target = next(b for b in box.buttons() if b.text().replace("&", "") == button_text)
        target.click()

    QTimer.singleShot(delay_ms, look)
