"""The saliency part of the panel: method, colour map, opacity, view mode, legend; computes the map
in a job (the window never freezes) and shows it as an overlay item in the window's scene."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QPushButton, QSlider

from desktop.ui.model_panel.inference import box_xyxy, saliency_job
from desktop.ui.model_panel.overlay import COLORMAPS, Legend, SaliencyOverlay


class SaliencyView(QGroupBox):
    def __init__(self, panel):
        super().__init__("Saliency")
        self.panel = panel
        self.window = panel.window
        self.overlay = SaliencyOverlay()
        self.overlay.setVisible(False)
        self.job = None
        self.result = None

        form = QFormLayout(self)
        form.addRow("Method", panel.controls.method)
        row = QHBoxLayout()
        self.explain_button = QPushButton("Explain this image")
        self.explain_button.setToolTip("Compute the saliency map of the current image (for a detector: "
                                       "of the selected box)")
        self.explain_button.clicked.connect(self.explain)
        self.show_box = QCheckBox("Show")
        self.show_box.setChecked(True)
        self.show_box.setToolTip("Toggle the overlay: the film alone, then the map (O)")
        self.show_box.toggled.connect(self._apply_visibility)
        row.addWidget(self.explain_button, 1)
        row.addWidget(self.show_box)
        form.addRow(row)

        self.colormap = QComboBox()
        self.colormap.addItems(COLORMAPS)
        self.colormap.currentTextChanged.connect(self._set_colormap)
        form.addRow("Colour map", self.colormap)

        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.valueChanged.connect(lambda v: self.overlay.set_alpha(v / 100))
        form.addRow("Opacity", self.opacity)

        self.view_mode = QComboBox()
        self.view_mode.addItem("Over the image", "overlay")
        self.view_mode.addItem("Side by side", "side")
        self.view_mode.currentIndexChanged.connect(self._set_mode)
        form.addRow("View", self.view_mode)

        self.legend = Legend()
        form.addRow(self.legend)

    # -- scene ---------------------------------------------------------------------------------
    def attach(self) -> None:
        """Put the overlay item in the window's scene (again, if the viewer rebuilt it)."""
        scene = self.window.canvas.scene()
        if scene is not None and self.overlay.scene() is not scene:
            if self.overlay.scene() is not None:
                self.overlay.scene().removeItem(self.overlay)
            scene.addItem(self.overlay)

    def clear(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job = None
        self.result = None
        self.overlay.clear()

    # -- computing -------------------------------------------------------------------------------
    def explain(self):
        panel, window = self.panel, self.window
        model = panel.model
        path = window.current_path()
        if model is None or not path:
            window.notify("Load a model and open an image first.", None, "warning")
            return None
        method = panel.controls.method.currentText() or "gradcam"
        box = None
        if model.task == "detection" and method == "gradcam":
            editor = getattr(window, "box_editor", None)
            box = box_xyxy(editor.selected_box()) if editor is not None else None
            if box is None:
                window.notify("Select a box first: Grad-CAM explains one box (EigenCAM shows the "
                              "whole image).", None, "info")
                return None
        try:
            rgb = panel.model_rgb(path)
        except Exception as exc:  # an unreadable file: say so, as a run would
            window.notify(f"{path}: {exc}", None, "warning")
            return None
        if self.job is not None:
            self.job.cancel()
        job = panel.jobs.submit(saliency_job(model, str(path), rgb, method, box=box),
                                name=f"{method} for {model.name}", device=panel.device_id())
        job.result.connect(lambda res, rgb=rgb: self._show(res, rgb))
        job.finished.connect(lambda j=job: self._done(j))
        self.job = job
        self.explain_button.setEnabled(False)
        panel.set_busy(True, f"Computing {method}…")
        return job

    def _done(self, job) -> None:
        if self.job is job:
            self.job = None
        self.explain_button.setEnabled(True)
        outcome = job.outcome
        failed = outcome is not None and outcome.error is not None
        self.panel.set_busy(False, "Saliency failed: see the notification below" if failed else "")

    def _show(self, res, rgb) -> None:
        if str(self.window.current_path()) != res.path:
            return  # the user moved on while it computed
        self.result = res
        self.attach()
        self.overlay.show_map(res.heat, rgb)
        self._apply_visibility()

    # -- view --------------------------------------------------------------------------------------
    def _set_colormap(self, name: str) -> None:
        self.overlay.set_colormap(name)
        self.legend.set_colormap(name)

    def _set_mode(self) -> None:
        self.overlay.set_mode(self.view_mode.currentData())
        if self.view_mode.currentData() == "side" and self.result is not None:
            rect = self.window.canvas.scene().itemsBoundingRect()
            self.window.canvas.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)

    def _apply_visibility(self) -> None:
        visible = self.result is not None and self.show_box.isChecked() and self.panel.annotations_shown
        self.overlay.setVisible(visible)

    def toggle(self) -> None:
        self.show_box.setChecked(not self.show_box.isChecked())
