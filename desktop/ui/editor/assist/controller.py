"""Assist mode's session on the current image: the clicked points and dragged box of the prompt,
the mask preview, Enter (keep the box) and Esc (drop it), and refinement (F: the selected boxes;
Refine all: every model box of the image). The model work is the engine's (engine.py); every
change of the store is one undo command (commands.py).

`editor.assist` is this object; `editor.assist_input` the event hook canvas_input.py calls.
"""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QObject, Signal

from desktop.ui.editor.assist.commands import AddSegmentedBox, RefineBoxes
from desktop.ui.editor.assist.engine import LABELS, AssistEngine
from desktop.ui.editor.assist.preview import AssistPreview
from desktop.ui.editor.commands import BoxSpec
from desktop.ui.editor.geometry import clamp_rect


class AssistController(QObject):
    active_changed = Signal(bool)
    message = Signal(str, str)  # text shown under the model choice, level ("info" | "warning" | "error")
    latency = Signal(float)  # seconds from a click to its box on screen

    def __init__(self, editor, engine: AssistEngine | None = None):
        super().__init__(editor)
        self.editor = editor
        self.window = editor.window
        self.engine = engine or AssistEngine(self)
        self.preview = AssistPreview(editor.canvas)
        self.active = False
        self.points: list[tuple[float, float, int]] = []
        self.box: tuple[float, float, float, float] | None = None  # a dragged box prompt (x0, y0, x1, y1)
        self.result = None  # the latest PromptResult shown
        self.last_latency: float | None = None
        self._asked: dict[int, float] = {}  # request number -> when it was asked
        self._refine_waiting: tuple[str, list[int]] | None = None  # (path, box ids) until the embedding is there
        self._tickets: dict[int, tuple] = {}
        self.engine.prompted.connect(self._prompted)
        self.engine.refined.connect(self._refined)
        self.engine.embedded.connect(self._embedded)
        self.engine.failed.connect(lambda text, details: self.window.notify(text, details, "error"))
        self.engine.state_changed.connect(self._state_changed)
        self._state = "idle"
        self.window.current_image_changed.connect(self._image_changed)

    # -- mode ------------------------------------------------------------------------------------
    def set_active(self, on: bool) -> None:
        on = bool(on)
        if on == self.active:
            return
        self.active = on
        self.drop()
        if on:
            if self.engine.model is None and self.engine.state != "loading":
                self.message.emit("Choose a segmentation model above (its weights folder) to start.", "warning")
            self._show_current()
        self.active_changed.emit(on)

    def _state_changed(self, state: str, text: str) -> None:
        if state == "ready" and self._state == "loading":
            self.window.notify(f"{text}: click the image to include a point, Shift+click to exclude one")
        self._state = state

    def toggle(self) -> None:
        self.set_active(not self.active)

    def _next_path(self, path: str) -> str | None:
        image_list = getattr(self.window, "image_list", None)
        if image_list is None or not hasattr(image_list, "neighbour"):
            return None
        nxt = image_list.neighbour(path, +1)
        return nxt if nxt and nxt != path else None

    def _show_current(self) -> None:
        path = self.editor.image_path
        if path:
            self.engine.show(path, self._next_path(path))

    def _image_changed(self, path: str) -> None:
        self.drop()
        self._refine_waiting = None
        if self.active:
            self.engine.show(path, self._next_path(path))

    # -- prompts ---------------------------------------------------------------------------------
    def _ready_for_prompt(self) -> bool:
        if self.engine.model is None:
            text = ("The segmentation model is still loading…" if self.engine.state == "loading"
                    else "Choose a segmentation model in the Assist panel first.")
            self.window.notify(text, None, "warning")
            return False
        return self.editor.image_path is not None and self.editor.image_id is not None

    def add_point(self, x: float, y: float, positive: bool = True) -> None:
        if not self._ready_for_prompt():
            return
        self.points.append((float(x), float(y), 1 if positive else 0))
        self.preview.show_points(self.points)
        self._ask()

    def set_box_prompt(self, x0: float, y0: float, x1: float, y1: float) -> None:
        if not self._ready_for_prompt():
            return
        self.box = (float(x0), float(y0), float(x1), float(y1))
        self._ask()

    def _ask(self) -> None:
        path = self.editor.image_path
        if self.engine.embedding(path) is None:
            self.message.emit("Computing the image embedding… the box shows as soon as it is ready.", "info")
            self.engine.show(path, self._next_path(path))
        color = self.editor._colors.get(self.editor.category_for_drawing(), "#56B4E9")
        seq = self.engine.prompt(path, self.points, self.box, color)
        self._asked[seq] = time.perf_counter()

    def _prompted(self, result) -> None:
        if result.path != self.editor.image_path or not (self.points or self.box):
            return
        asked = self._asked.pop(result.seq, None)
        self._asked = {k: v for k, v in self._asked.items() if k > result.seq}
        self.result = result
        self.preview.show_mask(result.preview, result.low_shape, self.editor.image_size(), result.rect, result.extent)
        if asked is not None:
            self.last_latency = time.perf_counter() - asked
            self.latency.emit(self.last_latency)
        if result.rect is None:
            self.message.emit("The mask is empty here: click inside the structure, or drag a box around it.",
                              "warning")
        else:
            self.message.emit(f"Box {result.rect[2]:.0f} × {result.rect[3]:.0f} (predicted IoU {result.score:.2f}). "
                              "Enter keeps it, Esc drops it, more clicks refine it.", "info")

    def has_prompt(self) -> bool:
        return bool(self.points) or self.box is not None

    def keep(self) -> bool:
        """Enter: the mask's box becomes a box with the current label (one undo step)."""
        result = self.result
        if result is None or result.rect is None or result.path != self.editor.image_path:
            if self.has_prompt():
                self.message.emit("No box yet: wait for the mask, or click inside the structure.", "warning")
            return False
        if not self.editor._ready():
            return False
        w, h = self.editor.image_size()
        spec = BoxSpec(self.editor.category_for_drawing(), *clamp_rect(*result.rect, w, h))
        model = self.engine.model_name
        self.editor.undo_stack.push(AddSegmentedBox(self.editor, self.editor.image_id, spec, model,
                                                    f"Add {spec.category} box from {LABELS.get(model, model)}"))
        self.drop()
        return True

    def drop(self) -> None:
        """Esc: forget the points, the box prompt and the preview."""
        self.points, self.box, self.result = [], None, None
        self.preview.clear()

    # -- refinement ------------------------------------------------------------------------------
    def refine_selected(self) -> None:
        """F: snap each selected box (not locked) to the extent of its mask (box prompt)."""
        items = [i for i in self.editor.selected_items() if not i.locked]
        if not items:
            self.window.notify("Select a box first (or draw a rough one with W), then press F to refine it.")
            return
        self._refine([i.box_id for i in items])

    def refine_all(self) -> None:
        """Every model box of the image that nobody reviewed yet (as the prediction filter shows them)."""
        ids = [i.box_id for i in self.editor.items.values()
               if i.box.is_prediction and i.isVisible() and not i.locked]
        if not ids:
            self.window.notify("No model boxes to refine on this image: run a detector (Models dock) first, "
                               "or refine the whole folder with a detector chained.")
            return
        self._refine(ids)

    def _refine(self, ids: list[int]) -> None:
        path = self.editor.image_path
        panel = getattr(self, "panel", None)
        if self.engine.model is None and self.engine.state != "loading" and panel is not None \
                and panel.folder().is_dir() and path:
            panel.load()  # F without assist mode: load the chosen model, then refine
        if self.engine.model is None and self.engine.state == "loading" and path:
            self._refine_waiting = (path, ids)
            self.engine.show(path, self._next_path(path))
            self.message.emit("Loading the model… the boxes snap as soon as it is ready.", "info")
            return
        if not self._ready_for_prompt() or not self.editor._ready():
            return
        if self.engine.embedding(path) is None:
            self._refine_waiting = (path, ids)
            self.message.emit("Computing the image embedding… the boxes snap as soon as it is ready.", "info")
            self.engine.show(path, self._next_path(path))
            return
        if not self._same_size(path):
            return
        rects = {i: self.editor.items[i].rect_tuple() for i in ids if i in self.editor.items}
        ticket = self.engine.refine(path, rects)
        self._tickets[ticket] = (path, self.editor.image_id, self.engine.model_name)

    def _same_size(self, path: str) -> bool:
        seen = self.engine.model_size(path)
        if seen is not None and tuple(seen) != tuple(self.editor.image_size()):
            self.window.notify(f"{os.path.basename(path)}: the model reads it as {seen[0]} × {seen[1]} pixels but "
                               f"the viewer shows {self.editor.image_size()[0]} × {self.editor.image_size()[1]}; "
                               "its boxes cannot be refined", None, "warning")
            return False
        return True

    def _embedded(self, path: str, _hit: bool) -> None:
        if self._refine_waiting and self._refine_waiting[0] == path == self.editor.image_path:
            _path, ids = self._refine_waiting
            self._refine_waiting = None
            self._refine(ids)

    def _refined(self, ticket: int, results) -> None:
        path, image_id, model = self._tickets.pop(ticket, (None, None, None))
        if path is None or image_id != self.editor.image_id:
            return
        refined = {i: r for i, (r, _score) in results.items() if r is not None and i in self.editor.items}
        empty = [i for i, (r, _s) in results.items() if r is None]
        if refined:
            self.apply(image_id, refined, model)
        if empty:
            self.window.notify(f"{len(empty)} box(es) left as they were: the model's mask inside them is empty.",
                               None, "warning")

    def apply(self, image_id: int, refined: dict[int, tuple], model: str, quiet: bool = False) -> None:
        """One undo command: the boxes `refined` {id: (x, y, w, h)} of the image, by `model`."""
        editor = self.editor
        if image_id == editor.image_id:
            boxes = [editor.items[i].box for i in refined if i in editor.items]
            w, h = editor.image_size()
        else:
            boxes = [b for b in editor.store.boxes(image_id) if b.id in refined]
            rec = editor.store.image(image_id)
            w, h = rec.width, rec.height
        refined = {i: clamp_rect(*r, w, h) for i, r in refined.items()}
        changed = {b.id: refined[b.id] for b in boxes
                   if any(abs(a - c) > 1e-9 for a, c in zip(b.rect, refined[b.id])) or b.refined_by != model}
        if not changed:
            return
        n = len(changed)
        name = LABELS.get(model, model)
        text = f"Refine {n} box{'es' if n != 1 else ''} with {name}"
        editor.undo_stack.push(RefineBoxes(editor, image_id, boxes, changed, model, text, quiet=quiet))
