"""Device choice: auto prefers CUDA, then MPS, then CPU; explicit choices are checked."""

from __future__ import annotations

import pytest
import torch

from models import devices
from models.devices import DeviceError, available_devices, resolve_device


@pytest.fixture
def fake(monkeypatch):
    def setup(cuda=False, mps=False, n=1):
        monkeypatch.setattr(devices, "_cuda_ok", lambda t: cuda)
        monkeypatch.setattr(devices, "_mps_ok", lambda t: mps)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: n if cuda else 0)
        monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: f"NVIDIA H100 #{i}")
    return setup


def test_auto_prefers_cuda_then_mps_then_cpu(fake):
    fake(cuda=True, mps=True)
    assert resolve_device("auto") == torch.device("cuda", 0)
    fake(cuda=False, mps=True)
    assert resolve_device(None) == torch.device("mps")
    fake()
    assert resolve_device("auto") == torch.device("cpu")


def test_explicit_choices_and_their_errors(fake):
    fake(cuda=True, n=2)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(DeviceError, match="'cuda:3' asked for, but this machine has 2 CUDA device"):
        resolve_device("cuda:3")
    with pytest.raises(DeviceError, match="Apple MPS is not available"):
        resolve_device("mps")
    fake()
    with pytest.raises(DeviceError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(DeviceError, match="unknown device 'tpu'"):
        resolve_device("tpu")


def test_available_devices_lists_best_first(fake):
    fake(cuda=True, mps=False, n=2)
    assert available_devices() == [("cuda:0", "CUDA: NVIDIA H100 #0"), ("cuda:1", "CUDA: NVIDIA H100 #1"),
                                   ("cpu", "CPU")]
    fake(mps=True)
    assert available_devices() == [("mps", "Apple MPS"), ("cpu", "CPU")]


def test_mps_fallback_is_switched_on(monkeypatch):
    monkeypatch.delenv("PYTORCH_ENABLE_MPS_FALLBACK", raising=False)
    resolve_device("cpu")
    import os

    assert os.environ["PYTORCH_ENABLE_MPS_FALLBACK"] == "1"


@pytest.mark.gpu
def test_classifier_on_the_gpu_matches_cpu(tmp_path):
    import numpy as np
    import torchvision
    from torch import nn

    from models import load_model

    torch.manual_seed(0)
    m = torchvision.models.resnet18(weights=None)
    m.fc = nn.Linear(512, 2)
    torch.save(m.state_dict(), tmp_path / "checkpoint.pt")
    rgb = (np.random.default_rng(0).random((300, 280, 3)) * 255).astype(np.uint8)
    cpu = load_model("oasis-resnet18", weights=tmp_path / "checkpoint.pt", device="cpu").classify(rgb)
    gpu_model = load_model("oasis-resnet18", weights=tmp_path / "checkpoint.pt", device="auto")
    assert gpu_model.device.type in ("cuda", "mps")
    gpu = gpu_model.classify(rgb)
    np.testing.assert_allclose(list(gpu.values()), list(cpu.values()), atol=1e-4)
