"""Every saliency method on every classifier preset (seeded random weights in the published
layouts, loaded by load_model): a finite, image-sized map in [0, 1] that changes with the target."""

from __future__ import annotations

import numpy as np
import pytest
from saliency_helpers import preset_model

from models.saliency import METHODS, explain

PRESETS = ("oasis-resnet18", "chexnet", "qing", "oasis-vit")
FAST = {("oasis-resnet18", m) for m in METHODS} | {(p, "gradcam") for p in PRESETS}
FEW = {"n_steps": 4, "n_samples": 2, "nt_samples": 2, "window": 112, "stride": 112, "internal_batch_size": 4}
H, W = 48, 40  # small and not square: the map must come back at the image's own size


def _cases():
    for preset in PRESETS:
        for method in METHODS:
            marks = () if (preset, method) in FAST else (pytest.mark.slow,)
            yield pytest.param(preset, method, marks=marks, id=f"{preset}-{method}")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saliency_presets")
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = preset_model(name, folder)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def rgb():
    return (np.random.default_rng(0).random((H, W, 3)) * 255).astype(np.uint8)


@pytest.mark.parametrize(("preset", "method"), list(_cases()))
def test_method_on_preset(models, rgb, preset, method):
    model = models(preset)
    if (preset, method) == ("oasis-vit", "occlusion"):
        # Hiding any patch RAISES both logits of a random-weight ViT (measured: every occlusion
        # attribution is negative for both classes), so the map of positive evidence is rightly
        # blank. Check that it is blank exactly when no patch lowers the score, per target.
        from captum.attr import Occlusion

        x = model.preprocess(rgb)
        for target in (0, 1):
            raw = Occlusion(model.forward_logits).attribute(
                x, sliding_window_shapes=(3, 112, 112), strides=(3, 112, 112), baselines=0.0, target=target)
            heat = explain(model, rgb, method, target=target, **FEW)
            assert heat.shape == (H, W) and np.isfinite(heat).all()
            assert (heat.max() == 0.0) == bool((raw <= 0).all())
        return
    a = explain(model, rgb, method, target=0, **FEW)
    b = explain(model, rgb, method, target=1, **FEW)
    for heat in (a, b):
        assert heat.shape == (H, W) and heat.dtype == np.float32 and np.isfinite(heat).all()
        assert heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)  # not a blank map
    assert np.abs(a - b).max() > 1e-3  # explains the class asked for


def test_smoothgrad_wraps_gradcam(models, rgb):
    model = models("oasis-resnet18")
    plain = explain(model, rgb, "gradcam", target=1)
    smooth = explain(model, rgb, "smoothgrad-gradcam", target=1, nt_samples=3)
    assert smooth.shape == plain.shape and np.isfinite(smooth).all() and smooth.max() == pytest.approx(1.0)
    assert np.abs(smooth - plain).max() > 1e-3
    assert np.array_equal(explain(model, rgb, "gradcam", target="disease"), plain)  # by class name


def test_qing_attention_is_its_own_second_view(models, rgb):
    from models.saliency.maps import resize_map

    model = models("qing")
    heat = explain(model, rgb, "attention")
    assert heat.shape == (H, W) and heat.max() == pytest.approx(1.0)
    np.testing.assert_allclose(heat, resize_map(model.attention_map(rgb), (H, W)), atol=1e-6)
