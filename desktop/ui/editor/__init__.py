"""The box editor: boxes on the canvas, undo/redo, the Edit menu. `install(window)` is called by
desktop/ui/extensions.py and sets `window.box_editor` (see controller.BoxEditor for its seam)."""

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
    return editor
