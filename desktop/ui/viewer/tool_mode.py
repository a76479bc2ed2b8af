"""Which tool owns the canvas's left button: the seam between the box editor, the measurement
tools and any other canvas tool (a segmentation assist, say).

    mode = tool_mode(window)
    mode.set("measure:line")            # this tool takes the left button now
    mode.changed.connect(on_change)     # another tool took it: stop yours
    mode.set("")                        # give it back (the box editor's select/move)

A tool that takes the left button sets its name; every other tool listens to `changed` and stops
when the name is not its own. The box editor's W (draw a box) counts as its own tool.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class ToolMode(QObject):
    changed = Signal(str)  # the new tool's name; "" is the default (select and move boxes)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.name = ""

    def set(self, name: str) -> None:
        name = name or ""
        if name != self.name:
            self.name = name
            self.changed.emit(name)

    def release(self, name: str) -> None:
        """Give the left button back, if `name` still holds it."""
        if self.name == name:
            self.set("")


def tool_mode(window) -> ToolMode:
    """The window's ToolMode, made on first use."""
    mode = getattr(window, "_tool_mode", None)
    if mode is None:
        mode = window._tool_mode = ToolMode(window)
    return mode
