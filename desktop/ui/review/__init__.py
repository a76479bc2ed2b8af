"""The review queue and the corrections dashboard, plugged in by desktop/ui/extensions.py after the
box editor and the model panel (decisions 0130-0132).

- The image list's Order control gets the runs that scored images; choosing "most uncertain first"
  orders the list (so Next/Previous and Space follow it) by that run's uncertainty.
- View ▸ Next Most Uncertain Image (N): the most uncertain image not reviewed yet.
- Models ▸ Corrections Dashboard…: how much each model's predictions were corrected.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence

from desktop.ui.viewer.queue_order import FOLDER, LATEST

RESORT_PAUSE_MS = 300  # rows the scan lists while an order is chosen join it after this pause


class ReviewQueue(QObject):
    def __init__(self, window, editor):
        super().__init__(window)
        self.window = window
        self.editor = editor
        self.image_list = window.image_list
        self._ranked: dict[int, list[str]] = {}  # run id -> paths, most uncertain first
        self._scores: dict[int, dict[str, float]] = {}
        self._lead: dict[int, int] = {}  # run id -> how many of its ranking from the top are done
        self._signature = None  # the scored runs last seen (refresh_runs skips when unchanged)
        self._resort = QTimer(self)
        self._resort.setSingleShot(True)
        self._resort.setInterval(RESORT_PAUSE_MS)
        self._resort.timeout.connect(self.apply_order)
        order = self.image_list.order
        order.changed.connect(lambda _choice: self.apply_order())
        editor.store_opened.connect(lambda _store: self.refresh_runs())
        editor.store_refreshed.connect(self.refresh_runs)
        # a status that goes back (undo, "in progress") may reopen an image N had passed
        editor.review_status_changed.connect(lambda _p, status: status != "done" and self._lead.clear())
        self.image_list.model.rowsInserted.connect(self._rows_listed)
        self.image_list.model.modelReset.connect(self._forget)

    # -- runs and scores -------------------------------------------------------------------------
    @property
    def store(self):
        return getattr(self.editor, "store", None)

    def _forget(self) -> None:
        self._signature = None
        self._ranked.clear()
        self._scores.clear()
        self._lead.clear()
        self.image_list.order.set_runs([])

    def refresh_runs(self, _run_id=None) -> None:
        """The runs that scored images (a run finished, the store opened or changed on disk). The
        scores are read again, and the list ordered again, only when a run's scores changed: another
        window's box edit must not re-sort 100,000 rows."""
        store = self.store
        found = [r for r in store.runs() if r.scored] if store is not None else []
        signature = (str(getattr(store, "path", "")), tuple((r.id, r.scored, r.finished) for r in found))
        if signature == self._signature:
            return
        self._signature = signature
        self._ranked.clear()
        self._scores.clear()
        self._lead.clear()
        self.image_list.order.set_runs([(r.id, r.label) for r in found])
        if self.image_list.order.choice() != FOLDER:
            self.apply_order()

    def run_for(self, choice) -> int | None:
        store = self.store
        if store is None:
            return None
        if choice in (LATEST, FOLDER):
            run = store.latest_scored_run()
            return run.id if run is not None else None
        return int(choice)

    def scores(self, run_id: int) -> dict[str, float]:
        """Absolute path -> uncertainty of the run's images (one query, kept until the runs change)."""
        if run_id not in self._scores:
            # the paths the folder scan lists (str of folder / rel); joined as text: at 100,000 images
            # pathlib took 1.1 s here, this 0.12 s
            root = str(Path(self.store.folder)).rstrip(os.sep) + os.sep
            self._scores[run_id] = {root + rel.replace("/", os.sep): v
                                    for rel, v in self.store.image_scores(run_id).items()}
        return self._scores[run_id]

    def ranked(self, run_id: int) -> list[str]:
        if run_id not in self._ranked:
            scores = self.scores(run_id)
            self._ranked[run_id] = sorted(scores, key=lambda p: -scores[p])
        return self._ranked[run_id]

    def apply_order(self) -> None:
        choice = self.image_list.order.choice()
        run_id = None if choice == FOLDER else self.run_for(choice)
        self.image_list.set_order_scores(None if run_id is None else self.scores(run_id))

    def _rows_listed(self, *_args) -> None:
        if self.image_list.proxy.order is not None:
            self._resort.start()  # restarted by each batch of the scan: one sort when it pauses

    # -- N ---------------------------------------------------------------------------------------------
    def go_most_uncertain(self) -> str | None:
        """Show the most uncertain image not reviewed yet (of the chosen run, else the latest)."""
        window = self.window
        run_id = self.run_for(self.image_list.order.choice())
        if run_id is None:
            window.notify("No uncertainty scores yet: run a model on the folder (Models dock: All images); "
                          "then N goes to the image it is least sure of.", None, "info")
            return None
        current = window.current_path()
        target, self._lead[run_id] = self.image_list.first_in_queue(self.ranked(run_id), skip=current,
                                                                    start=self._lead.get(run_id, 0))
        if target is None:
            if current in self.scores(run_id) and self.image_list.model.status_of(current) != "done":
                window.notify("This image is the last one this run scored that is not reviewed yet.", None, "info")
            else:
                window.notify("Every image this run scored is reviewed (or hidden by the filter).", None, "info")
            return None
        window.show_image(target)
        window.notify(f"Most uncertain image not reviewed yet: {Path(target).name} (uncertainty "
                      f"{self.scores(run_id)[target]:.2f} in run {run_id})", None, "info")
        return target


def install(window):
    editor = getattr(window, "box_editor", None)
    if editor is None or not hasattr(window, "image_list"):
        return None
    queue = ReviewQueue(window, editor)
    window.review_queue = queue
    panel = getattr(window, "model_panel", None)
    if panel is not None and hasattr(panel, "run_scored"):
        panel.run_scored.connect(queue.refresh_runs)
    view = window.menu("View")
    action = QAction("Next Most &Uncertain Image", window)
    action.setShortcuts([QKeySequence("N")])
    action.setShortcutContext(Qt.WindowShortcut)
    action.setStatusTip("The image the model was least sure of, among those not reviewed yet")
    action.triggered.connect(queue.go_most_uncertain)
    last = getattr(window, "actions_", {}).get("last")
    after = _action_after(view, last)
    if after is not None:
        view.insertAction(after, action)
    else:
        view.addAction(action)
    window.addAction(action)
    window.review_actions = {"most_uncertain": action}
    from desktop.ui.review.dashboard_dialog import open_dashboard

    dash = QAction("Corrections &Dashboard…", window)
    dash.setStatusTip("How much each model's predictions were corrected, per class and per run")
    dash.triggered.connect(lambda: open_dashboard(window))
    models_menu = window.menu("Models")
    models_menu.addSeparator()
    models_menu.addAction(dash)
    window.review_actions["dashboard"] = dash
    return queue


def _action_after(menu, action):
    """The action following `action` in `menu` (to insert just after it), or None."""
    actions = menu.actions()
    if action in actions:
        i = actions.index(action)
        return actions[i + 1] if i + 1 < len(actions) else None
    return None
