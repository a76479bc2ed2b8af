"""The box editor's controller: owns the folder's store, puts the current image's boxes on the
canvas, and turns every edit into an undo command (one store transaction each).

Other panels use it as `window.box_editor`: `.store`, `store_opened(object)`, `boxes_changed(str)`,
`.reload()`, `.set_prediction_filter(threshold, classes)`, `.selected_box()`, `.undo_stack`,
`.set_annotations_visible(bool)`, `.category_changed` / `labels_changed()` after a label-set edit;
for the image list: `review_status_changed(path, status)` and `.review_statuses()` (path -> status).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, QRectF, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QGraphicsItem

from desktop.ui.editor.box_item import BoxItem, BoxLayer, LabelOverlay
from desktop.ui.editor.commands import AddBoxes, BoxSpec, ChangeBoxes, DeleteBoxes, SetReviewStatus, snapshot
from desktop.ui.editor.geometry import clamp_rect, move_rect

NUDGE_MERGE_ID = 3001
LOD_MIN_BOXES, LOD_MAX_SCALE = 300, 0.5
DEFAULT_LABEL = "unlabelled"


class BoxEditor(QObject):
    store_opened = Signal(object)
    store_refreshed = Signal()  # the store changed underneath (another window or program)
    boxes_changed = Signal(str)
    review_status_changed = Signal(str, str)  # absolute image path, "unreviewed"/"in_progress"/"done"
    labels_changed = Signal()  # the label set (names, colours, keys, order) changed

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.canvas = window.canvas
        self.store = None
        self.image_id: int | None = None
        self.image_path: str | None = None
        self._size = (0, 0)
        self.items: dict[int, BoxItem] = {}
        self.layer: BoxLayer | None = None
        self.overlay: LabelOverlay | None = None
        self.hovered: BoxItem | None = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(0)  # no limit: a day's corrections can all be undone
        self.drawing = False
        self.current_category: str | None = None
        self.clipboard: list[BoxSpec] = []
        self._visible = True
        self._filter: tuple[float, set[str] | None] = (0.0, None)
        self._colors: dict[str, str] = {}
        self._statuses: dict[int, str] = {}  # statuses written by this editor (they may wait in memory)
        self._folder = ""
        self._register_later: str | None = None  # an image to record once the database is free
        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(2000)
        self._flush_timer.timeout.connect(self._flush)
        from desktop.ui.editor.quit_prompt import QuitPrompt
        from desktop.ui.editor.store_status import StoreStatus

        self.status = StoreStatus(self)
        self.status.message.connect(self._store_message)  # queued when sent from the saving thread
        self.quit_prompt = QuitPrompt(self)
        window.folder_opened.connect(self.open_folder)
        window.current_image_changed.connect(self.show_image)
        from PySide6.QtCore import QCoreApplication

        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close_store)  # saves what waits in memory, if it can
        if hasattr(self.canvas, "zoom_changed"):
            self.canvas.zoom_changed.connect(self.update_detail)

    # -- store and image ---------------------------------------------------------------------
    def open_folder(self, folder: str) -> None:
        from desktop.core.store import open_store
        from desktop.core.store.store import open_working_copy, working_copy_exists

        self.close_store()

        def opener():
            store = open_store(folder)
            if store.read_only and working_copy_exists(folder):  # Edit a Copy was chosen before
                store.close()
                return open_working_copy(folder)
            return store

        self._use_store(opener, folder)

    def edit_working_copy(self) -> None:
        """A read-only folder: keep editing in a copy of its store in the user's data directory."""
        from desktop.core.store.store import open_working_copy

        if self.store is None or not self.store.read_only:
            return
        folder = self._folder
        self.close_store()
        self._use_store(lambda: open_working_copy(folder), folder)

    def _use_store(self, opener, folder: str) -> None:
        from models.errors import LoupeError

        try:
            self.store = opener()
        except LoupeError as exc:
            self.window.notify(f"Annotations cannot be kept for {folder}", details=str(exc), level="error")
            return
        self._folder = str(folder)
        self.store.start_background()  # a lock held by another program never freezes the window
        self.store.add_listener(self.status.message.emit)
        if self.store.read_only:
            self.window.notify("This folder is read-only: its annotations are shown, but edits are not saved. "
                               "Edit a Copy… in the status bar keeps edits in a copy", details=self.store.note,
                               level="warning")
        elif self.store.note:
            self.window.notify(self.store.note, level="warning")
        for message in self.store.recovered:
            self.window.notify(message, level="info" if "were saved into" in message else "warning")
        self.status.attach(self.store)
        self.store_opened.emit(self.store)
        if self.window.current_path():
            self.show_image(self.window.current_path())

    def close_store(self) -> None:
        self.undo_stack.clear()
        self._statuses = {}
        self._clear_items()
        self.image_id = self.image_path = None
        self.status.detach()
        if self.store is not None:
            store, self.store = self.store, None
            message = store.close(wait=0.5)  # what still waits goes to a recovery file, said here
            if message:
                self.window.notify(message.split("; ")[0], details=message, level="warning")

    def refresh_from_disk(self) -> None:
        """Another window or program changed the store: show what is on disk now."""
        if self.store is None:
            return
        self._statuses = {}
        self.labels_edited()
        self.store_refreshed.emit()

    def retry_registration(self) -> None:
        """A new image could not be recorded (the database was locked): try again (the status
        timer calls this; each try waits at most the window's short busy timeout)."""
        waiting, self._register_later = self._register_later, None
        if waiting is not None and self.store is not None and waiting == self.image_path:
            self.show_image(waiting, quiet=True)

    def show_image(self, path: str, quiet: bool = False) -> None:
        self._register_later = None
        self._clear_items()
        self.image_id, self.image_path = None, path
        if getattr(self, "input", None) is not None:
            self.input.stop_drawing()
        self.drawing = False
        if self.store is None or not path:
            return
        rel = os.path.relpath(path, self.store.folder)
        size = self._image_size_now()
        if rel.startswith("..") or size is None:
            return
        from desktop.core.store import StoreReadOnlyError, StoreWriteError
        from models.errors import LoupeError

        try:
            self.image_id = self.store.ensure_image(rel, *size)
        except StoreReadOnlyError:
            return  # a read-only folder's image it never annotated: nothing to show (the notice says why)
        except StoreWriteError as exc:  # a new image while another program holds the lock: try again soon
            self._register_later = path
            if not quiet:
                self.window.notify(f"The annotations of {os.path.basename(path)} open once the database is free",
                                   str(exc), "warning")
            return
        except LoupeError as exc:
            self.window.notify(f"Cannot load the annotations of {os.path.basename(path)}", str(exc), "error")
            return
        self._size = size
        self._rebuild()

    def reload(self) -> None:
        """Re-read the current image's boxes from the store (after another panel wrote to it)."""
        if self.image_id is not None:
            keep = [i.box_id for i in self.selected_items()]
            self._rebuild()
            self._select(keep)

    def image_size(self) -> tuple[int, int]:
        return self._size

    def view_scale(self) -> float:
        return max(self.canvas.transform().m11(), 1e-6)

    def visible_scene_rect(self) -> QRectF:
        return self.canvas.mapToScene(self.canvas.viewport().rect()).boundingRect()

    def update_detail(self, *_args) -> None:
        """Level of detail: with many boxes and the image small on screen, the boxes stop painting
        themselves (they still take clicks) and the overlay draws all outlines in batches."""
        if self.overlay is None:
            return
        summary = len(self.items) > LOD_MIN_BOXES and self.view_scale() < LOD_MAX_SCALE
        self.overlay.summary = summary
        for item in self.items.values():
            item.setFlag(QGraphicsItem.ItemHasNoContents, summary)
        self.overlay.invalidate()

    def set_hovered(self, item) -> None:
        self.hovered = item
        self.overlay_changed()

    def overlay_changed(self) -> None:
        if self.overlay is not None:
            self.overlay.invalidate()

    def _image_size_now(self) -> tuple[int, int] | None:
        pixmap = self.canvas.image_item.pixmap()
        if not pixmap.isNull():
            return pixmap.width(), pixmap.height()
        image = self.window.current_image()
        if image is not None and getattr(image, "pixels", None) is not None:
            return int(image.pixels.shape[1]), int(image.pixels.shape[0])
        return None

    # -- items ---------------------------------------------------------------------------------
    def _clear_items(self) -> None:
        if self.layer is not None:
            self.canvas.scene().removeItem(self.layer)
        self.layer = self.overlay = self.hovered = None
        self.items = {}

    def _rebuild(self) -> None:
        self._clear_items()
        self.layer = BoxLayer()
        self.layer.setVisible(self._visible)
        self.overlay = LabelOverlay(self)
        self.overlay.set_bounds(*self._size)
        self.overlay.setParentItem(self.layer)
        self._colors = {c.name: c.color for c in self.store.categories()}
        for box in self.store.boxes(self.image_id):
            self.items[box.id] = BoxItem(box, self._colors.get(box.category, "#ffffff"), self, self.layer)
        self.canvas.scene().addItem(self.layer)
        self._apply_filter()
        self.update_detail()
        self.boxes_changed.emit(self.image_path or "")

    def after_change(self, image_id: int, select: list[int] | None = None, added=None, removed=None,
                     changed=None) -> None:
        """The store changed (a command ran): bring the canvas in line. While edits wait in memory
        (locked/full/read-only disk) the canvas shows what the command did, not the stale disk."""
        if image_id != self.image_id and not self._go_to_image(image_id):
            return
        if self.layer is None:
            return
        self._colors = {c.name: c.color for c in self.store.categories()}
        if self.store.pending:
            boxes = {i: it.box for i, it in self.items.items() if i not in set(removed or ())}
            boxes.update(added or {})
            for i, fields in (changed or {}).items():
                if i in boxes:
                    boxes[i] = replace(boxes[i], **fields)
        else:
            boxes = {b.id: b for b in self.store.boxes(image_id)}
        for box_id in list(self.items):
            if box_id not in boxes:
                item = self.items.pop(box_id)
                if item is self.hovered:
                    self.hovered = None
                self.canvas.scene().removeItem(item)
        for box_id, box in boxes.items():
            color = self._colors.get(box.category, "#ffffff")
            if box_id in self.items:
                self.items[box_id].set_box(box, color)
            else:
                self.items[box_id] = BoxItem(box, color, self, self.layer)
        self._apply_filter()
        self.update_detail()
        if select is not None:
            self._select([self.store._rid(i) for i in select])
        self.boxes_changed.emit(self.image_path or "")

    def _go_to_image(self, image_id: int) -> bool:
        """Undo/redo of a change on another image shows that image first, so the change is seen."""
        from models.errors import LoupeError

        try:
            path = self.store.folder / self.store.image(image_id).rel_path
        except LoupeError:
            return False
        if not path.exists():
            return False
        self.window.show_image(str(path))
        return image_id == self.image_id

    def labels_edited(self) -> None:
        """A label-set command ran: new names and colours on the canvas, the panels told."""
        if self.store is None:
            return
        names = {c.name for c in self.store.categories()}
        if self.current_category not in names:
            self.current_category = None
        self.reload()
        self.labels_changed.emit()

    # -- review status ---------------------------------------------------------------------------
    def review_status_of(self, image_id: int) -> str:
        """The image's review status, counting a change that still waits in memory."""
        return self._statuses.get(image_id) or self.store.review_status(image_id)

    def write_review_status(self, image_id: int, status: str) -> None:
        """Set the status (inside the running command's transaction) and tell the image list."""
        self.store.set_review_status(image_id, status)
        self._statuses[image_id] = status
        path = self._path_of(image_id)
        if path:
            self.review_status_changed.emit(path, status)
        if image_id == self.image_id:
            self.boxes_changed.emit(self.image_path or "")

    def review_statuses(self) -> dict[str, str]:
        """Every known image's review status by absolute path (for the image list)."""
        if self.store is None:
            return {}
        out = {iid: (rel, st) for iid, rel, st in self.store.conn.execute(
            "SELECT id, rel_path, review_status FROM images")}
        for iid, st in self._statuses.items():
            if iid in out:
                out[iid] = (out[iid][0], st)
        return {str(Path(self._folder) / rel): st for rel, st in out.values()}

    def _path_of(self, image_id: int) -> str | None:
        from models.errors import LoupeError

        try:
            return str(Path(self._folder) / self.store.image(image_id).rel_path)
        except LoupeError:
            return None

    def _select(self, ids) -> None:
        self.canvas.scene().clearSelection()
        for i in ids:
            if i in self.items and self.items[i].isVisible():
                self.items[i].setSelected(True)

    def selected_items(self) -> list[BoxItem]:
        return [i for i in self.canvas.scene().selectedItems() if isinstance(i, BoxItem)]

    def selected_box(self):
        """The first selected box as the store has it; while its write still waits (a provisional
        id the database does not know yet), as the canvas shows it."""
        from models.errors import LoupeError

        items = self.selected_items()
        if not items or self.store is None:
            return None
        try:
            return self.store.box(items[0].box_id)
        except LoupeError:
            return items[0].box

    # -- what other panels call ------------------------------------------------------------------
    def set_prediction_filter(self, threshold: float, classes: set[str] | None) -> None:
        self._filter = (float(threshold), None if classes is None else set(classes))
        self._apply_filter()

    def _apply_filter(self) -> None:
        threshold, classes = self._filter
        for item in self.items.values():
            b = item.box
            show = not b.is_prediction or ((b.score or 0.0) >= threshold and (classes is None or b.category in classes))
            item.setVisible(show)
            if not show:
                item.setSelected(False)
        self.overlay_changed()

    def set_annotations_visible(self, visible: bool) -> None:
        self._visible = bool(visible)
        if self.layer is not None:
            self.layer.setVisible(self._visible)
            if not visible:
                self.canvas.scene().clearSelection()

    @property
    def visible(self) -> bool:
        """Whether the boxes are shown (H toggles it)."""
        return self._visible

    def toggle_visible(self) -> None:
        self.set_annotations_visible(not self._visible)

    # -- edits -----------------------------------------------------------------------------------
    def _ready(self) -> bool:
        if self.store is not None and self.store.read_only:
            self.window.notify("This folder is read-only: edits are not saved. Use Edit a Copy… in the status "
                               "bar to edit a copy of its annotations", details=self.store.writer.read_only,
                               level="warning")
            return False
        return self.store is not None and self.image_id is not None

    def category_for_drawing(self) -> str:
        if self.current_category:
            return self.current_category
        cats = self.store.categories()
        return cats[0].name if cats else DEFAULT_LABEL

    def add_box(self, rect, category: str | None = None) -> None:
        if not self._ready():
            return
        w, h = self._size
        x, y, bw, bh = clamp_rect(*rect, w, h)
        spec = BoxSpec(category or self.category_for_drawing(), x, y, bw, bh)
        self.undo_stack.push(AddBoxes(self, self.image_id, [spec], f"Draw {spec.category} box"))

    def commit_geometry(self, changes, text: str) -> None:
        before = {item.box_id: dict(zip("xywh", old)) for item, old, _new in changes}
        after = {item.box_id: dict(zip("xywh", new)) for item, _old, new in changes}
        self.undo_stack.push(ChangeBoxes(self, self.image_id, before, after, text))

    def _change(self, items, fields_of, text: str, merge_id: int = -1, allow_locked: bool = False) -> None:
        items = items if allow_locked else [i for i in items if not i.locked]
        if not items or not self._ready():
            return
        before = {i.box_id: snapshot(i.box) for i in items}
        after = {i.box_id: fields_of(i) for i in items}
        self.undo_stack.push(ChangeBoxes(self, self.image_id, before, after, text, merge_id))

    def nudge(self, dx: float, dy: float) -> None:
        w, h = self._size
        self._change(self.selected_items(), lambda i: dict(zip("xywh", move_rect(i.rect_tuple(), dx, dy, w, h))),
                     "Nudge box", NUDGE_MERGE_ID)

    def relabel_selected(self, name: str) -> None:
        items = self.selected_items()
        if not items:
            self.current_category = name
            self.window.notify(f"New boxes will be labelled {name}")
            return
        self.current_category = name
        self._change(items, lambda i: {"category": name}, f"Relabel as {name}")

    def relabel_by_key(self, key: int) -> None:
        if self.store is None:
            return
        match = next((c for c in self.store.categories() if c.key == key), None)
        if match is None:
            self.window.notify(f"No label has the key {key}; set one in the label list")
            return
        self.relabel_selected(match.name)

    def toggle_lock(self) -> None:
        items = self.selected_items()
        lock = not all(i.locked for i in items)
        self._change(items, lambda i: {"locked": lock}, "Lock boxes" if lock else "Unlock boxes", allow_locked=True)

    def accept_predictions(self) -> None:
        items = [i for i in self.items.values() if i.box.is_prediction and i.isVisible()]
        self._change(items, lambda i: {"state": "accepted"}, f"Accept {len(items)} prediction(s)")

    def delete_selected(self) -> None:
        items = [i for i in self.selected_items() if not i.locked]
        if items and self._ready():
            self.undo_stack.push(DeleteBoxes(self, self.image_id, [i.box for i in items],
                                             f"Delete {len(items)} box(es)"))

    def _specs(self, items) -> list[BoxSpec]:
        return [BoxSpec(i.box.category, *i.rect_tuple()) for i in items]

    def duplicate_selected(self) -> None:
        items = self.selected_items()
        if items and self._ready():
            self._paste(self._specs(items), 10.0, f"Duplicate {len(items)} box(es)")

    def copy_selected(self) -> None:
        self.clipboard = self._specs(self.selected_items())

    def paste(self) -> None:
        if self.clipboard and self._ready():
            self._paste(self.clipboard, 0.0, f"Paste {len(self.clipboard)} box(es)")

    def _paste(self, specs, offset: float, text: str) -> None:
        w, h = self._size
        placed = [BoxSpec(s.category, *clamp_rect(s.x + offset, s.y + offset, s.w, s.h, w, h)) for s in specs]
        self.undo_stack.push(AddBoxes(self, self.image_id, placed, text))

    def select_next(self, step: int = 1) -> None:
        visible = sorted((i for i in self.items.values() if i.isVisible()), key=lambda i: (i.box.y, i.box.x, i.box_id))
        if not visible:
            return
        current = self.selected_items()
        index = visible.index(current[0]) + step if current and current[0] in visible else (0 if step > 0 else -1)
        item = visible[index % len(visible)]
        self._select([item.box_id])
        self.canvas.ensureVisible(QRectF(*item.rect_tuple()))

    def mark_reviewed_and_next(self) -> None:
        if self._ready():
            before = self.review_status_of(self.image_id)
            if before != "done":
                self.undo_stack.push(SetReviewStatus(self, self.image_id, before, "done", "Mark image reviewed"))
        self.window.go_next()

    # -- store messages --------------------------------------------------------------------------
    def _store_message(self, message: str) -> None:
        level = "info" if "saved now" in message else "warning"
        self.window.notify(message.split(". ")[0], details=message, level=level)
        if self.store is not None and self.store.pending:
            self._flush_timer.start()
        else:
            self._flush_timer.stop()

    def _flush(self) -> None:
        if self.store is None or self.store.flush():
            self._flush_timer.stop()
