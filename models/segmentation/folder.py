"""Checking a segment-anything weights folder before transformers reads it.

The weights of these models are a folder in the Hugging Face layout, not one file:
    config.json               the architecture ("model_type": "sam" or "sam2") and its sizes
    model.safetensors         the tensors (or model.safetensors.index.json and its shards)
    preprocessor_config.json  how the model's own processor resizes, pads and normalises
Each problem is a WeightsError naming the file and the reason, as for every other model.
"""

from __future__ import annotations

import json
from pathlib import Path

from models.errors import WeightsError

REQUIRED = ("config.json", "preprocessor_config.json")
TENSORS = ("model.safetensors", "model.safetensors.index.json")
LAYOUT = "config.json, model.safetensors and preprocessor_config.json"

# model_type in config.json -> the transformers class that reads it
MODEL_TYPES = {"sam": "SamModel", "sam2": "Sam2Model"}


def _where(card) -> str:
    page = (getattr(card, "extra", {}) or {}).get("download", {}).get("page") or getattr(card, "source", "")
    return f" Get the folder from {page}." if page else ""


def check_folder(folder: Path, card, model_type: str) -> dict:
    """The parsed config.json of a weights folder for `model_type` ("sam" / "sam2"), or WeightsError."""
    folder = Path(folder)
    name = card.name
    if not folder.exists():
        raise WeightsError(f"weights folder not found: {folder}")
    if not folder.is_dir():
        raise WeightsError(
            f"{folder} is a file; the {name} model's weights are a folder holding {LAYOUT} "
            f"(the Hugging Face layout), not one file.{_where(card)}")
    for file in REQUIRED:
        if not (folder / file).is_file():
            raise WeightsError(f"{folder / file} is missing: the {name} model's folder needs {LAYOUT}.{_where(card)}")
    if not any((folder / f).is_file() for f in TENSORS):
        other = sorted(p.name for p in folder.glob("*.bin")) + sorted(p.name for p in folder.glob("*.pth"))
        why = (f" ({', '.join(other)} is not read: Loupe loads tensors only from safetensors files)"
               if other else "")
        raise WeightsError(f"{folder / 'model.safetensors'} is missing: the {name} model's folder needs "
                           f"{LAYOUT}{why}.{_where(card)}")
    config = _read_json(folder / "config.json")
    found = config.get("model_type")
    if found != model_type:
        arch = ", ".join(config.get("architectures") or []) or "no architecture named"
        raise WeightsError(
            f"{folder / 'config.json'} is for a {found or 'unknown'} model ({arch}), not for {name}: "
            f"{name} needs a {MODEL_TYPES[model_type]} folder (model_type {model_type!r}).{_where(card)}")
    _read_json(folder / "preprocessor_config.json")
    return config


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{path} is not readable JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise WeightsError(f"{path} must hold a JSON object")
    return data
