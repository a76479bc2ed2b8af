"""What the classifiers share: PIL-based preprocessing (the authors' own torchvision transforms,
so the numbers match theirs), inference mode, and probabilities keyed by class name."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import nn

from models.base import LoupeModel, ModelCard
from models.errors import LoupeError


def to_pil(rgb) -> Image.Image:
    """RGB uint8 (H, W, 3) array (or a PIL image) -> PIL RGB image."""
    if isinstance(rgb, Image.Image):
        return rgb.convert("RGB")
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8:
        raise LoupeError(f"models take RGB uint8 images; got dtype {arr.dtype}")
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise LoupeError(f"models take RGB images of shape (H, W, 3); got {arr.shape}")
    return Image.fromarray(np.ascontiguousarray(arr[:, :, :3]), "RGB")


def set_memory_format(module: nn.Module, device: torch.device) -> torch.memory_format:
    """Lay a convolutional network's weights out channels-last on CPU, contiguous elsewhere; return
    the layout inputs should take. oneDNN runs NHWC convolutions much faster (measured on 2 cores:
    ResNet-18 55 -> 42 ms per image, DenseNet-121 in batches of 8 98 -> 67 ms per image; outputs equal
    to 5e-7). CUDA and MPS keep the default layout until measured there (docs/decisions/0073)."""
    if not any(isinstance(m, nn.Conv2d) for m in module.modules()):
        return torch.contiguous_format
    fmt = torch.channels_last if device.type == "cpu" else torch.contiguous_format
    module.to(memory_format=fmt)
    return fmt


class TorchClassifier(LoupeModel):
    """A classifier over one torch module. Subclasses set `transform` (PIL -> (C, h, w) tensor) and
    `multi_label` (sigmoid per class) or leave it False (softmax over classes)."""

    task = "classification"
    controls = ("saliency_method", "device")
    multi_label = False

    def __init__(self, card: ModelCard, module: torch.nn.Module, device: torch.device):
        module.eval().to(device=device, dtype=torch.float32)
        super().__init__(card, module, device)
        self._memory_format = set_memory_format(module, device)

    def to(self, device) -> TorchClassifier:
        super().to(device)
        self._memory_format = set_memory_format(self.torch_module, self.device)
        return self

    # to be set by subclasses
    def transform(self, image: Image.Image) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def preprocess(self, rgb) -> torch.Tensor:
        return self.transform(to_pil(rgb)).unsqueeze(0).to(self.device)

    def forward_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.torch_module(x)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """(B, K) logits -> (B, len(class_names)) probabilities."""
        if self.multi_label or logits.shape[1] == 1:
            return torch.sigmoid(logits)
        return torch.softmax(logits, dim=1)

    def _as_dict(self, probs: torch.Tensor) -> dict[str, float]:
        values = probs.detach().float().cpu().numpy().ravel().tolist()
        names = self.class_names
        if len(values) == 1 and len(names) == 2:  # binary head: probability of the positive class
            values = [1.0 - values[0], values[0]]
        return {name: float(v) for name, v in zip(names, values)}

    def classify(self, rgb) -> dict[str, float]:
        with torch.inference_mode():
            return self._as_dict(self.probabilities(self.forward_logits(self.preprocess(rgb)))[0])

    def logits(self, rgb) -> dict[str, float]:
        """{class: raw logit} of the single view (what the TemporalGradCam authors' AUC ranks by);
        a one-logit binary head gives that logit for the positive class only."""
        from models.errors import LoupeError

        if not self.batchable():
            raise LoupeError(f"{self.name} averages several views' probabilities; it has no single raw logit")
        with torch.inference_mode():
            z = self.forward_logits(self.preprocess(rgb))[0].float().cpu().tolist()
        names = self.class_names
        if len(z) == 1 and len(names) == 2:
            return {names[1]: float(z[0])}
        return {name: float(v) for name, v in zip(names, z)}

    # -- batches (models.batch): preprocessing in the decode threads, one forward per batch -----
    def batchable(self) -> bool:
        """True when `classify` is this single-view path (CheXNet's ten-crop overrides it)."""
        return type(self).classify is TorchClassifier.classify

    def prepare(self, rgb) -> torch.Tensor:
        """RGB -> the (C, h, w) CPU tensor `classify` feeds the network; safe in a worker thread."""
        return self.transform(to_pil(rgb))

    def classify_prepared(self, tensors: list[torch.Tensor]) -> list[dict[str, float]]:
        """`prepare`d tensors -> one {class: probability} per image, in one forward pass."""
        with torch.inference_mode():
            batch = torch.stack(tensors).to(self.device).contiguous(memory_format=self._memory_format)
            logits = self.forward_logits(batch)
            return [self._as_dict(p) for p in self.probabilities(logits)]
