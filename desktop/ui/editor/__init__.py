"""The box editor: boxes on the canvas, undo/redo, the Edit menu. `install(window)` is called by
desktop/ui/extensions.py and sets `window.box_editor` (see controller.BoxEditor for its seam); the
label set dock is `window.box_editor.labels_panel`."""

from __future__ import annotations


def install(window):
    from PySide6.QtWidgets import QGraphicsView

    from desktop.ui.editor.actions import build_edit_menu
    from desktop.ui.editor.canvas_input import CanvasInput
    from desktop.ui.editor.controller import BoxEditor

    editor = BoxEditor(window)
    editor.input = CanvasInput(editor)
    editor.actions = build_edit_menu(window, editor, editor.input)
    window.canvas.setDragMode(QGraphicsView.RubberBandDrag)  # left-drag on empty canvas selects
    window.box_editor = editor
    from desktop.ui.editor.labels_panel import LabelsPanel

    editor.labels_panel = LabelsPanel(editor)
    editor.labels_dock = window.add_panel("Labels", editor.labels_panel)
    from desktop.ui.editor.box_list import BoxListPanel

    editor.box_list = BoxListPanel(editor)  # the current image's boxes: click selects, Del deletes
    from PySide6.QtCore import Qt

    # below Window / Level in the left column; not tabbed with it: tabifying there left a stray
    # tab bar that later showed over the menu bar (decision 0104)
    editor.box_dock = window.add_panel("Boxes", editor.box_list, Qt.LeftDockWidgetArea)
    _labels_on_all_boxes(window, editor)
    from desktop.ui.editor.assist import install as install_assist

    install_assist(window, editor)  # assisted annotation: a segment-anything model draws boxes (issue 16)
    image_list = getattr(window, "image_list", None)
    if image_list is not None:  # review marks, status filter and count in the image list
        editor.store_opened.connect(lambda _store: image_list.set_review_statuses(editor.review_statuses()))
        editor.review_status_changed.connect(image_list.set_review_status)
        editor.store_refreshed.connect(lambda: image_list.set_review_statuses(editor.review_statuses()))
    return editor


def _labels_on_all_boxes(window, editor) -> None:
    """View ▸ Labels on All Boxes (kept in the settings): every box shows its label, not only the
    hovered and selected ones."""
    from PySide6.QtGui import QAction

    settings = getattr(window, "settings", None)
    action = QAction("Labels on All &Boxes", window)
    action.setCheckable(True)
    action.setChecked(bool(settings is not None and str(settings.value("view/all_labels", "false")) == "true"))

    def toggled(on: bool) -> None:
        editor.all_labels = on
        if settings is not None:
            settings.setValue("view/all_labels", "true" if on else "false")
        if editor.overlay is not None:
            editor.overlay.update()

    action.toggled.connect(toggled)
    editor.all_labels = action.isChecked()
    window.menu("View").addAction(action)
    editor.all_labels_action = action
