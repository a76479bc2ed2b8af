"""Shared helpers of the model tests: real images from ../shared/data as RGB uint8 arrays, and
saving state dicts in the published layouts."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

NIH_IMAGE = "nih/images/00000032_037.png"


def real_rgb(shared_data: Path, rel: str = NIH_IMAGE, size: int | None = None) -> np.ndarray:
    """A real image from ../shared/data as RGB uint8 (optionally resized to size x size)."""
    img = Image.open(shared_data / rel).convert("RGB")
    if size:
        img = img.resize((size, size), Image.BILINEAR)
    return np.asarray(img)


_NEW = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))([12])\.(weight|bias|running_mean|running_var)$")


def to_old_densenet_names(sd: dict) -> dict:
    """Current torchvision DenseNet keys -> the 2017 naming (`norm.1`, `conv.1`, ...)."""
    out = {}
    for k, v in sd.items():
        m = _NEW.match(k)
        out[f"{m.group(1)}.{m.group(2)}.{m.group(3)}" if m else k] = v
    return out
