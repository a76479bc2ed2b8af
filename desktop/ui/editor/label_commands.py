"""Undo commands for the label set. The edit itself runs once before the command is pushed (so a
refusal, e.g. deleting a category that still has boxes, pushes nothing); undo and redo put back a
snapshot of the label set (`store.category_state`), each in one transaction (decision 0026)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtGui import QUndoCommand


class CategoryEdit(QUndoCommand):
    def __init__(self, editor, text: str, edit: Callable, affected: Iterable[int] = ()):
        super().__init__(text)
        self.editor, self.edit = editor, edit
        self.affected = {int(i) for i in affected}
        self.before = self.after = None
        self.result = None
        self._first = True

    def run(self):
        """Do the edit (one store transaction); raises the store's error, and then nothing changed."""
        store = self.editor.store
        self.before = store.category_state(self.affected)
        self.result = self.edit(store)
        self.affected |= {c.id for c in store.categories()} - self.before.ids  # categories it created
        return self.result

    def redo(self) -> None:
        if self._first:  # done by run() just before the push
            self._first = False
        else:
            self._restore(self.after)
        self.editor.labels_edited()

    def undo(self) -> None:
        # taken now, not after run(): boxes that others (a model run) added meanwhile come back on redo
        self.after = self.editor.store.category_state(self.affected)
        self._restore(self.before)
        self.editor.labels_edited()

    def _restore(self, state) -> None:
        """Label-set writes are not queued (decision 0026): a store that refuses says so."""
        from models.errors import LoupeError

        try:
            self.editor.store.restore_category_state(state, self.affected)
        except LoupeError as exc:
            self.editor.window.notify(f"Could not {'undo' if state is self.before else 'redo'} "
                                      f"{self.text()}", str(exc), "error")


def push_category_edit(editor, text: str, edit: Callable, affected: Iterable[int] = ()):
    """Run `edit(store)` and put it on the editor's undo stack; a refusal is shown, not pushed.
    Returns the edit's result, or None when it was refused."""
    from models.errors import LoupeError

    if editor.store is None:
        return None
    command = CategoryEdit(editor, text, edit, affected)
    try:
        result = command.run()
    except LoupeError as exc:
        editor.window.notify(str(exc), level="warning")
        return None
    editor.undo_stack.push(command)
    return result
