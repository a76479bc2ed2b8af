"""Panels that plug into the main window. Each entry is "module:function"; the function takes the
MainWindow and adds its docks, menus and shortcuts. Order matters: the box editor first (it opens
the annotation store that the model and training panels use)."""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger(__name__)

EXTENSIONS = [
    "desktop.ui.editor:install",
    "desktop.ui.measure:install",  # the probe; the measuring tools use the editor's store and undo
    "desktop.ui.overlays:install",
    "desktop.ui.model_panel:install",
    "desktop.ui.training_panel:install",
    "desktop.ui.teaching:install",
    "desktop.ui.dialogs:install",
    "desktop.ui.review:install",  # the review queue (N, the list's order) and the corrections dashboard
]


def install_all(window) -> list[str]:
    """Install every extension; returns the names installed. A missing module is skipped (logged)."""
    installed = []
    for entry in EXTENSIONS:
        module_name, func_name = entry.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                log.info("extension %s not available", module_name)
                continue
            raise
        getattr(module, func_name)(window)
        installed.append(module_name)
    return installed
