"""Loupe's model engine: no Qt, no desktop imports (checked by import-linter).

Importing this package is cheap: torch and the model code load only when a model is loaded.

    from models import load_model
    m = load_model("heartformer", weights="heartformer-v0.1.safetensors", device="auto")
    dets = m.detect(rgb, threshold=0.3)
"""

from __future__ import annotations

import os

from models.errors import LoupeError, ModelSpecError, WeightsError

# Nothing is ever downloaded at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# rfdetr imports albumentations, which otherwise asks PyPI for a newer version at import.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

__all__ = ["load_model", "LoupeError", "ModelSpecError", "WeightsError"]


def load_model(spec, weights=None, device="auto", **options):
    """Load a model from a preset name, a model card (JSON) or a bare weights file.

    See `models.registry.load_model` for details.
    """
    from models.registry import load_model as _load

    return _load(spec, weights=weights, device=device, **options)
