"""TemporalGradCam's OASIS brain-MRI classifiers (labels 0 healthy, 1 disease), as the authors ran them.

- `oasis-resnet18`: torchvision resnet18, `fc = Linear(512, 2)`; input is the grey image repeated to
  3 channels at 256x256 in [0, 1] (NOT normalised). Saliency layer: `layer4`.
- `oasis-vit`: torchvision vit_b_16, `heads.head = Linear(768, 2)`; input `ToTensor()` then
  `Resize(224)` (NOT normalised). Saliency layer: the last encoder block's `ln_1`, with
  `reshape_transform` turning its (B, 197, 768) tokens into a (B, 768, 14, 14) map (class token dropped).

Checkpoints are full state dicts (`checkpoint.pt`): BatchNorm statistics included. `features(x)`
gives the penultimate features the temporal model uses (ResNet flatten 512, ViT class token 768).
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision import models as tvm
from torchvision import transforms as T

from models.classification.common import TorchClassifier
from models.weights import find_state_dict, load_into, read_weights


class OasisResNet18(TorchClassifier):
    feature_dim = 512

    def __init__(self, card, module, device):
        super().__init__(card, module, device)
        self._t = T.Compose([T.Grayscale(1), T.Resize((256, 256)), T.ToTensor()])

    def transform(self, image):
        return self._t(image).repeat(3, 1, 1)

    def saliency_layer(self):
        return self.torch_module.layer4

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 512): the output of ResNet's flatten, before fc."""
        m = self.torch_module
        x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        x = m.layer4(m.layer3(m.layer2(m.layer1(x))))
        return torch.flatten(m.avgpool(x), 1)


class OasisViT(TorchClassifier):
    feature_dim = 768

    def __init__(self, card, module, device):
        super().__init__(card, module, device)
        self._t = T.Compose([T.ToTensor(), T.Resize(224)])

    def transform(self, image):
        x = self._t(image)
        if tuple(x.shape[1:]) != (224, 224):  # the authors' images were square; keep ViT's grid
            x = T.functional.resize(x, [224, 224])
        return x

    def saliency_layer(self):
        return self.torch_module.encoder.layers[-1].ln_1

    @staticmethod
    def reshape_transform(tokens: torch.Tensor, height: int = 14, width: int = 14) -> torch.Tensor:
        """(B, 1 + h*w, C) tokens -> (B, C, h, w), dropping the class token (for Grad-CAM)."""
        x = tokens[:, 1:, :].reshape(tokens.size(0), height, width, tokens.size(2))
        return x.permute(0, 3, 1, 2)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 768): the class token after the encoder, before the head."""
        m = self.torch_module
        x = m._process_input(x)
        x = torch.cat([m.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        return m.encoder(x)[:, 0]


def build_resnet18(num_classes: int = 2) -> nn.Module:
    m = tvm.resnet18(weights=None)
    m.fc = nn.Linear(512, num_classes)
    return m


def build_vit(num_classes: int = 2) -> nn.Module:
    m = tvm.vit_b_16(weights=None)
    m.heads.head = nn.Linear(768, num_classes)
    return m


def _load(card, weights, module, expects):
    if weights is not None:
        sd = find_state_dict(read_weights(weights), weights)
        load_into(module, sd, weights, card.name, expects)
    return module


def load_resnet18(card, weights, device, **options):
    n = len(card.class_names) or 2
    module = _load(card, weights, build_resnet18(n), f"a torchvision ResNet-18 state dict with fc ({n}, 512)")
    return OasisResNet18(card, module, device)


def load_vit(card, weights, device, **options):
    n = len(card.class_names) or 2
    module = _load(card, weights, build_vit(n), f"a torchvision ViT-B/16 state dict with heads.head ({n}, 768)")
    return OasisViT(card, module, device)
