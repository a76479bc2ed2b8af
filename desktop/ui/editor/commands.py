"""Undo commands. Each redo/undo is one store transaction (bulk ones too), then the canvas is
brought in line with the store. Box ids stay stable: undoing an add flags the box deleted and
redoing it restores the same row."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QUndoCommand


@dataclass
class BoxSpec:
    category: str
    x: float
    y: float
    w: float
    h: float


class BoxCommand(QUndoCommand):
    """A change of boxes on one image. The first edit of an unreviewed image marks it
    "in_progress" in the same transaction; undo puts the status it had back."""

    def __init__(self, editor, image_id: int, text: str):
        super().__init__(text)
        self.editor, self.image_id = editor, image_id
        self.status_before: str | None = None

    def mark_started(self) -> None:
        if self.status_before is None:
            self.status_before = self.editor.review_status_of(self.image_id)
        if self.status_before == "unreviewed":
            self.editor.write_review_status(self.image_id, "in_progress")

    def restore_status(self) -> None:
        if self.status_before == "unreviewed":
            self.editor.write_review_status(self.image_id, "unreviewed")


class AddBoxes(BoxCommand):
    def __init__(self, editor, image_id: int, specs: list[BoxSpec], text: str):
        super().__init__(editor, image_id, text)
        self.specs = specs
        self.ids: list[int] = []

    def redo(self) -> None:
        store = self.editor.store
        with store.batch(queue=True):
            self.mark_started()
            if self.ids:
                for i in self.ids:
                    store.restore_box(i)
            else:
                self.ids = [store.add_box(self.image_id, s.category, s.x, s.y, s.w, s.h) for s in self.specs]
        self.editor.after_change(self.image_id, select=self.ids,
                                 added={i: drawn_box(i, self.image_id, s) for i, s in zip(self.ids, self.specs)})

    def undo(self) -> None:
        with self.editor.store.batch(queue=True):
            for i in self.ids:
                self.editor.store.delete_box(i)
            self.restore_status()
        self.editor.after_change(self.image_id, removed=self.ids)


def drawn_box(box_id: int, image_id: int, spec: BoxSpec):
    """The record a person's new box will have: shown at once, even while the write waits."""
    from desktop.core.store import Box

    return Box(box_id, image_id, 0, spec.category, spec.x, spec.y, spec.w, spec.h, "person", None, None,
               "drawn", False, False, 0.0, 0.0, None)


class DeleteBoxes(BoxCommand):
    def __init__(self, editor, image_id: int, boxes: list, text: str):
        super().__init__(editor, image_id, text)
        self.boxes = list(boxes)
        self.ids = [b.id for b in self.boxes]

    def redo(self) -> None:
        with self.editor.store.batch(queue=True):
            self.mark_started()
            for i in self.ids:
                self.editor.store.delete_box(i)
        self.editor.after_change(self.image_id, removed=self.ids)

    def undo(self) -> None:
        with self.editor.store.batch(queue=True):
            for i in self.ids:
                self.editor.store.restore_box(i)
            self.restore_status()
        self.editor.after_change(self.image_id, select=self.ids, added={b.id: b for b in self.boxes})


FIELDS = ("category", "x", "y", "w", "h", "state", "locked", "refined_by")


def snapshot(box) -> dict:
    """Every field an edit can change, so undo puts each back exactly ("" for no refined_by)."""
    return {"category": box.category, "x": box.x, "y": box.y, "w": box.w, "h": box.h, "state": box.state,
            "locked": box.locked, "refined_by": getattr(box, "refined_by", None) or ""}


class ChangeBoxes(BoxCommand):
    """Any change of boxes' fields: move, resize, nudge, relabel, lock, accept. `after` holds only
    the fields that change; the state a change implies (a moved prediction becomes "modified") is
    worked out by the store on the first redo and kept for the next ones."""

    def __init__(self, editor, image_id: int, before: dict[int, dict], after: dict[int, dict], text: str,
                 merge_id: int = -1):
        super().__init__(editor, image_id, text)
        self.before, self.after = before, after
        self._merge_id = merge_id
        self._done: dict[int, dict] | None = None

    def id(self) -> int:
        return self._merge_id

    def mergeWith(self, other) -> bool:  # consecutive nudges of the same boxes are one step
        if other.id() != self.id() or set(other.after) != set(self.after):
            return False
        self.after = other.after
        self._done = other._done
        return True

    def redo(self) -> None:
        store = self.editor.store
        with store.batch(queue=True):
            self.mark_started()
            for i, fields in (self._done or self.after).items():
                store.update_box(i, **fields)
        if self._done is None and not store.pending:
            self._done = {i: snapshot(store.box(i)) for i in self.after}
        self.editor.after_change(self.image_id, select=list(self.after), changed=self._done or self.after)

    def undo(self) -> None:
        with self.editor.store.batch(queue=True):
            for i, fields in self.before.items():
                self.editor.store.update_box(i, **fields)
            self.restore_status()
        self.editor.after_change(self.image_id, select=list(self.before), changed=self.before)


class SetReviewStatus(QUndoCommand):
    def __init__(self, editor, image_id: int, before: str, after: str, text: str):
        super().__init__(text)
        self.editor, self.image_id, self.before, self.after = editor, image_id, before, after

    def redo(self) -> None:
        self.editor.write_review_status(self.image_id, self.after)

    def undo(self) -> None:
        self.editor.write_review_status(self.image_id, self.before)
