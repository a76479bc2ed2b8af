"""Which device a model runs on: `auto` picks CUDA, then Apple MPS, then the CPU.

MPS has no float64 and lacks some operators: Loupe keeps models in float32 there and turns on
PyTorch's CPU fallback for missing ops (`PYTORCH_ENABLE_MPS_FALLBACK=1`, set before torch uses MPS).
"""

from __future__ import annotations

import os

from models.errors import LoupeError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")

# Read by PyTorch when it sets MPS up: set it before torch is imported (importing the registry does).
os.environ.setdefault("PYTORCH_ENABLE_MPS_FALLBACK", "1")


class DeviceError(LoupeError):
    """The device asked for is not available on this machine."""


def _torch():
    os.environ.setdefault("PYTORCH_ENABLE_MPS_FALLBACK", "1")
    import torch

    return torch


def _cuda_ok(torch) -> bool:
    return bool(torch.cuda.is_available())


def _mps_ok(torch) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(spec=None):
    """`None`/"auto"/"cpu"/"cuda"/"cuda:1"/"mps"/torch.device -> a torch.device that exists here.

    Raises DeviceError (a LoupeError) when an explicit device is not available.
    """
    torch = _torch()
    if isinstance(spec, torch.device):
        spec = str(spec)
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        if _cuda_ok(torch):
            return torch.device("cuda", torch.cuda.current_device())
        if _mps_ok(torch):
            return torch.device("mps")
        return torch.device("cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec.startswith("cuda"):
        if not _cuda_ok(torch):
            raise DeviceError(f"device {spec!r} asked for, but CUDA is not available on this machine")
        dev = torch.device(spec)
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise DeviceError(f"device {spec!r} asked for, but this machine has "
                              f"{torch.cuda.device_count()} CUDA device(s)")
        return torch.device("cuda", index)
    if spec == "mps":
        if not _mps_ok(torch):
            raise DeviceError("device 'mps' asked for, but Apple MPS is not available on this machine")
        return torch.device("mps")
    raise DeviceError(f"unknown device {spec!r}; choose one of auto, cpu, cuda, cuda:N, mps")


def available_devices() -> list[tuple[str, str]]:
    """(id, label) of every device here, best first, e.g. ("cuda:0", "CUDA: NVIDIA H100")."""
    torch = _torch()
    out: list[tuple[str, str]] = []
    if _cuda_ok(torch):
        for i in range(torch.cuda.device_count()):
            out.append((f"cuda:{i}", f"CUDA: {torch.cuda.get_device_name(i)}"))
    if _mps_ok(torch):
        out.append(("mps", "Apple MPS"))
    out.append(("cpu", "CPU"))
    return out


def model_dtype(device):
    """The dtype models use on `device`: float32 everywhere (MPS has no float64; fp32 is the default)."""
    torch = _torch()
    return torch.float32
