"""A tiny torch classifier with BatchNorm and dropout (the shape of Qing's problem: Monte Carlo
dropout must switch on the dropout only), loadable through the registry's architecture seam."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from models.base import ModelCard
from models.classification.common import TorchClassifier


class TinyNet(nn.Module):
    def __init__(self, p: float):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(p)
        self.fc = nn.Linear(4, 1)
        self.bn_was_training = None

    def forward(self, x):
        self.bn_was_training = self.bn.training
        h = self.bn(self.conv(x)).mean(dim=(2, 3))
        return self.fc(self.drop(h))


class TinyClassifier(TorchClassifier):
    def transform(self, image):
        return torch.from_numpy(np.asarray(image, np.float32).transpose(2, 0, 1) / 255)


def tiny_classifier(p: float = 0.5, name: str = "tiny", card: ModelCard | None = None) -> TinyClassifier:
    torch.manual_seed(0)
    module = TinyNet(p)
    with torch.no_grad():
        module.bn.running_mean.fill_(0.3)
        module.bn.running_var.fill_(2.0)
    card = card or ModelCard(name=name, architecture="tiny-dropout", task="classification",
                             class_names=["normal", "pneumonia"])
    return TinyClassifier(card, module, torch.device("cpu"))


def load_tiny(card, weights, device, **options):
    """The registry's loader signature: a card in, the tiny model with that card out."""
    model = tiny_classifier(0.5, card=card)
    return model
