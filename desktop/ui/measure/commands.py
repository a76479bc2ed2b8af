"""Undo commands of the measurements, on the box editor's QUndoStack (one Edit ▸ Undo for every
edit of the folder). Deleting flags the row, so undoing a delete (or redoing an add) brings the
same measurement back."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from desktop.core.store.measurements import Measurement

KIND_NAMES = {"line": "ruler", "angle": "angle", "ellipse": "ellipse region", "box": "box region"}


class AddMeasurement(QUndoCommand):
    def __init__(self, controller, image_id: int, kind: str, points, frame: int, result: dict):
        first = str(result.get("text", "")).split("\n")[0]
        super().__init__(f"Measure {KIND_NAMES.get(kind, kind)} {first}".rstrip())
        self.controller, self.image_id = controller, image_id
        self.kind, self.points, self.frame, self.result = kind, [list(p) for p in points], int(frame), dict(result)
        self.measurement_id: int | None = None

    def record(self) -> Measurement:
        return Measurement(self.measurement_id, self.image_id, self.frame, self.kind,
                           tuple(tuple(p) for p in self.points), self.result)

    def redo(self) -> None:
        store = self.controller.store
        if self.measurement_id is None:
            self.measurement_id = store.add_measurement(self.image_id, self.kind, self.points, frame=self.frame,
                                                        result=self.result)
        else:
            store.restore_measurement(self.measurement_id)
        self.controller.after_change(self.image_id, added=[self.record()], select=self.measurement_id)

    def undo(self) -> None:
        self.controller.store.delete_measurement(self.measurement_id)
        self.controller.after_change(self.image_id, removed=[self.measurement_id])


class DeleteMeasurements(QUndoCommand):
    def __init__(self, controller, image_id: int, measurements: list[Measurement]):
        n = len(measurements)
        super().__init__(f"Delete {n} measurement{'s' if n != 1 else ''}")
        self.controller, self.image_id, self.measurements = controller, image_id, list(measurements)

    def redo(self) -> None:
        store = self.controller.store
        with store.batch(queue=True):
            for m in self.measurements:
                store.delete_measurement(m.id)
        self.controller.after_change(self.image_id, removed=[m.id for m in self.measurements])

    def undo(self) -> None:
        store = self.controller.store
        with store.batch(queue=True):
            for m in self.measurements:
                store.restore_measurement(m.id)
        self.controller.after_change(self.image_id, added=self.measurements)


class ChangeMeasurement(QUndoCommand):
    """A measurement's points moved (a handle or the whole of it dragged): the new result with them."""

    def __init__(self, controller, before: Measurement, after: Measurement):
        super().__init__(f"Move {KIND_NAMES.get(before.kind, before.kind)}")
        self.controller, self.before, self.after = controller, before, after

    def _apply(self, m: Measurement) -> None:
        self.controller.store.update_measurement(m.id, points=[list(p) for p in m.points], result=m.result)
        self.controller.after_change(m.image_id, changed=[m], select=m.id)

    def redo(self) -> None:
        self._apply(self.after)

    def undo(self) -> None:
        self._apply(self.before)
