"""CheXNet's weights as people save them (MODELS.md section 6): the 2017 `model.pth.tar` and the same
weights re-saved by newer torch. Every layout is built from a seeded torchvision densenet121 with the
authors' 14-way Linear + Sigmoid head, saved, loaded through `load_model("chexnet", weights=...)`,
and compared with a plain torchvision forward pass of the authors' preprocessing.

The matrix: key names (2017 `norm.1`/`conv.1` or current `norm1`/`conv1`) x prefix (none, `module.`,
`densenet121.`, `module.densenet121.`) x `num_batches_tracked` (with/without) x container (a dict
with `state_dict`, or the bare state dict) x serialisation (zip or legacy). A pairwise-covering
subset runs by default; the rest of the 64 is marked slow.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import torch
import torchvision
from models_helpers import real_rgb
from torch import nn
from torchvision import transforms as T

from models import WeightsError, load_model
from models.registry import clear_cache

NAMES = ("legacy", "new")
PREFIXES = ("", "module.", "densenet121.", "module.densenet121.")
NBT = ("with_nbt", "no_nbt")
CONTAINERS = ("checkpoint", "bare")
SERIAL = ("zip", "legacy_serial")
# every pair of values of any two dimensions appears at least once in these (checked below)
DEFAULT = [
    ("legacy", "", "with_nbt", "checkpoint", "zip"),
    ("new", "", "no_nbt", "bare", "legacy_serial"),
    ("legacy", "module.", "no_nbt", "bare", "zip"),
    ("new", "module.", "with_nbt", "checkpoint", "legacy_serial"),
    ("legacy", "densenet121.", "with_nbt", "bare", "legacy_serial"),
    ("new", "densenet121.", "no_nbt", "checkpoint", "zip"),
    ("legacy", "module.densenet121.", "no_nbt", "checkpoint", "legacy_serial"),
    ("new", "module.densenet121.", "with_nbt", "bare", "zip"),
    # issue 12's report: the 2017 DataParallel file loaded into the authors' model, saved again by torch 2
    ("legacy", "module.densenet121.", "with_nbt", "checkpoint", "zip"),
]
ALL = list(itertools.product(NAMES, PREFIXES, NBT, CONTAINERS, SERIAL))
CASES = [pytest.param(*c, id="-".join(x.strip(".") or "noprefix" for x in c),
                      marks=() if c in DEFAULT else pytest.mark.slow) for c in ALL]


_NEW_NAME = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))([12])\.(\w+)$")


def to_old_names(sd: dict) -> dict:
    """torchvision's current DenseNet keys -> the 2017 module names (`norm.1`, `conv.1`, ...), buffers
    included: a model built with the old names and saved by torch >= 0.4.1 has
    `norm.1.num_batches_tracked`."""
    out = {}
    for k, v in sd.items():
        m = _NEW_NAME.match(k)
        out[f"{m.group(1)}.{m.group(2)}.{m.group(3)}" if m else k] = v
    return out


def test_the_default_cases_cover_every_pair():
    dims = (NAMES, PREFIXES, NBT, CONTAINERS, SERIAL)
    for i, j in itertools.combinations(range(len(dims)), 2):
        assert {(c[i], c[j]) for c in DEFAULT} == set(itertools.product(dims[i], dims[j]))


class AuthorsCheXNet(nn.Module):
    """arnoweng/CheXNet's `DenseNet121`: torchvision's densenet121 with a Linear + Sigmoid head."""

    def __init__(self, out_size=14):
        super().__init__()
        self.densenet121 = torchvision.models.densenet121(weights=None)
        self.densenet121.classifier = nn.Sequential(nn.Linear(1024, out_size), nn.Sigmoid())

    def forward(self, x):
        return self.densenet121(x)


@pytest.fixture(scope="module")
def reference():
    """(the authors' model with seeded weights, two input views, its probabilities on them)"""
    torch.manual_seed(12)
    model = AuthorsCheXNet(14).eval()
    with torch.no_grad():  # BatchNorm statistics away from init, so a skipped buffer would show
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(1234)
    torch.manual_seed(0)
    x = torch.rand(2, 3, 112, 112) * 4 - 2  # two normalised views (small: the matrix is long)
    with torch.no_grad():
        expected = model(x)  # the authors' Sigmoid output
    return model, x, expected


def authors_input(rgb) -> torch.Tensor:
    """The authors' test transform: Resize(256), TenCrop(224), ToTensor, ImageNet mean/std."""
    from PIL import Image

    normalize = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    crops = T.TenCrop(224)(T.Resize(256)(Image.fromarray(rgb).convert("RGB")))
    return torch.stack([normalize(T.ToTensor()(c)) for c in crops])


def save_layout(model, folder, names, prefix, nbt, container, serial):
    sd = {k: v.clone() for k, v in model.densenet121.state_dict().items()}
    if names == "legacy":
        sd = to_old_names(sd)
    if nbt == "no_nbt":
        sd = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    sd = {prefix + k: v for k, v in sd.items()}
    obj = {"epoch": 3, "arch": "densenet121", "state_dict": sd, "best_loss": 0.2} if container == "checkpoint" else sd
    path = folder / "model.pth.tar"
    torch.save(obj, path, _use_new_zipfile_serialization=(serial == "zip"))
    return path


def _check_keys(path, names, prefix, nbt):
    sd = torch.load(path, weights_only=True)
    sd = sd.get("state_dict", sd)
    k = f"{prefix}features.denseblock1.denselayer1.{'norm.1' if names == 'legacy' else 'norm1'}.weight"
    assert k in sd
    assert any(key.endswith("num_batches_tracked") for key in sd) == (nbt == "with_nbt")
    if names == "legacy" and nbt == "with_nbt":
        assert f"{prefix}features.denseblock1.denselayer1.norm.1.num_batches_tracked" in sd
    assert f"{prefix}classifier.0.weight" in sd


@pytest.mark.parametrize("names,prefix,nbt,container,serial", CASES)
def test_every_published_layout_loads_and_gives_the_authors_probabilities(
        reference, tmp_path, names, prefix, nbt, container, serial):
    reference, x, expected = reference
    path = save_layout(reference, tmp_path, names, prefix, nbt, container, serial)
    _check_keys(path, names, prefix, nbt)
    with open(path, "rb") as f:
        assert (f.read(2) == b"PK") == (serial == "zip")
    m = load_model("chexnet", weights=path, device="cpu")
    try:
        got = m.torch_module.state_dict()
        want = reference.densenet121.state_dict()
        for k, v in want.items():
            k2 = k.replace("classifier.0.", "classifier.")
            if not k.endswith("num_batches_tracked"):
                assert torch.equal(got[k2], v), k
        np.testing.assert_allclose(torch.sigmoid(m.forward_logits(x)).detach().numpy(), expected.numpy(),
                                   atol=1e-5)
    finally:
        clear_cache()


@pytest.mark.shared_data
def test_resaved_by_newer_torch_gives_the_authors_ten_crop_probabilities(reference, tmp_path, shared_data):
    """The file a user most often has today: loaded from the 2017 file and saved again without
    DataParallel by torch 2 (zip, new names, num_batches_tracked)."""
    reference = reference[0]
    path = save_layout(reference, tmp_path, "new", "densenet121.", "with_nbt", "checkpoint", "zip")
    rgb = real_rgb(shared_data)
    m = load_model("chexnet", weights=path, device="cpu")
    probs = m.classify(rgb)
    with torch.no_grad():
        expected = reference(authors_input(rgb)).mean(0).numpy()
    assert list(probs) == m.class_names and len(probs) == 14
    np.testing.assert_allclose(np.array(list(probs.values())), expected, atol=1e-5)
    clear_cache()


@pytest.mark.parametrize("prefix", ["", "module."])
def test_resaved_torchvision_densenet_is_recognised_as_chexnet(reference, tmp_path, prefix):
    """Dropped on the window without a preset: the bare torchvision layout is CheXNet too."""
    reference = reference[0]
    sd = {prefix + k.replace("classifier.0.", "classifier."): v
          for k, v in reference.densenet121.state_dict().items()}
    path = tmp_path / "chexnet_resaved.pth"
    torch.save(sd, path)
    m = load_model(path, device="cpu")
    assert m.card.architecture == "chexnet" and len(m.class_names) == 14 and m.class_names[-1] == "Hernia"
    clear_cache()


def test_resnet18_file_is_called_a_resnet18(tmp_path):
    path = tmp_path / "model.pth.tar"
    torch.save({"state_dict": torchvision.models.resnet18(weights=None).state_dict()}, path)
    with pytest.raises(WeightsError) as err:
        load_model("chexnet", weights=path, device="cpu")
    msg = str(err.value)
    assert str(path) in msg
    assert "is a torchvision ResNet-18 checkpoint with 1000 outputs; the chexnet preset needs a DenseNet-121" in msg
    assert "CheXNet DenseNet-121 checkpoint" not in msg


def test_other_densenets_and_heads_are_named_for_what_they_are(tmp_path):
    imagenet = tmp_path / "densenet121_imagenet.pth"
    torch.save(torchvision.models.densenet121(weights=None).state_dict(), imagenet)
    with pytest.raises(WeightsError) as err:
        load_model("chexnet", weights=imagenet, device="cpu")
    msg = str(err.value)
    assert "is a DenseNet-121 with 1000 outputs; the chexnet preset needs a DenseNet-121 with a classifier of 14" in msg
    assert "classifier.weight: file (1000, 1024) vs model (14, 1024)" in msg

    d169 = tmp_path / "densenet169.pth"
    torch.save({"state_dict": {"module." + k: v for k, v in
                               torchvision.models.densenet169(weights=None, num_classes=14).state_dict().items()}},
               d169)
    with pytest.raises(WeightsError, match=r"is a DenseNet-169 with 14 outputs; the chexnet preset needs"):
        load_model("chexnet", weights=d169, device="cpu")


def test_a_chexnet_file_missing_tensors_is_not_called_something_else(reference, tmp_path):
    """The old message said "this looks like a CheXNet DenseNet-121 checkpoint; the chexnet preset
    expects a CheXNet DenseNet-121 checkpoint". Now it says what is wrong with the right model."""
    reference = reference[0]
    sd = {"module.densenet121." + k: v for k, v in to_old_names(reference.densenet121.state_dict()).items()
          if "denseblock4.denselayer16.conv.2" not in k}
    path = tmp_path / "model.pth.tar"
    torch.save({"state_dict": sd}, path)
    with pytest.raises(WeightsError) as err:
        load_model("chexnet", weights=path, device="cpu")
    msg = str(err.value)
    assert "is a DenseNet-121 with 14 outputs, but not all of its tensors fit" in msg
    assert "1 missing keys, first: features.denseblock4.denselayer16.conv2.weight" in msg
    assert "looks like" not in msg and "expects" not in msg
