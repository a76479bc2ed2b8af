"""OASIS ResNet-18 / ViT-B/16 and the temporal head: seeded weights saved as the authors'
checkpoint.pt (full state_dict), loaded through load_model, compared with the authors' pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from models_helpers import real_rgb
from PIL import Image
from torch import nn

from models import load_model
from models.classification.sequences import group_by_patient, history, parse_name
from models.errors import LoupeError

pytestmark = pytest.mark.shared_data
ATOL = 1e-5


def _randomise_bn(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)


@pytest.fixture(scope="module")
def images(shared_data):
    names = ["00000032_037.png", "00000150_002.png", "00000211_016.png", "00000468_017.png"]
    return [real_rgb(shared_data, f"nih/images/{n}", size=300) for n in names]


@pytest.fixture(scope="module")
def resnet_file(tmp_path_factory):
    torch.manual_seed(2)
    model = torchvision.models.resnet18(weights=None)
    model.fc = nn.Linear(512, 2)
    _randomise_bn(model)
    path = tmp_path_factory.mktemp("oasis") / "checkpoint.pt"
    torch.save(model.state_dict(), path)
    return path, model.eval()


def authors_resnet_input(rgb):
    grey = Image.fromarray(rgb).convert("L").resize((256, 256), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(grey, np.float32) / 255.0)
    return x.expand(3, -1, -1).unsqueeze(0)  # grey repeated to 3 channels, [0, 1], no mean/std


def test_resnet18_matches_authors_pipeline(resnet_file, images):
    path, ref = resnet_file
    m = load_model("oasis-resnet18", weights=path, device="cpu")
    x = authors_resnet_input(images[0])
    torch.testing.assert_close(m.preprocess(images[0]), x, atol=1e-6, rtol=0)
    with torch.no_grad():
        want = torch.softmax(ref(x), 1)[0].numpy()
    got = m.classify(images[0])
    assert list(got) == ["healthy", "disease"]
    np.testing.assert_allclose(list(got.values()), want, atol=ATOL)
    assert m.saliency_layer() is m.torch_module.layer4


class AuthorsTemporal(nn.Module):
    def __init__(self, f, n=3):
        super().__init__()
        self.flatten = nn.Flatten()
        self.input = nn.Linear(n * f, 64)
        self.dropout = nn.Dropout(0.3)
        self.bn = nn.BatchNorm1d(64)
        self.projection = nn.Linear(64, 2)

    def forward(self, x):
        return self.projection(self.bn(self.dropout(self.input(self.flatten(x)))))


@pytest.fixture(scope="module", params=["zip", "legacy"])
def imagenet_resnet_file(request, tmp_path_factory):
    """torchvision's ImageNet ResNet-18 file as its download saves it: a plain state_dict, fc 1000x512."""
    torch.manual_seed(5)
    model = torchvision.models.resnet18(weights=None)
    _randomise_bn(model)
    path = tmp_path_factory.mktemp(f"imagenet_{request.param}") / "resnet18-f37072fd.pth"
    torch.save(model.state_dict(), path, _use_new_zipfile_serialization=request.param == "zip")
    return path, model.eval()


def _shifted_head(f):
    """A head whose logits are about (4, 2): argmax says healthy while sigmoid(logit 1) > 0.5."""
    torch.manual_seed(3)
    head = AuthorsTemporal(f).eval()
    _randomise_bn(head)
    with torch.no_grad():
        head.projection.weight.mul_(0.01)
        head.projection.bias.copy_(torch.tensor([4.0, 2.0]))
    return head


def test_temporal_head_over_imagenet_resnet_features(imagenet_resnet_file, images, tmp_path):
    bpath, ref = imagenet_resnet_file
    head = _shifted_head(512)
    hpath = tmp_path / "temporal.pt"
    torch.save(head.state_dict(), hpath)
    m = load_model("oasis-temporal", weights=hpath, device="cpu", backbone_weights=str(bpath))
    penultimate = nn.Sequential(*list(ref.children())[:-1], nn.Flatten()).eval()
    with torch.no_grad():
        feats = [penultimate(authors_resnet_input(rgb))[0] for rgb in images]
        # four days: the three most recent, ascending, at the start
        logits4 = head(torch.stack(feats[1:4]).unsqueeze(0))[0]
        one = torch.zeros(1, 3, 512)
        one[0, 0] = feats[0]
        logits1 = head(one)[0]
    assert logits4.argmax() == 0 and torch.sigmoid(logits4[1]) > 0.5  # the two readings disagree here
    got4 = m.classify_sequence(images)
    np.testing.assert_allclose(list(got4.values()), torch.softmax(logits4, 0).numpy(), atol=ATOL)
    assert max(got4, key=got4.get) == "healthy"  # the authors' argmax
    np.testing.assert_allclose(list(m.logits_sequence(images).values()), logits4.numpy(), atol=1e-4)
    got1 = m.classify(images[0])
    np.testing.assert_allclose(list(got1.values()), torch.softmax(logits1, 0).numpy(), atol=ATOL)


def test_temporal_refuses_the_oasis_checkpoint_as_feature_extractor(resnet_file, tmp_path):
    from models.errors import WeightsError

    torch.save(AuthorsTemporal(512).state_dict(), tmp_path / "temporal.pt")
    with pytest.raises(WeightsError, match=r"checkpoint.pt: this is a ResNet-18 with a 2-class head .*"
                                           r"torchvision's ImageNet ResNet-18 state dict \(resnet18-f37072fd.pth"):
        load_model("oasis-temporal", weights=tmp_path / "temporal.pt", device="cpu",
                   backbone_weights=str(resnet_file[0]))


def test_temporal_finds_torchvisions_download_in_its_cache(imagenet_resnet_file, tmp_path, monkeypatch):
    """The card names torchvision's file; torch's own download cache is one of the places looked in."""
    bpath, _ = imagenet_resnet_file
    hub = tmp_path / "hub"
    (hub / "checkpoints").mkdir(parents=True)
    (hub / "checkpoints" / "resnet18-f37072fd.pth").write_bytes(bpath.read_bytes())
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(hub))
    monkeypatch.setenv("LOUPE_MODELS_DIR", str(tmp_path / "models"))
    torch.save(AuthorsTemporal(512).state_dict(), tmp_path / "temporal.pt")
    m = load_model("oasis-temporal", weights=tmp_path / "temporal.pt", device="cpu")
    ref = torchvision.models.resnet18(weights=None)
    ref.load_state_dict(torch.load(bpath))
    torch.testing.assert_close(m.backbone.torch_module.state_dict()["layer4.1.bn2.running_mean"],
                               ref.state_dict()["layer4.1.bn2.running_mean"])


def test_patient_grouping_from_names_and_dicom_dates():
    pattern = r"(?P<patient>OAS2_\d+)_MR(?P<date>\d+)"
    files = ["OAS2_0002_MR10.png", "OAS2_0001_MR2.png", "OAS2_0002_MR2.png", "OAS2_0001_MR1.png"]
    items = [(f, *parse_name(f, pattern)) for f in files]
    assert group_by_patient(items) == {"OAS2_0002": ["OAS2_0002_MR2.png", "OAS2_0002_MR10.png"],
                                       "OAS2_0001": ["OAS2_0001_MR1.png", "OAS2_0001_MR2.png"]}
    dicom_like = [("c.dcm", "P1", "20200105"), ("a.dcm", "P1", "20191231"), ("b.dcm", "P1", "20200101")]
    assert history(dicom_like, "b.dcm") == ["a.dcm", "b.dcm"]
    with pytest.raises(LoupeError, match="OAS2_x.png: the file name does not match"):
        parse_name("OAS2_x.png", pattern)
    with pytest.raises(LoupeError, match="named groups"):
        parse_name("a.png", r"(\d+)")


@pytest.fixture(scope="module")
def vit_file(tmp_path_factory):
    torch.manual_seed(4)
    model = torchvision.models.vit_b_16(weights=None)
    model.heads.head = nn.Linear(768, 2)
    path = tmp_path_factory.mktemp("oasis_vit") / "checkpoint.pt"
    torch.save(model.state_dict(), path)
    return path, model.eval()


def test_vit_matches_authors_pipeline(vit_file, images):
    from torchvision import transforms as T

    path, ref = vit_file
    m = load_model("oasis-vit", weights=path, device="cpu")
    x = T.Compose([T.ToTensor(), T.Resize(224)])(Image.fromarray(images[1])).unsqueeze(0)
    with torch.no_grad():
        want = torch.softmax(ref(x), 1)[0].numpy()
    np.testing.assert_allclose(list(m.classify(images[1]).values()), want, atol=ATOL)
    # Grad-CAM's layer and token reshape, and the class-token features for the temporal model
    assert m.saliency_layer() is m.torch_module.encoder.layers[-1].ln_1
    tokens = torch.arange(2 * 197 * 768, dtype=torch.float32).reshape(2, 197, 768)
    grid = m.reshape_transform(tokens)
    assert grid.shape == (2, 768, 14, 14) and torch.equal(grid[1, :, 0, 1], tokens[1, 2])
    with torch.no_grad():
        ref.heads = nn.Identity()
        torch.testing.assert_close(m.features(x), ref(x), atol=1e-5, rtol=0)


@pytest.mark.slow
def test_temporal_head_over_imagenet_vit_class_tokens(images, tmp_path):
    """A 3x768 head picks torchvision's ImageNet ViT-B/16 file (heads.head 1000x768) as its features."""
    from torchvision import transforms as T

    torch.manual_seed(6)
    vit = torchvision.models.vit_b_16(weights=None).eval()
    torch.save(vit.state_dict(), tmp_path / "vit_b_16-c867db91.pth")
    head = _shifted_head(768)
    torch.save(head.state_dict(), tmp_path / "temporal.pt")
    m = load_model("oasis-temporal", weights=tmp_path / "temporal.pt", device="cpu",
                   backbone_weights=str(tmp_path / "vit_b_16-c867db91.pth"))
    vit.heads = nn.Identity()  # the class token after the encoder
    with torch.no_grad():
        feats = [vit(T.Compose([T.ToTensor(), T.Resize(224)])(Image.fromarray(rgb)).unsqueeze(0))[0]
                 for rgb in images[:2]]
        seq = torch.zeros(1, 3, 768)
        seq[0, :2] = torch.stack(feats)
        want = torch.softmax(head(seq)[0], 0).numpy()
    np.testing.assert_allclose(list(m.classify_sequence(images[:2]).values()), want, atol=ATOL)
