"""Image overlays: corner text (modality, W/L, zoom, frame, slice position; patient data only once
revealed in the inspector) and orientation letters at the four edges. View ▸ Image Overlays (I)
shows or hides them; the choice is kept in the settings. `install(window)` sets `window.overlays`."""

from __future__ import annotations


def install(window):
    from desktop.ui.overlays.corners import CornerOverlay, build_overlay_action

    overlay = CornerOverlay(window)
    window.overlays = overlay
    overlay.action = build_overlay_action(window, overlay)
    return overlay
