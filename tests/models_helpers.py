"""Shared helpers of the model tests: real images from ../shared/data as RGB uint8 arrays, and
saving state dicts in the published layouts."""

from __future__ import annotations

import re
from pathlib import Path
from unittest import mock

import numpy as np
from PIL import Image

NIH_IMAGE = "nih/images/00000032_037.png"


def real_rgb(shared_data: Path, rel: str = NIH_IMAGE, size: int | None = None) -> np.ndarray:
    """A real image from ../shared/data as RGB uint8 (optionally resized to size x size)."""
    img = Image.open(shared_data / rel).convert("RGB")
    if size:
        img = img.resize((size, size), Image.BILINEAR)
    return np.asarray(img)


_NEW = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))([12])\.(weight|bias|running_mean|running_var)$")


def to_old_densenet_names(sd: dict) -> dict:
    """Current torchvision DenseNet keys -> the 2017 naming (`norm.1`, `conv.1`, ...)."""
    out = {}
    for k, v in sd.items():
        m = _NEW.match(k)
        out[f"{m.group(1)}.{m.group(2)}.{m.group(3)}" if m else k] = v
    return out


def save_like_2017(obj, path) -> None:
    """torch.save in the legacy (non-zip) format with tensors pickled as torch 0.2/0.3 did:
    `torch._utils._rebuild_tensor(storage, offset, size, stride)`, typed storages, no
    `num_batches_tracked` (BatchNorm only got it in 0.4.1)."""
    import torch

    def old_reduce(self, proto):
        storage = torch.storage.TypedStorage(wrap_storage=self.untyped_storage(), dtype=self.dtype, _internal=True)
        return (torch._utils._rebuild_tensor, (storage, self.storage_offset(), tuple(self.size()), self.stride()))

    with mock.patch.object(torch.Tensor, "__reduce_ex__", old_reduce):
        torch.save(obj, path, _use_new_zipfile_serialization=False)
