"""TemporalGradCam's temporal model: a small head over a patient's sequence of images.

Features are the backbone's penultimate output (ResNet flatten 512 or ViT class token 768) of the
same patient's images up to the current day, ascending; the most recent `sequence_length` (3) are
placed at the START of the input and the rest is zero-padded at the end. Head:
`Flatten -> input Linear(3F, 64) -> Dropout -> bn BatchNorm1d(64) -> projection Linear(64, 2)`;
the probability of disease is the sigmoid of logit 1.

    m = load_model("oasis-temporal", weights="head.pt", backbone_weights="checkpoint.pt")
    m.classify_sequence([rgb_day1, rgb_day2, rgb_day3])   # {"healthy": 1 - p, "disease": p}

The backbone comes from the card's `extra.backbone` preset and `extra.backbone_weights` (relative to
the card or the user's models folder), or the `backbone_weights=` option.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from models.base import LoupeModel
from models.errors import WeightsError
from models.weights import find_state_dict, load_into, read_weights


class TemporalHead(nn.Module):
    def __init__(self, feature_dim: int, sequence_length: int = 3, hidden: int = 64, num_outputs: int = 2,
                 dropout: float = 0.5):
        super().__init__()
        self.flatten = nn.Flatten()
        self.input = nn.Linear(sequence_length * feature_dim, hidden)
        self.dropout = nn.Dropout(dropout)
        self.bn = nn.BatchNorm1d(hidden)
        self.projection = nn.Linear(hidden, num_outputs)

    def forward(self, x):  # (B, L, F)
        return self.projection(self.bn(self.dropout(self.input(self.flatten(x)))))


def sequence_input(features: list[torch.Tensor], length: int = 3) -> torch.Tensor:
    """(1, length, F): the most recent `length` feature vectors (ascending) first, zeros after."""
    recent = features[-length:]
    out = torch.zeros(1, length, recent[0].shape[-1], dtype=recent[0].dtype, device=recent[0].device)
    for i, f in enumerate(recent):
        out[0, i] = f.reshape(-1)
    return out


class TemporalClassifier(LoupeModel):
    task = "classification"
    controls = ("device",)

    def __init__(self, card, head: TemporalHead, backbone, device, sequence_length: int = 3):
        head.eval().to(device)
        super().__init__(card, head, device)
        self.backbone = backbone
        self.sequence_length = sequence_length

    def to(self, device):
        super().to(device)
        self.backbone.to(device)
        return self

    def features(self, rgb) -> torch.Tensor:
        with torch.inference_mode():
            return self.backbone.features(self.backbone.preprocess(rgb))[0]

    def logits_for_sequence(self, images) -> torch.Tensor:
        feats = [self.features(rgb) for rgb in images]
        with torch.inference_mode():
            return self.torch_module(sequence_input(feats, self.sequence_length).to(self.device))

    def classify_sequence(self, images) -> dict[str, float]:
        """images: the patient's RGB images up to the current day, oldest first."""
        if not images:
            raise ValueError("classify_sequence needs at least one image")
        p = torch.sigmoid(self.logits_for_sequence(images)[0, 1]).item()
        names = self.class_names
        return {names[0]: 1.0 - p, names[1]: p}

    def classify(self, rgb) -> dict[str, float]:
        """A single image is a sequence of one."""
        return self.classify_sequence([rgb])


def _backbone(card, device, options):
    from models.registry import load_model, preset_card

    arch = options.get("backbone") or card.extra.get("backbone", "oasis-resnet18")
    wanted = options.get("backbone_weights") or card.extra.get("backbone_weights")
    bcard = preset_card(arch)
    path = None
    if wanted:
        path = Path(wanted).expanduser()
        if not path.is_absolute() and card.extra.get("card_dir") and (Path(card.extra["card_dir"]) / path).exists():
            path = Path(card.extra["card_dir"]) / path
        elif not path.exists():
            from models.resources import user_models_dir

            path = user_models_dir() / path
        if not path.exists():
            raise WeightsError(f"the temporal model's backbone weights {wanted} were not found "
                               f"(looked beside the card and in the models folder)")
    return load_model(bcard, weights=path, device=device)


def load(card, weights, device, **options):
    length = int(card.extra.get("sequence_length", 3))
    sd = find_state_dict(read_weights(weights), weights) if weights is not None else None
    if sd is not None and "input.weight" in sd:
        feature_dim = int(sd["input.weight"].shape[1]) // length
        options.setdefault("backbone", "oasis-vit" if feature_dim == 768 else "oasis-resnet18")
    backbone = _backbone(card, device, options)
    head = TemporalHead(backbone.feature_dim, length)
    if sd is not None:
        load_into(head, sd, weights, card.name,
                  f"a temporal head (input ({head.input.out_features}, {length * backbone.feature_dim}), bn, projection)")
    return TemporalClassifier(card, head, backbone, device, length)
