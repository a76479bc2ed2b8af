"""The model panel, plugged into the main window by `desktop.ui.extensions` (after the box editor).

`install(window)` adds the dock, the shortcuts (Ctrl+Enter runs on this image, H hides every
annotation, O toggles the saliency overlay), dropping weights files onto the window, and sets
`window.model_panel` (whose `use_model(card_path)` the training panel calls).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QScrollArea

from desktop.ui.guard import guarded
from desktop.ui.model_panel.panel import ModelPanel, editor_hide_action, models_dir

WEIGHTS_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".tar", ".ckpt")


def install(window) -> ModelPanel:
    panel = ModelPanel(window)
    window.model_panel = panel
    scroll = QScrollArea()  # the panel grows with bars and saliency: scroll on small screens
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(panel)
    panel.dock = window.add_panel("Models", scroll, Qt.DockWidgetArea.RightDockWidgetArea)
    for seq in ("Ctrl+Return", "Ctrl+Enter"):
        QShortcut(QKeySequence(seq), window, activated=lambda: panel.run("this")).setWhatsThis(
            "Run the model on this image")  # the Help ▸ Keyboard shortcuts sheet shows this text
    hide = editor_hide_action(window)
    if hide is not None:  # the editor owns H: the overlay follows its Hide/Show (decision 0053)
        hide.triggered.connect(panel.follow_editor_visibility)
    else:
        QShortcut(QKeySequence("H"), window, activated=panel.toggle_annotations).setWhatsThis(
            "Hide or show the model's boxes")
    QShortcut(QKeySequence("O"), window, activated=panel.saliency.toggle).setWhatsThis(
        "Show or hide the saliency overlay")
    if hasattr(window, "current_image_changed"):
        window.current_image_changed.connect(panel.image_changed)
    if hasattr(window, "folder_opened"):
        window.folder_opened.connect(lambda _f: panel.saliency.clear())
    window._weights_drop = WeightsDrop(window, panel)
    window.installEventFilter(window._weights_drop)
    window.setAcceptDrops(True)
    try:
        menu = window.menu("Models")
        menu.addAction("Run on this image", lambda: panel.run("this"))
        menu.addAction("Run on all images", lambda: panel.run("all"))
        menu.addAction("Run on unreviewed images", lambda: panel.run("unreviewed"))
        menu.addAction("Cancel run", panel.runs.cancel)
    except Exception:  # a window without menus still gets the panel
        pass
    return panel


def weights_in(mime) -> list[Path]:
    if not mime.hasUrls():
        return []
    paths = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile()]
    return paths if paths and all(p.suffix.lower() in WEIGHTS_SUFFIXES for p in paths) else []


class WeightsDrop(QObject):
    """Weights files dropped on the window are recognised, get a card in the models folder and load.

    Other drops (folders, images) pass through to the window untouched."""

    def __init__(self, window, panel: ModelPanel):
        super().__init__(window)
        self.panel = panel

    @guarded("dropping weights files on the window", False)
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt's name)
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and weights_in(event.mimeData()):
            event.acceptProposedAction()
            return True
        if kind == QEvent.Type.Drop:
            files = weights_in(event.mimeData())
            if files:
                event.acceptProposedAction()
                for f in files:
                    add_weights(self.panel, f)
                return True
        return False


def add_weights(panel: ModelPanel, weights: Path):
    """Recognise `weights` in the background, write its card to the models folder, select it."""
    from desktop.ui.model_panel.catalog import write_card_for_weights

    folder = models_dir(panel.settings)

    def recognise(ctx):
        import dataclasses

        from models.registry import card_for_weights

        card = dataclasses.asdict(card_for_weights(weights))  # from the file's tensors; runs nothing
        card["name"] = card.get("name") or weights.stem
        return write_card_for_weights(card, weights, folder)

    job = panel.jobs.submit(recognise, name=f"Adding {weights.name}", device="cpu")
    panel.set_busy(True, f"Recognising {weights.name}…")
    job.finished.connect(lambda: panel.set_busy(False, None))
    job.result.connect(lambda card_path: (panel.window.notify(
        f"Added {weights.name}: its card is {card_path}", None, "info"), panel.use_model(card_path)))
    return job
