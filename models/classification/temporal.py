"""TemporalGradCam's temporal model: a small head over a patient's sequence of images.

Features are the backbone's penultimate output (ResNet flatten 512 or ViT class token 768) of the
same patient's images up to the current day, ascending; the most recent `sequence_length` (3) are
placed at the START of the input and the rest is zero-padded at the end. Head:
`Flatten -> input Linear(3F, 64) -> Dropout -> bn BatchNorm1d(64) -> projection Linear(64, 2)`.
As the authors decide: the predicted class is argmax(logit 0, logit 1), and the probabilities shown
are the softmax of the two logits (same argmax); their AUC ranks by the raw logit 1 (`logits`).

    m = load_model("oasis-temporal", weights="head.pt", backbone_weights="resnet18-f37072fd.pth")
    m.classify_sequence([rgb_day1, rgb_day2, rgb_day3])   # {"healthy": p0, "disease": p1}, softmax
    m.logits_sequence([rgb_day1, rgb_day2, rgb_day3])     # {"healthy": z0, "disease": z1}, raw

The features come from torchvision's ImageNet backbones (`resnet18(weights="DEFAULT")`,
`vit_b_16(weights="DEFAULT")`), NOT the OASIS fine-tuned checkpoints: the backbone file is the one
torchvision publishes and its download saves (a plain state_dict with fc 1000x512 / heads.head
1000x768, e.g. `resnet18-f37072fd.pth`). It is named by the card's `extra.backbone_weights` (found
beside the card, in the user's models folder or in torch's download cache) or the
`backbone_weights=` option; `extra.backbone` names the preset whose preprocessing it gets
(docs/decisions/0090).
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
        """(1, 2) raw logits of the head over `images` (the patient's RGB images, oldest first)."""
        if not images:
            raise ValueError("a temporal model needs at least one image of the patient")
        feats = [self.features(rgb) for rgb in images]
        with torch.inference_mode():
            return self.torch_module(sequence_input(feats, self.sequence_length).to(self.device))

    def _named(self, values: torch.Tensor) -> dict[str, float]:
        return {name: float(v) for name, v in zip(self.class_names, values.float().cpu().tolist())}

    def logits_sequence(self, images) -> dict[str, float]:
        """{class: raw logit}: what the authors' AUC ranks by (logit 1)."""
        return self._named(self.logits_for_sequence(images)[0])

    def classify_sequence(self, images) -> dict[str, float]:
        """{class: softmax probability} over the patient's RGB images up to the current day, oldest
        first; the most probable class is the authors' argmax of the two logits."""
        return self._named(torch.softmax(self.logits_for_sequence(images)[0], dim=0))

    def classify(self, rgb) -> dict[str, float]:
        """A single image is a sequence of one."""
        return self.classify_sequence([rgb])


# torchvision's published ImageNet files (what `resnet18(weights="DEFAULT")` downloads), per backbone
IMAGENET_FILES = {"oasis-resnet18": "resnet18-f37072fd.pth", "oasis-vit": "vit_b_16-c867db91.pth"}
IMAGENET_CLASSES = 1000


def build_imagenet_backbone(arch: str) -> nn.Module:
    """The torchvision network whose ImageNet state dict the temporal preset takes (1000 classes)."""
    from torchvision import models as tvm

    return tvm.vit_b_16(weights=None) if arch == "oasis-vit" else tvm.resnet18(weights=None)


def _torch_cache() -> Path | None:
    try:
        return Path(torch.hub.get_dir()) / "checkpoints"
    except Exception:  # pragma: no cover - torch.hub always answers
        return None


def find_backbone_file(card, wanted: str) -> Path:
    path = Path(wanted).expanduser()
    if path.is_absolute() or path.exists():
        candidates = [path]
    else:
        from models.resources import user_models_dir

        candidates = [Path(card.extra["card_dir"]) / path] if card.extra.get("card_dir") else []
        candidates += [user_models_dir() / path] + ([_torch_cache() / path] if _torch_cache() else [])
    for c in candidates:
        if c.exists():
            return c
    where = ", ".join(str(c.parent) for c in candidates)
    raise WeightsError(f"the temporal model's backbone file {path.name} (torchvision's ImageNet weights) "
                       f"was not found; looked in {where}")


def _backbone(card, device, options):
    """The backbone preset's model (its preprocessing and `features`) with torchvision's ImageNet
    weights; the OASIS fine-tuned checkpoints are refused (their features are not the head's)."""
    from models.classification.oasis import OasisResNet18, OasisViT
    from models.registry import preset_card

    arch = options.get("backbone") or card.extra.get("backbone", "oasis-resnet18")
    own = card.extra.get("backbone_weights") if arch == card.extra.get("backbone", "oasis-resnet18") else None
    wanted = options.get("backbone_weights") or own or IMAGENET_FILES.get(arch)
    bcard = preset_card(arch)
    module = build_imagenet_backbone(arch)
    head_key, dim = ("heads.head.weight", 768) if arch == "oasis-vit" else ("fc.weight", 512)
    expects = (f"torchvision's ImageNet {'ViT-B/16' if dim == 768 else 'ResNet-18'} state dict "
               f"({IMAGENET_FILES.get(arch)}, {head_key.rsplit('.', 1)[0]} {IMAGENET_CLASSES}x{dim})")
    if wanted is not None:
        path = find_backbone_file(card, wanted)
        sd = find_state_dict(read_weights(path), path)
        head = sd.get(head_key)
        if head is not None and tuple(head.shape) != (IMAGENET_CLASSES, dim):
            raise WeightsError(
                f"{path}: this is a {'ViT-B/16' if dim == 768 else 'ResNet-18'} with a {head.shape[0]}-class "
                f"head (an OASIS fine-tuned checkpoint?); the temporal model's features come from "
                f"{expects}, as the authors extracted them")
        load_into(module, sd, path, card.name, expects)
    module.eval()
    cls = OasisViT if arch == "oasis-vit" else OasisResNet18
    return cls(bcard, module, device)


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
