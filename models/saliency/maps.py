"""From attributions to image-aligned maps: reduce channels, resize to the image, scale to [0, 1]."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def to_image_map(attr: torch.Tensor, size: tuple[int, int], mode: str) -> np.ndarray:
    """(1, C, h, w) attribution -> (H, W) float32 in [0, 1].

    mode "cam": non-negative class activation map, scaled by its maximum; "abs": sum of absolute
    values over channels; "positive": sum of the positive part. Pixel maps are scaled by their
    99.5th percentile and clipped (a few extreme pixels would otherwise flatten the rest).
    Preprocessing in Loupe resizes the whole image (no crop), so resizing back aligns the map.
    """
    a = attr.detach().float()
    if a.ndim == 4:
        a = a[0]
    if mode == "cam":
        m = a.sum(0).clamp(min=0)
    elif mode == "abs":
        m = a.abs().sum(0)
    elif mode == "positive":
        m = a.clamp(min=0).sum(0)
    else:
        raise ValueError(mode)
    m = F.interpolate(m[None, None], size=tuple(size), mode="bilinear", align_corners=False)[0, 0]
    m = torch.nan_to_num(m, nan=0.0, posinf=0.0, neginf=0.0).clamp(min=0).cpu().numpy()
    return normalise(m, robust=mode != "cam")


def normalise(m: np.ndarray, robust: bool = False) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    top = float(np.percentile(m, 99.5)) if robust else float(m.max(initial=0.0))
    if robust and top <= 0:
        top = float(m.max(initial=0.0))
    if top <= 0 or not np.isfinite(top):
        return np.zeros_like(m, dtype=np.float32)
    return np.clip(m / top, 0.0, 1.0).astype(np.float32)


def resize_map(m: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w) map -> (H, W), bilinear, then scaled to [0, 1] by its maximum."""
    t = torch.as_tensor(np.asarray(m, np.float32))[None, None]
    out = F.interpolate(t, size=tuple(size), mode="bilinear", align_corners=False)[0, 0].numpy()
    return normalise(np.clip(out, 0, None))
