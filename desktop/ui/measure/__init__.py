"""The viewer tools of a radiology workstation: the pixel probe in the status bar, and the ruler,
angle and region (ellipse, box) tools with the Measurements dock. `install(window)` sets
`window.probe` and, when the box editor is installed (its store and undo stack keep the
measurements), `window.measure` (a MeasureController) with the Tools menu.

The numbers come from desktop.core.measure (decision 0135); the tools take the canvas's left
button through desktop/ui/viewer/tool_mode.py.
"""

from __future__ import annotations

TOOLS = (  # (kind, menu text, keys)
    ("line", "&Ruler (distance)", ["M"]),
    ("angle", "&Angle", ["Shift+M"]),
    ("ellipse", "&Ellipse Region (mean, SD, area)", ["E"]),
    ("box", "&Box Region (mean, SD, area)", ["Shift+E"]),
)


def install(window):
    from desktop.ui.measure.probe import PixelProbe

    window.probe = PixelProbe(window)
    editor = getattr(window, "box_editor", None)
    if editor is None:
        return window.probe
    from PySide6.QtCore import Qt

    from desktop.ui.measure.controller import MeasureController
    from desktop.ui.measure.panel import MeasurementsPanel

    controller = MeasureController(window, editor)
    window.measure = controller
    controller.panel = MeasurementsPanel(controller)
    controller.dock = window.add_panel("Measurements", controller.panel, Qt.RightDockWidgetArea)
    controller.actions = _tools_menu(window, controller)
    delete = getattr(editor, "actions", {}).get("delete")
    if delete is not None:  # Edit ▸ Delete (Del) removes selected measurements as well as boxes
        delete.triggered.connect(controller.delete_selected)
    return controller


def _tools_menu(window, controller) -> dict:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QAction, QKeySequence

    menu = window.menu("Tools")
    actions = {}
    for kind, text, keys in TOOLS:
        action = QAction(text, window)
        action.setCheckable(True)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.WindowShortcut)
        action.triggered.connect(lambda on, k=kind: controller.input.start(k) if on else controller.input.stop())
        menu.addAction(action)
        window.addAction(action)
        actions[kind] = action
    menu.addSeparator()
    stop = QAction("&Stop Measuring\tEsc", window)
    stop.triggered.connect(controller.input.stop)
    menu.addAction(stop)
    actions["stop"] = stop

    def follow() -> None:
        for kind, action in actions.items():
            if kind != "stop":
                action.setChecked(controller.input.kind == kind)

    controller.tools_changed.connect(follow)
    return actions
