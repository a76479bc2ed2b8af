"""Input x Gradient, Saliency and Guided Grad-CAM equal Captum called directly on the authors'
network and input (torchvision ResNet-18, grey x3 at 256 in [0, 1]); Guided Grad-CAM upsamples the
CAM as Captum does by default (nearest), not bilinearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image
from torch import nn

from models import load_model
from models.saliency import METHODS, explain
from models.saliency.classifier import attribution
from models.saliency.maps import to_image_map
from models.saliency.state import explaining


@pytest.fixture(scope="module")
def resnet(tmp_path_factory):
    torch.manual_seed(11)
    net = torchvision.models.resnet18(weights=None)
    net.fc = nn.Linear(512, 2)
    path = tmp_path_factory.mktemp("captum") / "checkpoint.pt"
    torch.save(net.state_dict(), path)
    rgb = (np.random.default_rng(2).random((60, 52, 3)) * 255).astype(np.uint8)
    grey = Image.fromarray(rgb).convert("L").resize((256, 256), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(grey, np.float32) / 255.0).expand(3, -1, -1).unsqueeze(0).contiguous()
    model = load_model("oasis-resnet18", weights=path, device="cpu")
    model.weights_path = path
    return model, net.eval(), rgb, x


@pytest.mark.parametrize("method", ["input-x-gradient", "saliency", "guided-gradcam"])
def test_method_equals_captum_called_directly(resnet, method):
    from captum.attr import GuidedGradCam, InputXGradient, Saliency

    model, net, rgb, x = resnet
    from desktop.commands.saliency import METHOD_CHOICES
    from desktop.ui.model_panel.controls import saliency_methods

    assert method in METHODS and method in METHOD_CHOICES and method in saliency_methods("classification")
    want = {"input-x-gradient": lambda: InputXGradient(net).attribute(x.clone().requires_grad_(), target=1),
            "saliency": lambda: Saliency(net).attribute(x.clone().requires_grad_(), target=1),
            "guided-gradcam": lambda: GuidedGradCam(net, net.layer4).attribute(x.clone(), target=1)}[method]()
    with explaining(model):
        got, mode = attribution(model, rgb, method, target=1)
    scale = float(want.detach().abs().max())
    assert scale > 0
    torch.testing.assert_close(got.detach() / scale, want.detach() / scale, atol=1e-5, rtol=1e-4)
    heat = explain(model, rgb, method, target=1)
    np.testing.assert_allclose(heat, to_image_map(want, rgb.shape[:2], mode), atol=1e-3)


def test_guided_gradcam_upsamples_nearest_as_captum(resnet):
    from captum.attr import GuidedBackprop, LayerAttribution, LayerGradCam

    model, net, rgb, x = resnet
    with explaining(model):
        got, _ = attribution(model, rgb, "guided-gradcam", target=1)
    cam = LayerGradCam(net, net.layer4).attribute(x.clone(), target=1, relu_attributions=True)
    assert cam.max() > 0 and cam.shape[2:] == (8, 8)
    gb = GuidedBackprop(net).attribute(x.clone(), target=1)
    nearest = LayerAttribution.interpolate(cam, (256, 256), interpolate_mode="nearest") * gb
    bilinear = LayerAttribution.interpolate(cam, (256, 256), interpolate_mode="bilinear") * gb
    got, scale = got.detach(), float(got.detach().abs().max())
    torch.testing.assert_close(got / scale, nearest.detach() / scale, atol=1e-5, rtol=1e-4)
    assert float((got - bilinear.detach()).abs().max()) > 0.05 * scale  # the old (bilinear) reading differs


def test_saliency_cli_offers_the_new_methods(resnet, tmp_path):
    from desktop.cli import main

    model, _, rgb, _ = resnet
    Image.fromarray(rgb).save(tmp_path / "img.png")
    for method in ("input-x-gradient", "saliency"):
        npy = tmp_path / f"{method}.npy"
        rc = main(["saliency", str(tmp_path / "img.png"), "--model", "oasis-resnet18",
                   "--weights", str(model.weights_path), "--method", method,
                   "--out", str(tmp_path / f"{method}.png"), "--npy", str(npy), "--device", "cpu"])
        assert rc == 0
        np.testing.assert_allclose(np.load(npy), explain(model, rgb, method), atol=1e-5)
