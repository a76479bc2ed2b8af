"""What the window says about its annotation store, in the status bar: "N edits waiting to be
saved", a read-only folder (with "Edit a Copy…"), another Loupe on the same folder; and the view
refreshed when the store changes underneath it (another window, `loupe import`, our own saving
thread). Polls the store on a QTimer: PRAGMA data_version and the pending count are cheap reads.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QToolButton, QWidget

POLL_MS = 250
OTHERS_EVERY = 20  # polls between looks at the other windows (5 s)
RECOVERED_SHOWN_MS = 60_000


class StoreStatus(QObject):
    message = Signal(str)  # store messages, possibly sent from the saving thread

    def __init__(self, editor):
        super().__init__(editor)
        self.editor = editor
        window = editor.window
        self.widget = QWidget(window)
        layout = QHBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        self.waiting = QLabel(self.widget)
        self.waiting.setStyleSheet("color: #e0b050")
        self.read_only = QLabel(self.widget)
        self.read_only.setStyleSheet("color: #e0b050")
        self.copy_button = QToolButton(self.widget)
        self.copy_button.setText("Edit a Copy…")
        self.copy_button.setToolTip("Keep this read-only folder's annotations editable in a copy in your "
                                    "data folder (the folder itself is not changed)")
        self.copy_button.setAutoRaise(True)
        self.copy_button.clicked.connect(editor.edit_working_copy)
        self.others = QLabel(self.widget)
        self.others.setStyleSheet("color: #e0b050")
        self.recovered = QLabel(self.widget)  # edits put back from a recovery file, said for a minute
        self.recovered.setStyleSheet("color: #4fa3e0")
        self._recovered_timer = QTimer(self)
        self._recovered_timer.setSingleShot(True)
        self._recovered_timer.setInterval(RECOVERED_SHOWN_MS)
        self._recovered_timer.timeout.connect(self.recovered.hide)
        for w in (self.waiting, self.read_only, self.copy_button, self.others, self.recovered):
            layout.addWidget(w)
            w.hide()
        if hasattr(window, "statusBar"):
            window.statusBar().addPermanentWidget(self.widget)
        self._known_others: set[tuple[int, str]] = set()
        self._ticks = 0
        self._stale = False  # the store changed but the view was not refreshed yet
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)

    # -- a store opened or closed ------------------------------------------------------------------
    def attach(self, store) -> None:
        self._known_others = set()
        self._stale = False
        self.read_only.setVisible(store.read_only or store.is_working_copy)
        self.copy_button.setVisible(store.read_only)
        self.read_only.setText("Editing a copy: the folder is read-only" if store.is_working_copy
                               else "Read-only folder: annotations are shown, edits are not saved")
        self.read_only.setToolTip(store.note or "")
        self.update_waiting()
        self.look_for_others()
        if store.recovered:
            self.recovered.setText("Unsaved edits from last time were put back" if any(
                "were saved into" in m for m in store.recovered) else "Recovery file waiting")
            self.recovered.setToolTip("\n".join(store.recovered))
            self.recovered.show()
            self._recovered_timer.start()
        self.timer.start()

    def detach(self) -> None:
        self.timer.stop()
        for w in (self.waiting, self.read_only, self.copy_button, self.others, self.recovered):
            w.hide()

    # -- polling -----------------------------------------------------------------------------------
    def poll(self) -> None:
        store = self.editor.store
        if store is None:
            return
        self.update_waiting()
        if self.editor._register_later is not None and self._ticks % 4 == 0:
            self.editor.retry_registration()
        if store.changed_on_disk():
            self._stale = True
        if self._stale and not store.pending and not self._busy():
            self._stale = False
            self.editor.refresh_from_disk()
        self._ticks += 1
        if self._ticks % OTHERS_EVERY == 0:
            self.look_for_others()

    def update_waiting(self) -> None:
        store = self.editor.store
        n = store.pending if store is not None else 0
        if n:
            self.waiting.setText(f"{n} edit{'s' if n != 1 else ''} waiting to be saved")
            self.waiting.setToolTip(f"{store.pending_reason or 'the database is busy'}; Loupe keeps trying "
                                    f"in the background. {store.path}")
        self.waiting.setVisible(bool(n))

    def look_for_others(self) -> None:
        store = self.editor.store
        found = store.other_instances() if store is not None else []
        keys = {(i.pid, i.host) for i in found}
        if found:
            names = ", ".join(i.describe() for i in found)
            self.others.setText(f"Also open in another Loupe ({len(found)})")
            self.others.setToolTip(f"{names} has this folder open. Edits from every window are kept; "
                                   "this view refreshes when another window saves.")
            if keys - self._known_others:
                self.editor.window.notify(
                    f"Another Loupe has this folder open: {names}. Edits from both windows are kept, "
                    "and each view refreshes when the other saves", level="warning")
        self.others.setVisible(bool(found))
        self._known_others = keys

    def _busy(self) -> bool:
        """The user is in the middle of a drag or a drawing: refresh after it, not during it."""
        return QApplication.mouseButtons() != Qt.NoButton or bool(self.editor.drawing)
