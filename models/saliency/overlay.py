"""A saliency map laid over its image (JET colours, blended), as an RGB uint8 array."""

from __future__ import annotations

import numpy as np


def overlay(rgb: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """(H, W, 3) uint8 image + (H, W) map in [0, 1] -> (H, W, 3) uint8: image where the map is 0,
    blended with the JET colour of the map elsewhere (weight alpha * map)."""
    import cv2

    rgb = np.asarray(rgb)
    heat = np.clip(np.nan_to_num(np.asarray(heat, np.float32)), 0.0, 1.0)
    if heat.shape != rgb.shape[:2]:
        raise ValueError(f"map {heat.shape} does not match image {rgb.shape[:2]}")
    colour = cv2.cvtColor(cv2.applyColorMap((heat * 255).round().astype(np.uint8), cv2.COLORMAP_JET),
                          cv2.COLOR_BGR2RGB).astype(np.float32)
    w = (alpha * heat)[..., None]
    return np.clip(rgb.astype(np.float32) * (1 - w) + colour * w, 0, 255).round().astype(np.uint8)
