"""Saliency is measured, not assumed: a small CNN trained here must be explained by Grad-CAM on the
bright shape it learned to find; faithfulness curves rank Grad-CAM above random maps; Loupe's
Grad-CAM equals pytorch-grad-cam's; the model is left as it was found."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from saliency_helpers import SQUARE, planted_images, to_rgb, train_planted

from models.errors import LoupeError
from models.saliency import explain
from models.saliency.faithfulness import deletion_insertion


@pytest.fixture(scope="module")
def planted():
    model = train_planted()
    rng = np.random.default_rng(123)
    imgs, boxes = planted_images(8, rng, True)
    with torch.no_grad():
        acc = (model.torch_module(torch.from_numpy(imgs)[:, None]).argmax(1) == 1).float().mean()
    assert acc == 1.0  # it did learn the task
    return model, imgs, boxes


def _mass_on_square(heat, box, margin=2):
    y, x = box
    inside = heat[max(0, y - margin):y + SQUARE + margin, max(0, x - margin):x + SQUARE + margin].sum()
    return float(inside / max(heat.sum(), 1e-12))


def test_gradcam_puts_most_mass_on_the_planted_shape(planted):
    model, imgs, boxes = planted
    rng = np.random.default_rng(0)
    cam = [_mass_on_square(explain(model, to_rgb(im), "gradcam", target="shape"), b) for im, b in zip(imgs, boxes)]
    rnd = [_mass_on_square(rng.random(im.shape).astype(np.float32), b) for im, b in zip(imgs, boxes)]
    assert np.mean(cam) > 0.5  # most of the map's mass on the shape (10x10 of 32x32 with margin)
    assert np.mean(cam) > 3 * np.mean(rnd)  # random maps put ~10% there


def test_faithfulness_ranks_gradcam_above_random(planted):
    model, imgs, boxes = planted
    rng = np.random.default_rng(1)
    good, bad = [], []
    for im in imgs[:4]:
        rgb = to_rgb(im)
        good.append(deletion_insertion(model, rgb, explain(model, rgb, "gradcam", target=1), target=1, steps=16))
        bad.append(deletion_insertion(model, rgb, rng.random(im.shape), target=1, steps=16))
    gd, bd = np.mean([f.deletion for f in good]), np.mean([f.deletion for f in bad])
    assert gd < 0.5 * bd, (gd, bd)  # hiding Grad-CAM's top pixels kills the class at once
    assert np.mean([f.insertion for f in good]) > np.mean([f.insertion for f in bad])
    assert np.mean([f.score for f in good]) > np.mean([f.score for f in bad]) + 0.03
    f = good[0]
    assert len(f.deletion_curve) == 17 and f.deletion_curve[0] > 0.9 > 0.1 > f.deletion_curve[2]


@pytest.mark.parametrize("method", ["gradcam", "guided-gradcam", "integrated-gradients", "occlusion",
                                    "smoothgrad-gradcam", "smoothgrad-integrated-gradients"])
def test_every_pixel_method_finds_the_shape_too(planted, method):
    # (guided backprop alone is left out: it is not class-discriminative, it draws every edge)
    model, imgs, boxes = planted
    heat = explain(model, to_rgb(imgs[0]), method, target=1, n_steps=8, nt_samples=4, window=4, stride=2)
    assert heat.shape == (32, 32) and heat.dtype == np.float32 and np.isfinite(heat).all()
    assert 0.0 <= heat.min() and heat.max() == pytest.approx(1.0)
    assert _mass_on_square(heat, boxes[0]) > 0.3


def test_state_is_restored_and_inference_mode_is_no_obstacle(planted):
    model, imgs, _ = planted
    module = model.torch_module
    module.train()
    module.features[0].weight.requires_grad_(False)
    before = {n: p.requires_grad for n, p in module.named_parameters()}
    module.zero_grad(set_to_none=True)
    with torch.inference_mode():
        heat = explain(model, to_rgb(imgs[0]), "guided-gradcam", target=1)
    assert np.isfinite(heat).all() and heat.max() > 0
    assert module.training and all(m.training for m in module.modules())
    assert {n: p.requires_grad for n, p in module.named_parameters()} == before
    assert all(p.grad is None for p in module.parameters())
    module.eval()
    module.features[0].weight.requires_grad_(True)


def test_bad_method_and_target_are_clear(planted):
    model, imgs, _ = planted
    with pytest.raises(LoupeError, match="unknown saliency method 'lime'"):
        explain(model, to_rgb(imgs[0]), "lime")
    with pytest.raises(LoupeError, match="no class 'cat'"):
        explain(model, to_rgb(imgs[0]), "gradcam", target="cat")
    with pytest.raises(LoupeError, match="out of range"):
        explain(model, to_rgb(imgs[0]), "gradcam", target=5)
    with pytest.raises(LoupeError, match="SmoothGrad does not apply to occlusion"):
        explain(model, to_rgb(imgs[0]), "occlusion", smooth=True)


def test_gradcam_equals_pytorch_grad_cam_on_resnet18():
    import torchvision
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    from saliency_helpers import TinyModel

    from models.base import ModelCard

    class R18(TinyModel):
        def preprocess(self, rgb):
            return torch.from_numpy(np.asarray(rgb).astype(np.float32) / 255).permute(2, 0, 1)[None]

        def saliency_layer(self):
            return self.torch_module.layer4

    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None, num_classes=3).eval()
    model = R18(ModelCard("r18", "resnet18", "classification", ["a", "b", "c"]), net, torch.device("cpu"))
    rgb = (np.random.default_rng(0).random((96, 96, 3)) * 255).astype(np.uint8)
    ours = explain(model, rgb, "gradcam", target=2)
    with GradCAM(model=net, target_layers=[net.layer4]) as cam:
        theirs = cam(input_tensor=model.preprocess(rgb), targets=[ClassifierOutputTarget(2)])[0]
    assert ours.shape == theirs.shape == (96, 96)
    # same map up to interpolation (bilinear in torch vs cv2) and their min subtraction
    assert np.corrcoef(ours.ravel(), theirs.ravel())[0, 1] > 0.98
    assert np.abs(ours - theirs).max() < 0.15
