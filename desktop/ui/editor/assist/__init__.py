"""Assisted annotation in the box editor (issue 16 part 2): a segment-anything model draws the box.

`install(window, editor)` adds `editor.assist` (controller.AssistController), the hook
`editor.assist_input` that canvas_input.py calls first, the Assist dock and Edit ▸ Assist:
S assist mode, F refine the selected boxes, Shift+F refine all model boxes of the image.
"""

from __future__ import annotations

# the mouse and keys of assist mode, for Help ▸ Keyboard shortcuts (clicks are no QAction)
GESTURES = [
    ("Assist mode: include a point in the mask", "Click"),
    ("Assist mode: exclude a point from the mask", "Shift+Click"),
    ("Assist mode: a box as the prompt", "Drag"),
    ("Assist mode: keep the mask's box", "Enter"),
    ("Assist mode: drop the prompt", "Esc"),
]


def install(window, editor):
    from PySide6.QtCore import Qt

    from desktop.ui.editor.actions import _add
    from desktop.ui.editor.assist.controller import AssistController
    from desktop.ui.editor.assist.input import AssistInput
    from desktop.ui.editor.assist.panel import AssistPanel

    assist = AssistController(editor)
    editor.assist = assist
    editor.assist_input = AssistInput(assist, editor.input)
    assist.panel = AssistPanel(assist)
    assist.dock = window.add_panel("Assist", assist.panel, Qt.RightDockWidgetArea)
    menu = window.menu("Edit").addMenu("Assi&st")
    a = {}
    a["mode"] = _add(window, menu, "&Assist Mode", assist.panel.mode_button.toggle, ["S"])
    a["refine"] = _add(window, menu, "&Refine Selected Box", assist.refine_selected, ["F"])
    a["refine_all"] = _add(window, menu, "Refine &All Model Boxes on Image", assist.refine_all, ["Shift+F"])
    a["refine_folder"] = _add(window, menu, "Refine All in the &Folder", assist.panel.refine_folder)
    assist.actions = a
    from desktop.ui.viewer.help_dialogs import register_keys

    register_keys(window, "Edit ▸ Assist", GESTURES)
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(lambda: assist.engine.wait(3000))
    return assist
