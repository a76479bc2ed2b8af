"""Undo commands of assisted annotation: a refinement (one or many boxes of one image, one step) and
a box made from a mask (click-to-box). Both keep the box's provenance: `refined_by` names the
segmentation model (decision 0125); undo puts back exactly the box there was (x, y, w, h, state,
refined_by)."""

from __future__ import annotations

from desktop.ui.editor.commands import AddBoxes, ChangeBoxes, drawn_box, snapshot


class RefineBoxes(ChangeBoxes):
    """Boxes snapped to their masks' extents. `quiet` (a folder run's result for an image that is not
    on screen): the first redo writes without showing that image; undo and redo later show it, as
    every other command does."""

    def __init__(self, editor, image_id: int, boxes, refined: dict[int, tuple], model: str, text: str,
                 quiet: bool = False):
        before = {b.id: snapshot(b) for b in boxes if b.id in refined}
        after = {i: {**dict(zip("xywh", rect)), "refined_by": model} for i, rect in refined.items() if i in before}
        super().__init__(editor, image_id, before, after, text)
        self.model = model
        self._quiet = quiet

    def redo(self) -> None:
        editor = self.editor
        if not self._quiet or self.image_id == editor.image_id:
            self._quiet = False
            super().redo()
            return
        self._quiet = False  # later redos show the image, as the other commands do
        store = editor.store
        with store.batch(queue=True):
            self.mark_started()
            for i, fields in self.after.items():
                store.update_box(i, **fields)
        if not store.pending:
            self._done = {i: snapshot(store.box(i)) for i in self.after}


class AddSegmentedBox(AddBoxes):
    """A box made from the mask of the clicked points (Enter in assist mode): a person's box whose
    outline `model` drew."""

    def __init__(self, editor, image_id: int, spec, model: str, text: str):
        super().__init__(editor, image_id, [spec], text)
        self.model = model

    def redo(self) -> None:
        store = self.editor.store
        if self.ids:
            super().redo()
            return
        with store.batch(queue=True):
            self.mark_started()
            s = self.specs[0]
            self.ids = [store.add_box(self.image_id, s.category, s.x, s.y, s.w, s.h, refined_by=self.model)]
        from dataclasses import replace

        added = {self.ids[0]: replace(drawn_box(self.ids[0], self.image_id, self.specs[0]), refined_by=self.model)}
        self.editor.after_change(self.image_id, select=self.ids, added=added)
