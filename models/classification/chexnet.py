"""CheXNet (Rajpurkar et al. 2017; the arnoweng/CheXNet release): DenseNet-121, 14 ChestX-ray14
findings, multi-label sigmoid.

Published file `model.pth.tar`: legacy (non-zip) torch serialisation of a dict whose `state_dict`
comes from a `DataParallel` model: `module.densenet121.features.*` in torchvision's old naming
(`norm.1`, `conv.1`, ...) and `module.densenet121.classifier.0.*` (followed by a Sigmoid). The same
weights re-saved by newer torch load too (MODELS.md section 6): new names, no `module.`, no
`densenet121.`, `num_batches_tracked` buffers, a bare state dict, zip serialisation.

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
from models.errors import WeightsError
from models.weights import find_state_dict, load_into, read_weights

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
# torchvision < 0.3 named a dense layer's modules `norm.1`, `conv.1`, ...; since then `norm1`, `conv1`
_OLD_NAME = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.([12]\.(?:weight|bias|running_mean|running_var|"
                       r"num_batches_tracked))$")
# DataParallel's `module.`, the authors' `CheXNet` module's `densenet121.`, in any combination
_PREFIXES = ("module.", "densenet121.")
# DenseNet variants by the number of layers in each dense block (torchvision's growth configs)
_DENSENETS = {(6, 12, 24, 16): "DenseNet-121", (6, 12, 32, 32): "DenseNet-169",
              (6, 12, 48, 32): "DenseNet-201", (6, 12, 36, 24): "DenseNet-161"}
EXPECTS = "a DenseNet-121 with a classifier of {n} outputs (CheXNet's model.pth.tar or the same weights re-saved)"


def _normal_key(key: str) -> str:
    k = key
    while k.startswith(_PREFIXES):
        k = k[len(next(p for p in _PREFIXES if k.startswith(p))):]
    if k.startswith("classifier.0."):  # the authors' Sequential(Linear, Sigmoid)
        k = "classifier." + k[len("classifier.0."):]
    m = _OLD_NAME.match(k)
    return m.group(1) + m.group(2) if m else k


def convert_state_dict(sd: dict) -> dict:
    """Any layout of CheXNet's weights (MODELS.md section 6) -> current torchvision densenet121 keys:
    old (`norm.1`) or new (`norm1`) names, with or without `module.` and `densenet121.`, with or
    without `num_batches_tracked` (kept when present, filled in by the loader when absent)."""
    return {_normal_key(k): v for k, v in sd.items()}


def _densenet_blocks(sd: dict) -> tuple[int, ...]:
    """Layers per dense block of a (converted) state dict, () when it is no DenseNet."""
    layers: dict[int, set] = {}
    for k in sd:
        m = re.match(r"^features\.denseblock(\d+)\.denselayer(\d+)\.", k)
        if m:
            layers.setdefault(int(m.group(1)), set()).add(int(m.group(2)))
    return tuple(len(layers[b]) for b in sorted(layers))


def what_it_is(raw: dict, sd: dict) -> str:
    """Words for what a state dict actually is, judged from its tensors (never from the preset)."""
    blocks = _densenet_blocks(sd)
    if blocks:
        name = _DENSENETS.get(blocks, f"DenseNet with {'/'.join(map(str, blocks))} layers per block")
        w = sd.get("classifier.weight")
        head = f" with {w.shape[0]} outputs" if hasattr(w, "shape") and w.ndim == 2 else " without a classifier"
        return f"a {name}{head}"
    from models.registry import describe_state_dict

    return describe_state_dict(raw) or "not a DenseNet"


def load_weights(module: torch.nn.Module, raw: dict, path, preset: str) -> None:
    """Load any CheXNet layout into torchvision's densenet121 strictly; when it does not fit, say
    what the file is and what differs."""
    sd = convert_state_dict(raw)
    own = module.state_dict()
    missing = [k for k in own if k not in sd and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in sd if k not in own]
    shapes = [f"{k}: file {tuple(sd[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in sd and tuple(sd[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        n = own["classifier.weight"].shape[0]
        what = what_it_is(raw, sd)
        if what == f"a DenseNet-121 with {n} outputs":  # the right model, but tensors are missing or extra
            parts = [f"{path} is {what}, but not all of its tensors fit torchvision's DenseNet-121 "
                     f"(the {preset} preset)."]
        else:
            parts = [f"{path} is {what}; the {preset} preset needs {EXPECTS.format(n=n)}."]
        if shapes:
            parts.append(f"{len(shapes)} shape mismatches, first: {'; '.join(shapes[:3])}.")
        if missing:
            parts.append(f"{len(missing)} missing keys, first: {', '.join(missing[:5])}.")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected keys, first: {', '.join(unexpected[:5])}.")
        raise WeightsError(" ".join(parts))
    load_into(module, sd, path, preset)


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
        load_weights(module, find_state_dict(read_weights(weights), weights), weights, card.name)
    return CheXNet(card, module, device)
