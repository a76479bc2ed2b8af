"""Undo commands for the label set. The edit itself runs once before the command is pushed (so a
refusal, e.g. deleting a category that still has boxes, pushes nothing); undo and redo put back a
snapshot of the label set (`store.category_state`), each in one transaction (decision 0026). An undo
or redo the store refuses (a locked database) is said, and the stack is put back where the data is,
so the same Undo can be tried again once the store is free."""

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
        self._noop = False  # the next redo/undo is the stack stepping back over a refused one

    def run(self):
        """Do the edit (one store transaction); raises the store's error, and then nothing changed."""
        store = self.editor.store
        self.before = store.category_state(self.affected)
        self.result = self.edit(store)
        self.affected |= {c.id for c in store.categories()} - self.before.ids  # categories it created
        return self.result

    def redo(self) -> None:
        if self._first or self._noop:  # done by run() just before the push, or a step back
            self._first = self._noop = False
        elif not self._restore(self.after, "redo"):
            self._step_back(0)
        self.editor.labels_edited()

    def undo(self) -> None:
        if self._noop:
            self._noop = False
            return
        # taken now, not after run(): boxes that others (a model run) added meanwhile come back on redo
        self.after = self.editor.store.category_state(self.affected)
        if not self._restore(self.before, "undo"):
            self._step_back(1)
        self.editor.labels_edited()

    def _restore(self, state, verb: str) -> bool:
        """Label-set writes are not queued (decision 0026): a store that refuses says so."""
        from models.errors import LoupeError

        try:
            self.editor.store.restore_category_state(state, self.affected)
            return True
        except LoupeError as exc:
            self.editor.window.notify(f"Could not {verb} {self.text()}", str(exc), "error")
            return False

    def _step_back(self, offset: int) -> None:
        """The store refused: once the stack has finished this step, move its index back over this
        command (offset 1 after a refused undo, 0 after a refused redo) without touching the data."""
        from PySide6.QtCore import QTimer

        stack = self.editor.undo_stack

        def back():
            here = next((i for i in range(stack.count()) if stack.command(i) is self), None)
            if here is not None and stack.index() != here + offset:
                self._noop = True
                stack.setIndex(here + offset)
                self._noop = False

        QTimer.singleShot(0, back)


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
