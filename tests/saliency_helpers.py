"""Saliency test helpers: a planted-shape problem with a tiny CNN trained in seconds, and classifier
presets built with seeded random weights in their published layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.base import LoupeModel, ModelCard

SIZE, SQUARE = 32, 6


def planted_images(n: int, rng: np.random.Generator, with_square: bool):
    """(n, 32, 32) float images of dim noise; with a bright 6x6 square at a random place or not."""
    imgs = np.clip(rng.normal(0.25, 0.08, (n, SIZE, SIZE)), 0, 1).astype(np.float32)
    boxes = []
    for i in range(n):
        y, x = rng.integers(2, SIZE - SQUARE - 2, size=2)
        if with_square:
            imgs[i, y:y + SQUARE, x:x + SQUARE] = 1.0
        boxes.append((int(y), int(x)))
    return imgs, boxes


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        return self.fc(self.features(x).mean(dim=(2, 3)))


class TinyModel(LoupeModel):
    task = "classification"

    def preprocess(self, rgb):
        arr = np.asarray(rgb)[..., 0].astype(np.float32) / 255.0
        return torch.from_numpy(arr)[None, None].to(self.device)

    def forward_logits(self, x):
        return self.torch_module(x)

    def saliency_layer(self):
        return self.torch_module.features


def train_planted(seed: int = 0, steps: int = 60) -> TinyModel:
    """A TinyNet that tells "bright square somewhere" from "no square" (a few seconds on a CPU)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny convolutions: one thread is as fast, and immune to a busy machine
    try:
        return _train(seed, steps)
    finally:
        torch.set_num_threads(threads)


def _train(seed: int, steps: int) -> TinyModel:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = TinyNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(steps):
        pos, _ = planted_images(32, rng, True)
        neg, _ = planted_images(32, rng, False)
        x = torch.from_numpy(np.concatenate([pos, neg]))[:, None]
        y = torch.tensor([1] * 32 + [0] * 32)
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    card = ModelCard(name="planted", architecture="tiny", task="classification", class_names=["empty", "shape"])
    return TinyModel(card, net, torch.device("cpu"))


def to_rgb(img: np.ndarray) -> np.ndarray:
    return np.repeat((img * 255).round().astype(np.uint8)[..., None], 3, axis=2)


def preset_model(name: str, folder: Path):
    """`load_model(name)` on seeded random weights saved in the preset's published format."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from e2e_helpers import build_preset_weights

    from models import load_model

    path = build_preset_weights(name, folder)
    return load_model(name, weights=path, device="cpu")
