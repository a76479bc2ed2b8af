"""The training panel: pick a base model, train on the reviewed images of the open folder, watch the
curves, read the report, and switch to the new model (the old one is kept)."""

from __future__ import annotations


def install(window) -> None:
    from PySide6.QtCore import Qt

    from desktop.ui.training_panel.panel import TrainingPanel

    panel = TrainingPanel(window)
    window.training_panel = panel
    window.add_panel("Training", panel, Qt.RightDockWidgetArea)
    action = window.menu("Train").addAction("Train on reviewed images…")
    action.triggered.connect(panel.start_training)
