"""Drag and drop on the window: a dropped folder (or a file, shown in its folder) is opened.

Panels that take other drops (e.g. weights files) install an event filter on the window; it runs
before these handlers and consumes only what it recognises."""

from __future__ import annotations


def accept_drag(event) -> None:
    if event.mimeData().hasUrls():
        event.acceptProposedAction()


def open_drop(window, event) -> None:
    paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
    if paths:
        event.acceptProposedAction()
        window.open_folder(paths[0])
