"""CheXNet and Qing: seeded random weights saved in the published layout, loaded through
load_model, compared with the authors' forward pass on a real chest X-ray."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torchvision
from models_helpers import real_rgb, save_like_2017, to_old_densenet_names
from torch import nn
from torchvision import transforms as T

from models import WeightsError, load_model
from models.registry import clear_cache

pytestmark = pytest.mark.shared_data
ATOL = 1e-5  # same float32 arithmetic, different code paths


class AuthorsDenseNet121(nn.Module):
    """arnoweng/CheXNet's model (wrapped in DataParallel when saved)."""

    def __init__(self, out_size=14):
        super().__init__()
        self.densenet121 = torchvision.models.densenet121(weights=None)
        self.densenet121.classifier = nn.Sequential(nn.Linear(1024, out_size), nn.Sigmoid())

    def forward(self, x):
        return self.densenet121(x)


@pytest.fixture(scope="module")
def chexnet_file(tmp_path_factory):
    torch.manual_seed(0)
    model = nn.DataParallel(AuthorsDenseNet121(14)).eval()
    # BatchNorm statistics differ from init so that a skipped buffer would show
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    sd = to_old_densenet_names(model.state_dict())
    assert "module.densenet121.features.denseblock1.denselayer1.norm.1.weight" in sd
    sd = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}  # not in 2017 files
    path = tmp_path_factory.mktemp("chexnet") / "model.pth.tar"
    save_like_2017({"epoch": 7, "arch": "densenet121", "state_dict": sd, "best_loss": 0.15}, path)
    assert b"_rebuild_tensor_v2" not in path.read_bytes()
    return path, model


def authors_chexnet(model, rgb):
    normalize = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tf = T.Compose([T.Resize(256), T.TenCrop(224),
                    T.Lambda(lambda crops: torch.stack([T.ToTensor()(c) for c in crops])),
                    T.Lambda(lambda crops: torch.stack([normalize(c) for c in crops]))])
    from PIL import Image

    x = tf(Image.fromarray(rgb).convert("RGB")).unsqueeze(0)
    bs, n, c, h, w = x.size()
    with torch.no_grad():
        out = model(x.view(-1, c, h, w))
    return out.view(bs, n, -1).mean(1)[0].numpy()


def test_chexnet_legacy_file_matches_authors_ten_crop(chexnet_file, shared_data):
    path, ref = chexnet_file
    with open(path, "rb") as f:
        assert f.read(2) != b"PK"  # the legacy, non-zip serialisation
    m = load_model("chexnet", weights=path, device="cpu")
    rgb = real_rgb(shared_data)
    probs = m.classify(rgb)
    assert list(probs) == m.class_names and len(probs) == 14 and "Hernia" in probs
    np.testing.assert_allclose(np.array(list(probs.values())), authors_chexnet(ref, rgb), atol=ATOL)
    # the saliency view: logits of the whole image at 224, DenseNet features as the layer
    x = m.preprocess(rgb)
    assert tuple(x.shape) == (1, 3, 224, 224)
    with torch.no_grad():
        want = ref.module.densenet121.classifier[0](
            torch.flatten(nn.functional.adaptive_avg_pool2d(
                nn.functional.relu(ref.module.densenet121.features(x)), 1), 1))
    np.testing.assert_allclose(m.forward_logits(x).detach().numpy(), want.numpy(), atol=1e-4)
    assert m.saliency_layer() is m.torch_module.features


def test_same_file_and_device_reuses_the_model(chexnet_file):
    path, _ = chexnet_file
    a = load_model("chexnet", weights=path, device="cpu")
    assert load_model("chexnet", weights=str(path), device="cpu") is a
    clear_cache()
    assert load_model("chexnet", weights=path, device="cpu") is not a


def test_bare_chexnet_file_is_recognised(chexnet_file):
    path, _ = chexnet_file
    m = load_model(path, device="cpu")
    assert m.card.architecture == "chexnet" and len(m.class_names) == 14


# -- Qing ------------------------------------------------------------------------------------------
class AuthorsPositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=5000, dropout=0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return self.dropout(x + self.pe[: x.size(0)])


class AuthorsEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.pos_encoder = AuthorsPositionalEncoding(512)
        self.layers = nn.ModuleList(nn.TransformerEncoderLayer(512, 8, 1024, dropout=0.2, activation="gelu")
                                    for _ in range(2))

    def forward(self, x):
        x = self.pos_encoder(x)
        for layer in self.layers:
            x = layer(x)
        return x


class AuthorsCNNTransformer(nn.Module):
    """Qing's CNNTransformerModel, written from MODELS.md §5 with torch's own encoder layer."""

    def __init__(self):
        super().__init__()
        self.base_model = torchvision.models.densenet121(weights=None)
        self.cnn_features = self.base_model.features
        self.feature_projection = nn.Sequential(nn.Linear(1024, 512), nn.LayerNorm(512))
        self.class_token = nn.Parameter(torch.randn(1, 1, 512))
        self.transformer_encoder = AuthorsEncoder()
        self.classifier = nn.Sequential(nn.Linear(1024, 512), nn.GELU(), nn.Dropout(0.3), nn.Linear(512, 1))

    def forward(self, x):
        f = self.cnn_features(x)
        b = f.shape[0]
        f = f.view(b, 1024, -1).permute(0, 2, 1)
        f = self.feature_projection(f)
        f = torch.cat([self.class_token.expand(b, -1, -1), f], dim=1).permute(1, 0, 2)
        out = self.transformer_encoder(f)
        return self.classifier(torch.cat([out[0], out[1:].mean(dim=0)], dim=1))


@pytest.fixture(scope="module")
def qing_file(tmp_path_factory):
    torch.manual_seed(1)
    model = AuthorsCNNTransformer().eval()
    path = tmp_path_factory.mktemp("qing") / "final_model.pth"
    sd = model.state_dict()
    assert any(k.startswith("base_model.features.") for k in sd) and any(k.startswith("cnn_features.") for k in sd)
    assert sd["base_model.classifier.weight"].shape == (1000, 1024)
    torch.save(sd, path)
    return path, model


def authors_qing_input(rgb):
    from PIL import Image

    tf = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize([0.485] * 3, [0.229] * 3)])
    return tf(Image.fromarray(rgb).convert("RGB")).unsqueeze(0)


def test_qing_matches_reference_and_gives_attention(qing_file, shared_data):
    path, ref = qing_file
    m = load_model("qing", weights=path, device="cpu")
    rgb = real_rgb(shared_data, "nih/images/00000150_002.png")
    x = authors_qing_input(rgb)
    seen = {}
    hook = ref.transformer_encoder.layers[1].register_forward_pre_hook(lambda mod, a: seen.update(s=a[0]))
    with torch.no_grad():
        p = torch.sigmoid(ref(x))[0, 0].item()
        s = seen["s"]
        _, w = ref.transformer_encoder.layers[1].self_attn(s, s, s, need_weights=True)
    hook.remove()
    probs = m.classify(rgb)
    assert probs["pneumonia"] == pytest.approx(p, abs=ATOL)
    assert probs["normal"] == pytest.approx(1 - p, abs=ATOL)
    torch.testing.assert_close(m.preprocess(rgb), x)
    # attention: the last layer's head-averaged weights from the class token to the 49 image tokens
    att = m.attention_map(rgb)
    assert att.shape == (7, 7)
    np.testing.assert_allclose(att, w[0, 0, 1:].reshape(7, 7).numpy(), atol=1e-6)
    assert m.saliency_layer() is m.torch_module.cnn_features


def test_chexnet_file_given_to_qing_names_the_mismatch(chexnet_file):
    path, _ = chexnet_file
    with pytest.raises(WeightsError) as err:
        load_model("qing", weights=path, device="cpu")
    msg = str(err.value)
    assert str(path) in msg
    assert "this looks like a CheXNet DenseNet-121 checkpoint" in msg and "the qing preset expects" in msg
    missing = msg.split("missing keys, first: ")[1].split(".")[0]
    assert "base_model.features.conv0" in msg.split("missing keys, first: ")[1].split(". ")[0], missing
    assert "unexpected keys, first: module.densenet121.features.conv0.weight" in msg
