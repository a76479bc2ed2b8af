"""Folder inference: decoding runs ahead in threads, results keep their order, bad files are
reported and skipped."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from torch import nn

from models.base import LoupeModel, ModelCard
from models.batch import run_batch
from models.errors import LoupeError


class Counting(LoupeModel):
    task = "classification"

    def classify(self, rgb):
        if rgb.shape[0] == 13:
            raise RuntimeError("shape not supported")
        return {"mean": float(rgb.mean())}


@pytest.fixture
def model():
    return Counting(ModelCard("c", "x", "classification", ["mean"]), nn.Identity(), "cpu")


def reader(started):
    def read(path):
        started.append(path)
        if path == "bad.png":
            raise LoupeError("bad.png: cannot be decoded (truncated)")
        size = 13 if path == "odd.png" else 4
        return np.full((size, size, 3), int(path.split(".")[0][-1]) if path[0] == "i" else 0, np.uint8)
    return read


def test_order_errors_and_values(model):
    started = []
    paths = ["img1.png", "bad.png", "img2.png", "odd.png", "img3.png"]
    out = list(run_batch(model, paths, reader(started), prefetch=2))
    assert [r.path for r in out] == paths
    assert [r.value["mean"] for r in out if r.ok] == [1.0, 2.0, 3.0]
    assert out[1].error == "bad.png: cannot be decoded (truncated)"
    assert out[3].error == "odd.png: shape not supported" and out[3].size == (13, 13)


def test_next_images_decode_while_the_model_runs(model):
    read_in = []
    second_started = threading.Event()

    def read(path):
        read_in.append(threading.current_thread().name)
        if path == "img2.png":
            second_started.set()
        return np.zeros((4, 4, 3), np.uint8)

    def slow_model(rgb):
        # while image 1 is in the model, image 2 is already being decoded in the background
        assert second_started.wait(5), "the next image was not decoded ahead"
        return 1

    results = list(run_batch(model, ["img1.png", "img2.png", "img3.png"], read, fn=slow_model, prefetch=2))
    assert all(r.ok for r in results), [r.error for r in results]
    assert all(name.startswith("loupe-decode") for name in read_in)


def test_cancel_stops_early(model):
    seen = []
    results = run_batch(model, [f"img{i}.png" for i in range(1, 9)], reader([]),
                        cancel=lambda: len(seen) >= 2)
    for r in results:
        seen.append(r)
    assert len(seen) == 2


def test_classifier_batches_equal_classify_one_by_one(tmp_path):
    """OASIS ResNet-18: preprocessing in the decode threads and 3 images per forward give the
    probabilities `classify` gives image by image; order kept, a bad file reported in its place."""
    import torch
    import torchvision

    from models import load_model

    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None)
    net.fc = nn.Linear(512, 2)
    torch.save(net.state_dict(), tmp_path / "checkpoint.pt")
    m = load_model("oasis-resnet18", weights=tmp_path / "checkpoint.pt", device="cpu")
    assert m.batchable()
    rng = np.random.default_rng(1)
    images = {f"img{i}.png": rng.integers(0, 256, (40 + 9 * i, 50, 3), dtype=np.uint8) for i in range(5)}

    def read(path):
        if path == "bad.png":
            raise LoupeError("bad.png: cannot be decoded (truncated)")
        return images[path]

    paths = ["img0.png", "img1.png", "bad.png", "img2.png", "img3.png", "img4.png"]
    out = list(run_batch(m, paths, read, batch_size=3, prefetch=3))
    assert [r.path for r in out] == paths
    assert out[2].error == "bad.png: cannot be decoded (truncated)"
    for r in out:
        if r.ok:
            want = m.classify(images[r.path])
            assert r.size == images[r.path].shape[:2]
            assert r.value.keys() == want.keys()
            np.testing.assert_allclose(list(r.value.values()), list(want.values()), atol=1e-5)


def test_cpu_classifier_runs_channels_last_and_still_saves_and_matches(tmp_path):
    """On CPU the network's weights are laid out channels-last (oneDNN's fast path); the
    probabilities still equal the plain torchvision module's, weights saved from it load back
    equal, and a move to a device where the layout is unmeasured restores the default."""
    import torch
    import torchvision

    from models import load_model
    from models.classification.common import set_memory_format
    from models.training.outputs import save_weights

    torch.manual_seed(3)
    net = torchvision.models.resnet18(weights=None)
    net.fc = nn.Linear(512, 2)
    torch.save(net.state_dict(), tmp_path / "checkpoint.pt")
    m = load_model("oasis-resnet18", weights=tmp_path / "checkpoint.pt", device="cpu")
    conv = m.torch_module.conv1.weight
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    rgb = np.random.default_rng(2).integers(0, 256, (90, 70, 3), dtype=np.uint8)
    with torch.no_grad():
        plain = torch.softmax(net.eval()(m.preprocess(rgb)), 1)[0].numpy()
    np.testing.assert_allclose(list(m.classify(rgb).values()), plain, atol=1e-6)

    out = tmp_path / "saved"
    out.mkdir()
    again = load_model("oasis-resnet18", weights=save_weights(m.torch_module.state_dict(), out), device="cpu")
    assert again.classify(rgb) == m.classify(rgb)

    assert set_memory_format(m.torch_module, torch.device("mps")) == torch.contiguous_format
    assert m.torch_module.conv1.weight.is_contiguous()
