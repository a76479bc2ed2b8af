"""Helpers for the training tests: a planted synthetic image-classification set and a tiny
classifier built on Loupe's TorchClassifier (so the loop sees the same interface as the seeds)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from PIL import Image


def planted_image_folder(root: Path, n_per_class=(30, 12), size=48, seed=0, layout="split") -> Path:
    """Class "healthy": a bright square top-left; "disease": bottom-right; noisy backgrounds.
    Imbalanced on purpose (class weighting)."""
    rng = np.random.default_rng(seed)
    for cls, n in zip(("healthy", "disease"), n_per_class):
        for i in range(n):
            split = ("train", "val", "test")[0 if i % 5 < 3 else (1 if i % 5 == 3 else 2)]
            d = root / (f"{split}/{cls}" if layout == "split" else cls)
            d.mkdir(parents=True, exist_ok=True)
            img = rng.integers(0, 90, (size, size, 3), dtype=np.uint8)
            o = rng.integers(2, 8)
            if cls == "healthy":
                img[o:o + 16, o:o + 16] = 230
            else:
                img[size - 16 - o:size - o, size - 16 - o:size - o] = 230
            Image.fromarray(img).save(d / f"{cls}_{i}.png")
    return root


def tiny_classifier(n_out=2, names=("healthy", "disease"), seed=0):
    import torch
    import torchvision.transforms as T

    from models.base import ModelCard
    from models.classification.common import TorchClassifier

    torch.manual_seed(seed)

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = torch.nn.Sequential(
                torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(),
                torch.nn.AdaptiveAvgPool2d(4), torch.nn.Flatten())
            self.fc = torch.nn.Linear(128, n_out)

        def forward(self, x):
            return self.fc(self.features(x))

    class TinyClassifier(TorchClassifier):
        _t = T.Compose([T.Resize((32, 32)), T.ToTensor()])

        def transform(self, image):
            return self._t(image)

    card = ModelCard(name="tiny", architecture="tiny-test", task="classification", class_names=list(names))
    return TinyClassifier(card, Tiny(), torch.device("cpu"))


def rbc_subset(dst: Path, n_train: int, shared: Path, n_valid: int | None = None) -> Path:
    """A small Roboflow-layout copy of ../shared/data/coco_rbc (first n images of each split)."""
    src = shared / "coco_rbc"
    n_valid = n_valid or max(2, n_train // 4)
    for split, k in (("train", n_train), ("valid", n_valid), ("test", n_valid)):
        d = json.loads((src / split / "_annotations.coco.json").read_text())
        imgs = d["images"][:k]
        ids = {i["id"] for i in imgs}
        (dst / split).mkdir(parents=True, exist_ok=True)
        for i in imgs:
            shutil.copy(src / split / i["file_name"], dst / split / i["file_name"])
        d["images"] = imgs
        d["annotations"] = [a for a in d["annotations"] if a["image_id"] in ids]
        (dst / split / "_annotations.coco.json").write_text(json.dumps(d))
    return dst


def read_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
