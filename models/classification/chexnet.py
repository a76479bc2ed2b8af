"""CheXNet (Rajpurkar et al. 2017; the arnoweng/CheXNet release): DenseNet-121, 14 ChestX-ray14
findings, multi-label sigmoid.

Published file `model.pth.tar`: legacy (non-zip) torch serialisation of a dict whose `state_dict`
comes from a `DataParallel` model: `module.densenet121.features.*` in torchvision's old naming
(`norm.1`, `conv.1`, ...) and `module.densenet121.classifier.0.*` (followed by a Sigmoid).

`classify` does what the authors did: Resize(256), ten 224 crops, ImageNet mean/std, the sigmoid
outputs averaged over the crops. `preprocess` (for saliency) is one view of the whole image resized
to 224x224, so a saliency map covers the whole image; `saliency_layer` is `features`.
"""

from __future__ import annotations

import re

import torch
from torchvision import models as tvm
from torchvision import transforms as T

from models.classification.common import TorchClassifier, to_pil
from models.weights import find_state_dict, load_into, read_weights

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
_OLD_NAME = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


def convert_state_dict(sd: dict) -> dict:
    """CheXNet's DataParallel, old-torchvision keys -> current torchvision densenet121 keys."""
    out = {}
    for key, value in sd.items():
        k = key[len("module."):] if key.startswith("module.") else key
        k = k[len("densenet121."):] if k.startswith("densenet121.") else k
        k = k.replace("classifier.0.", "classifier.")
        m = _OLD_NAME.match(k)
        if m:
            k = m.group(1) + m.group(2)
        out[k] = value
    return out


class CheXNet(TorchClassifier):
    multi_label = True

    def __init__(self, card, module, device):
        super().__init__(card, module, device)
        normalize = T.Normalize(MEAN, STD)
        self._single = T.Compose([T.Resize((224, 224)), T.ToTensor(), normalize])
        self._resize = T.Resize(256)
        self._ten = T.TenCrop(224)
        self._to_tensor = T.Compose([T.ToTensor(), normalize])

    def transform(self, image):
        return self._single(image)

    def saliency_layer(self):
        return self.torch_module.features

    def ten_crops(self, rgb) -> torch.Tensor:
        """(10, 3, 224, 224): the authors' Resize(256) + TenCrop(224), normalised."""
        crops = self._ten(self._resize(to_pil(rgb)))
        return torch.stack([self._to_tensor(c) for c in crops]).to(self.device)

    def classify(self, rgb) -> dict[str, float]:
        with torch.inference_mode():
            probs = torch.sigmoid(self.torch_module(self.ten_crops(rgb))).mean(0)
        return self._as_dict(probs)


def build(num_classes: int = 14) -> torch.nn.Module:
    return tvm.densenet121(weights=None, num_classes=num_classes)


def load(card, weights, device, **options):
    module = build(len(card.class_names) or 14)
    if weights is not None:
        raw = find_state_dict(read_weights(weights), weights)
        load_into(module, convert_state_dict(raw), weights, card.name,
                  "a CheXNet DenseNet-121 checkpoint (module.densenet121.features.*, classifier.0 "
                  f"({len(card.class_names)}, 1024))", original=raw)
    return CheXNet(card, module, device)
