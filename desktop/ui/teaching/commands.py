"""Undo commands for teaching cases, pushed on the folder's undo stack (the box editor's, so the
Edit menu names every step and Ctrl+Z undoes in the order things were done). One command per
field edit; typing in one field merges into one command until the field loses focus, as a text
editor's undo does (decision 0144)."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

TYPING_MERGE_ID = 4401


class SetCaseField(QUndoCommand):
    """`before`/`after` are what the field's editor shows (list fields: their raw text, so undo
    puts back exactly what was typed); the store gets the cleaned value."""

    def __init__(self, panel, case_id: int, field: str, before, after, session: int | None = None,
                 text: str | None = None):
        from desktop.core.teaching.cases import FIELD_NAMES

        super().__init__(text or f"Edit case {FIELD_NAMES[field]}")
        self.panel, self.case_id, self.field = panel, case_id, field
        self.before, self.after, self.session = before, after, session
        self._from_editor = True  # the first redo: the editor already shows `after`

    def id(self) -> int:
        return TYPING_MERGE_ID if self.session is not None else -1

    def mergeWith(self, other) -> bool:
        if not (isinstance(other, SetCaseField) and other.case_id == self.case_id and other.field == self.field
                and other.session == self.session and other.before == self.after):
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        self.panel.write_field(self.case_id, self.field, self.after, show=not self._from_editor)
        self._from_editor = False

    def undo(self) -> None:
        self.panel.write_field(self.case_id, self.field, self.before, show=True)


class CreateCase(QUndoCommand):
    """Pushed once the case exists (its creation can fail with a message before anything is on
    the stack); undo flags it deleted, redo brings the same case back."""

    def __init__(self, panel, case_id: int, text: str):
        super().__init__(text)
        self.panel, self.case_id = panel, case_id

    def redo(self) -> None:
        self.panel.book.set_deleted(self.case_id, False)
        self.panel.cases_changed(select=self.case_id)

    def undo(self) -> None:
        self.panel.book.set_deleted(self.case_id, True)
        self.panel.cases_changed()


class DeleteCase(QUndoCommand):
    def __init__(self, panel, case_id: int, name: str):
        super().__init__(f"Delete case {name}")
        self.panel, self.case_id = panel, case_id

    def redo(self) -> None:
        self.panel.book.set_deleted(self.case_id, True)
        self.panel.cases_changed()

    def undo(self) -> None:
        self.panel.book.set_deleted(self.case_id, False)
        self.panel.cases_changed(select=self.case_id)


class SetCaseImages(QUndoCommand):
    def __init__(self, panel, case_id: int, before: list[int], after: list[int], text: str):
        super().__init__(text)
        self.panel, self.case_id, self.before, self.after = panel, case_id, before, after

    def redo(self) -> None:
        self.panel.write_images(self.case_id, self.after)

    def undo(self) -> None:
        self.panel.write_images(self.case_id, self.before)
