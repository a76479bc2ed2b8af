"""Keys of the quiz and presentation windows: window-wide actions of their own windows, so a key
such as N acts only where the focus is (decision 0143); the viewer's `menu_action` with no menu."""

from __future__ import annotations

from desktop.ui.viewer.actions import menu_action


def window_action(window, keys, slot, text: str):
    return menu_action(window, None, text, slot, keys)
