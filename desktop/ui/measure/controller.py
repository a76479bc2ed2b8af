"""The measurements of the current image: what the store holds, on the canvas (those of the frame
shown), the undo commands that change them, and the live text while one is drawn. Uses the box
editor's store, current image record and QUndoStack (`window.box_editor`)."""

from __future__ import annotations

import math
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.core.measure import measure
from desktop.core.store.measurements import Measurement
from desktop.ui.measure.commands import AddMeasurement, ChangeMeasurement, DeleteMeasurements
from desktop.ui.measure.items import MeasurementItem

LIVE_ROI_PIXELS = 1_500_000  # larger regions show their statistics once the drag ends


class MeasureController(QObject):
    changed = Signal()  # the current image's measurements changed (the list follows)
    tools_changed = Signal()  # a tool started or stopped (the menu's checks follow)

    def __init__(self, window, editor):
        super().__init__(window)
        self.window, self.editor = window, editor
        self.canvas = window.canvas
        self.shown: dict[int, Measurement] = {}
        self.items: dict[int, MeasurementItem] = {}
        window.current_image_changed.connect(self._image_changed)
        if hasattr(window, "view_area"):
            window.view_area.frame_changed.connect(lambda _f: self._rebuild_items())
        editor.store_opened.connect(lambda _s: self.reload())
        self.canvas.zoom_changed.connect(self._zoomed)
        if hasattr(editor, "store_refreshed"):
            editor.store_refreshed.connect(self.reload)
        from desktop.ui.measure.tools import MeasureInput

        self.input = MeasureInput(self)

    # ----- state ------------------------------------------------------------------------------------
    @property
    def store(self):
        return self.editor.store

    def ready(self) -> bool:
        """A store and the current image's record, writable (the editor says why not)."""
        if self.window.current_image() is None:
            self.window.notify("Open an image first: measurements are made on the image shown")
            return False
        return bool(self.editor._ready())

    def _image_changed(self, _path=None) -> None:
        self.input.cancel_drawing()
        self.reload()

    def reload(self) -> None:
        """Read the current image's measurements from the store."""
        store, image_id = self.store, self.editor.image_id
        self.shown = {m.id: m for m in store.measurements(image_id)} if store is not None and image_id is not None else {}
        self._rebuild_items()
        self.changed.emit()

    def _zoomed(self, scale: float) -> None:
        for item in self.items.values():
            item.set_view_scale(scale)
        if self.input.preview is not None:
            self.input.preview.set_view_scale(scale)

    def measurements(self) -> list[Measurement]:
        """The current image's measurements, every frame, in the order they were made."""
        return sorted(self.shown.values(), key=lambda m: (abs(m.id) if m.id < 0 else m.id, m.created))

    def _rebuild_items(self) -> None:
        scene = self.canvas.scene()
        keep = {i.measurement_id for i in self.selected_items()}
        for item in self.items.values():
            if item.scene() is not None:
                scene.removeItem(item)
        self.items = {}
        frame = self.window.current_frame()
        for m in self.measurements():
            if m.frame != frame:
                continue
            item = MeasurementItem(m.kind, m.points, m.text, m.id, self.canvas.scale_factor())
            item.on_edit = self._edited
            scene.addItem(item)
            item.setSelected(m.id in keep)
            self.items[m.id] = item

    def selected_items(self) -> list[MeasurementItem]:
        return [i for i in self.canvas.scene().selectedItems() if isinstance(i, MeasurementItem)]

    def select(self, measurement_id: int | None) -> None:
        if measurement_id is None:
            return
        real = self.store._rid(measurement_id) if self.store is not None else measurement_id
        self.canvas.scene().clearSelection()
        item = self.items.get(real) or self.items.get(measurement_id)
        if item is not None:
            item.setSelected(True)
            self.canvas.ensureVisible(item.boundingRect(), 20, 20)

    # ----- computing --------------------------------------------------------------------------------
    def result_for(self, kind: str, points) -> dict:
        return measure(self.window.current_image(), self.window.current_frame(), kind, points)

    def preview_text(self, kind: str, points) -> str:
        image = self.window.current_image()
        if image is None or len(points) < 2:
            return ""
        if kind in ("ellipse", "box"):
            (x0, y0), (x1, y1) = points[:2]
            if abs(x1 - x0) * abs(y1 - y0) > LIVE_ROI_PIXELS:
                return "…"
        if kind == "angle" and len(points) < 3:
            from desktop.core.measure import distance

            return distance(image.spacing, points[0], points[1]).text()
        try:
            return self.result_for(kind, points)["text"]
        except (ValueError, IndexError):
            return ""

    # ----- edits ------------------------------------------------------------------------------------
    def add(self, kind: str, points) -> None:
        if not self.ready():
            return
        if _degenerate(kind, points):
            self.window.notify("Too small to measure: drag further (Esc ends the tool)")
            return
        result = self.result_for(kind, points)
        self.editor.undo_stack.push(AddMeasurement(self, self.editor.image_id, kind, points,
                                                   self.window.current_frame(), result))

    def delete(self, ids) -> None:
        found = [self.shown[i] for i in ids if i in self.shown]
        if found and self.ready():
            self.editor.undo_stack.push(DeleteMeasurements(self, self.editor.image_id, found))

    def delete_selected(self) -> None:
        self.delete([i.measurement_id for i in self.selected_items()])

    def _edited(self, item, points, final: bool) -> str:
        """A handle (or the whole measurement) is being dragged: the live text; at the release the
        change becomes an undoable command."""
        image = self.window.current_image()
        if image is None:
            return ""
        w, h = image.size
        points = [[min(max(x, 0.0), float(w)), min(max(y, 0.0), float(h))] for x, y in points]
        if not final:
            return self.preview_text(item.kind, points)
        # called from the item's own mouse release: the canvas is rebuilt after the event, never
        # inside it (the item handling the event must not be deleted under it)
        before = self.shown.get(item.measurement_id)
        if before is None or _degenerate(item.kind, points) or not self.ready():
            QTimer.singleShot(0, self._rebuild_items)  # put it back as it was
            return ""
        after = replace(before, points=tuple(tuple(p) for p in points), result=self.result_for(item.kind, points))
        QTimer.singleShot(0, lambda: self.editor.undo_stack.push(ChangeMeasurement(self, before, after)))
        return after.text

    def after_change(self, image_id: int, added=None, removed=None, select=None, changed=None) -> None:
        """A command ran: show its image (undo of an edit on another image goes there), then what
        the store has now, or, while the write waits in memory, what the command did."""
        if image_id != self.editor.image_id:
            if not self.editor._go_to_image(image_id):
                return
        if self.store is not None and self.store.pending:
            for mid in removed or ():
                self.shown.pop(mid, None)
            for m in list(added or ()) + list(changed or ()):
                self.shown[m.id] = replace(m, deleted=False)
            self._rebuild_items()
            self.changed.emit()
        else:
            self.reload()
        self.select(select)


def _degenerate(kind: str, points) -> bool:
    (x0, y0), (x1, y1) = points[0], points[1]
    if kind == "line":
        return math.hypot(x1 - x0, y1 - y0) < 0.5
    if kind == "angle":
        (x2, y2) = points[2]
        return math.hypot(x1 - x0, y1 - y0) < 0.5 or math.hypot(x2 - x1, y2 - y1) < 0.5
    return abs(x1 - x0) < 1.0 or abs(y1 - y0) < 1.0


__all__ = ["MeasureController"]
