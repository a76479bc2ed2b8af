"""The output folder of a training run: never overwritten, with weights, card, metrics log and report.

    out/weights.safetensors   the trained module's state dict
    out/model.json            a model card (models.base.ModelCard fields) that models.load_model reads
    out/metrics.jsonl         every progress event of the run
    out/report.html           the evaluation report with the training curves
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

from models.errors import LoupeError

CARD_NAME = "model.json"
WEIGHTS_NAME = "weights.safetensors"


class TrainingInputError(LoupeError):
    """The data folder, base model or output folder of a training run is unusable."""


def fresh_out_dir(out: str | os.PathLike, numbered: bool = True) -> Path:
    """`out` itself when absent or empty; otherwise `out-2`, `out-3`, ... (or an error when not numbered)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise TrainingInputError(f"{out}: exists and is not a folder; choose another output folder")
    if not out.exists() or not any(out.iterdir()):
        out.mkdir(parents=True, exist_ok=True)
        return out
    if not numbered:
        raise TrainingInputError(f"{out}: folder is not empty; Loupe never overwrites a trained model. "
                                 "Choose a new output folder.")
    n = 2
    while True:
        cand = out.with_name(f"{out.name}-{n}")
        try:
            cand.mkdir(parents=True)
            return cand
        except FileExistsError:
            if cand.is_dir() and not any(cand.iterdir()):
                return cand
            n += 1


def dataset_hash(folder: str | os.PathLike) -> str:
    """sha256 over every file's relative path and bytes (sorted): the same data gives the same hash."""
    folder = Path(folder)
    h = hashlib.sha256()
    for p in sorted(x for x in folder.rglob("*") if x.is_file()):
        rel = p.relative_to(folder).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        h.update(rel.encode() + b"\0")
        with p.open("rb") as f:
            for chunk in iter(lambda f=f: f.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return "sha256:" + h.hexdigest()


def save_weights(state_dict: dict, out: Path) -> Path:
    """Save a state dict as safetensors (tensors copied out, so shared storage saves too)."""
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()
               if hasattr(v, "detach")}
    path = out / WEIGHTS_NAME
    tmp = out / (WEIGHTS_NAME + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, path)
    return path


def write_card(out: Path, card) -> Path:
    """Write a ModelCard (or a dict of its fields) as JSON, atomically."""
    data = dataclasses.asdict(card) if dataclasses.is_dataclass(card) else dict(card)
    path = out / CARD_NAME
    tmp = out / (CARD_NAME + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
