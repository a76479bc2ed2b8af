"""What every loaded model offers, whatever its architecture.

The app, the CLI, saliency and training code only talk to models through this interface.
torch is imported lazily so that importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

TASKS = ("detection", "classification", "captioning", "segmentation")

# Controls a model may declare; the model panel shows only the ones a model lists.
CONTROLS = ("threshold", "class_filter", "beam_size", "max_length", "saliency_method", "device")


@dataclass
class Detections:
    """Detections on one image, in that image's pixel coordinates."""

    xyxy: np.ndarray  # (N, 4) float32, x1 y1 x2 y2 in pixels of the input image
    scores: np.ndarray  # (N,) float32
    class_ids: np.ndarray  # (N,) int64, the model's own class ids
    class_names: list[str]  # (N,) the name of each detection's class

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64), [])

    def filter(self, threshold: float = 0.0, classes: set[str] | None = None) -> Detections:
        keep = self.scores >= threshold
        if classes is not None:
            keep &= np.array([n in classes for n in self.class_names], dtype=bool)
        idx = np.flatnonzero(keep)
        return Detections(self.xyxy[idx], self.scores[idx], self.class_ids[idx],
                          [self.class_names[i] for i in idx])


@dataclass
class ModelCard:
    """The JSON card that travels with a weights file (see resources/presets/*.json)."""

    name: str
    architecture: str  # e.g. "rfdetr-nano", "chexnet", "qing", "oasis-resnet18", "roco-captioner"
    task: str  # one of TASKS
    class_names: list[str] = field(default_factory=list)
    weights: str | None = None  # path, relative to the card's folder when relative
    default_threshold: float = 0.5
    description: str = ""
    preprocessing: dict[str, Any] = field(default_factory=dict)
    controls: list[str] = field(default_factory=list)
    source: str = ""  # where the user gets the published weights
    extra: dict[str, Any] = field(default_factory=dict)  # parent model, metrics, dataset hash, ...


class LoupeModel:
    """Base class of loaded models. Subclasses implement the method of their task.

    Saliency (`models.saliency`) relies on `preprocess`, `forward_logits`, `torch_module` and
    `saliency_layer`; detection saliency relies on the detector's own hooks.
    """

    task: ClassVar[str] = ""
    controls: ClassVar[tuple[str, ...]] = ("device",)

    def __init__(self, card: ModelCard, module: torch.nn.Module, device: torch.device):
        self.card = card
        self.torch_module = module
        self.device = device

    # -- identity -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.card.name

    @property
    def class_names(self) -> list[str]:
        return list(self.card.class_names)

    # -- device ---------------------------------------------------------------------------
    def to(self, device) -> LoupeModel:
        from models.devices import resolve_device

        self.device = resolve_device(device)
        self.torch_module.to(self.device)
        return self

    # -- tasks ----------------------------------------------------------------------------
    def detect(self, rgb: np.ndarray, threshold: float | None = None) -> Detections:
        raise NotImplementedError(f"{self.name} is a {self.task} model, not a detector")

    def classify(self, rgb: np.ndarray) -> dict[str, float]:
        raise NotImplementedError(f"{self.name} is a {self.task} model, not a classifier")

    def caption(self, rgb: np.ndarray, max_len: int = 80, beam_size: int = 1, **options) -> str:
        raise NotImplementedError(f"{self.name} is a {self.task} model, not a captioner")

    def embed(self, rgb: np.ndarray):
        """Segmentation models: the image embedding `segment` takes (models.segmentation.sam)."""
        raise NotImplementedError(f"{self.name} is a {self.task} model, not a segmentation model")

    def segment(self, emb, points=None, box=None) -> tuple[np.ndarray, float]:
        raise NotImplementedError(f"{self.name} is a {self.task} model, not a segmentation model")

    # -- for saliency ---------------------------------------------------------------------
    def preprocess(self, rgb: np.ndarray) -> torch.Tensor:
        """RGB uint8 (H, W, 3) -> the (1, C, h, w) tensor the network takes, on self.device."""
        raise NotImplementedError

    def forward_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Preprocessed batch -> (B, num_outputs) logits (before sigmoid/softmax)."""
        raise NotImplementedError

    def saliency_layer(self) -> torch.nn.Module:
        """The layer Grad-CAM hooks (ResNet layer4, DenseNet features, ...)."""
        raise NotImplementedError
