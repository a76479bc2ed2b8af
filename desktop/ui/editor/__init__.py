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
    image_list = getattr(window, "image_list", None)
    if image_list is not None:  # review marks, status filter and count in the image list
        editor.store_opened.connect(lambda _store: image_list.set_review_statuses(editor.review_statuses()))
        editor.review_status_changed.connect(image_list.set_review_status)
        editor.store_refreshed.connect(lambda: image_list.set_review_statuses(editor.review_statuses()))
    return editor
