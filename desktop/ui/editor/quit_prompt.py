"""Closing the window while edits still wait to be saved: say how many, and let the user retry,
keep them in a recovery file beside the store (put back on the next open), or discard them
explicitly (decision 0111). Installed as an event filter on the window, so the window's own
closeEvent stays as it is."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QMessageBox

from desktop.ui.guard import guarded

RETRY_WAIT_S = 2.0
CLOSE_WAIT_S = 0.5  # a last short chance for the saving thread before asking

RETRY, RECOVERY, DISCARD = "Retry", "Save to Recovery File", "Discard Edits"


class QuitPrompt(QObject):
    def __init__(self, editor):
        super().__init__(editor)
        self.editor = editor
        editor.window.installEventFilter(self)

    @guarded("the check for unsaved edits on closing", False)
    def eventFilter(self, obj, event) -> bool:
        if obj is self.editor.window and event.type() == QEvent.Close:
            if not self.may_close():
                event.ignore()
                return True
        return False

    def may_close(self) -> bool:
        """True when nothing waits any more (saved, kept in a recovery file, or discarded)."""
        store = self.editor.store
        if store is None or not store.pending or store.wait_saved(CLOSE_WAIT_S):
            return True
        while store.pending:
            choice = self.ask(store)
            if choice == RETRY:
                if store.wait_saved(RETRY_WAIT_S):
                    return True
            elif choice == RECOVERY:
                from desktop.core.store import StoreWriteError

                try:
                    path = store.save_recovery()
                except StoreWriteError as exc:
                    QMessageBox.critical(self.editor.window, "Loupe", f"The edits are still waiting: {exc}")
                    continue
                self.editor.window.notify(f"Unsaved edits kept in {path}", level="warning")
                return True
            elif choice == DISCARD:
                store.discard_pending()
                return True
            else:
                return False  # Cancel: the window stays open, the edits keep waiting
        return True

    def ask(self, store) -> str | None:
        n = store.pending
        box = QMessageBox(self.editor.window)
        box.setIcon(QMessageBox.Warning)
        box.setWindowTitle("Unsaved edits")
        box.setText(f"{n} edit{'s are' if n != 1 else ' is'} not saved yet.")
        box.setInformativeText(
            f"Loupe could not save {'them' if n != 1 else 'it'}: {store.pending_reason or 'the database is busy'}.\n\n"
            f"Retry tries again now. Save to Recovery File keeps the edits in a file next to the annotations "
            f"({store.path.parent}); they are put back the next time this folder is opened. "
            f"Discard Edits throws them away.")
        buttons = {
            box.addButton(RETRY, QMessageBox.AcceptRole): RETRY,
            box.addButton(RECOVERY, QMessageBox.ActionRole): RECOVERY,
            box.addButton(DISCARD, QMessageBox.DestructiveRole): DISCARD,
        }
        cancel = box.addButton(QMessageBox.Cancel)
        box.setDefaultButton(next(b for b, v in buttons.items() if v == RECOVERY))
        box.setEscapeButton(cancel)
        box.exec()
        return buttons.get(box.clickedButton())
