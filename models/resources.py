"""Where Loupe's resources (presets, label sets, icons, samples) and the user's models live."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The `resources/` folder: beside the packages in a checkout, inside the bundle when frozen."""
    override = os.environ.get("LOUPE_RESOURCES")
    if override:
        return Path(override)
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def presets_dir() -> Path:
    return resources_dir() / "presets"


def user_models_dir() -> Path:
    """The user's models folder (LOUPE_MODELS_DIR overrides; the app's settings can point elsewhere).

    macOS: ~/Library/Application Support/Loupe/models; Windows: %LOCALAPPDATA%\\Loupe\\models;
    Linux: ~/.local/share/Loupe/models. Never inside the app bundle.
    """
    override = os.environ.get("LOUPE_MODELS_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("Loupe", appauthor=False)) / "models"
