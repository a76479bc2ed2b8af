"""The window's menus, created on demand in a fixed order whoever asks first (the viewer or a
panel): File, Edit, View, Models, Train, Help; other names go just before Help."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu, QMenuBar

MENU_ORDER = ("File", "Edit", "View", "Models", "Train", "Help")


def _rank(name: str) -> float:
    return MENU_ORDER.index(name) if name in MENU_ORDER else MENU_ORDER.index("Help") - 0.5


class Menus:
    def __init__(self, bar: QMenuBar, parent):
        self._bar = bar
        self._parent = parent
        self._menus: dict[str, QMenu] = {}

    def get(self, name: str) -> QMenu:
        if name in self._menus:
            return self._menus[name]
        menu = QMenu(name.replace("&", ""), self._parent)
        later = [(r, m) for other, m in self._menus.items() if (r := _rank(other)) > _rank(name)]
        if later:
            self._bar.insertMenu(min(later, key=lambda pair: pair[0])[1].menuAction(), menu)
        else:
            self._bar.addMenu(menu)
        self._menus[name] = menu
        return menu
