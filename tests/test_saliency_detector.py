"""Detector saliency on Heartformer (RF-DETR Nano, seeded random weights in the published
safetensors layout, loaded by load_model): one box's Grad-CAM through the backbone projector, and
the class-agnostic EigenCAM map."""

from __future__ import annotations

import numpy as np
import pytest
from saliency_helpers import preset_model

from models.errors import LoupeError
from models.saliency import explain
from models.saliency.detector import ranked_queries

H, W = 60, 72


@pytest.fixture(scope="module")
def detector(tmp_path_factory):
    return preset_model("heartformer", tmp_path_factory.mktemp("heartformer"))


@pytest.fixture(scope="module")
def rgb():
    return (np.random.default_rng(3).random((H, W, 3)) * 255).astype(np.uint8)


def _check(heat):
    assert heat.shape == (H, W) and heat.dtype == np.float32 and np.isfinite(heat).all()
    assert heat.min() >= 0 and heat.max() == pytest.approx(1.0)


def test_boxes_are_ranked_as_detect_lists_them(detector, rgb):
    import torch

    with torch.inference_mode():
        logits = detector.forward_logits(detector.preprocess(rgb))
    dets = detector.detect(rgb, threshold=0.0)
    ranked = ranked_queries(detector, logits, 0.0)
    assert len(ranked) == len(dets) > 2
    np.testing.assert_allclose([s for _, _, s in ranked], dets.scores, rtol=1e-5)
    assert [c for _, c, _ in ranked] == dets.class_ids.tolist()


def test_one_box_gradcam_changes_with_box_and_class(detector, rgb):
    a = explain(detector, rgb, "gradcam", box=0, threshold=0.0)
    b = explain(detector, rgb, "gradcam", box=1, threshold=0.0)
    c = explain(detector, rgb, "gradcam", box=0, threshold=0.0, target="heart_xray")
    for heat in (a, b, c):
        _check(heat)
    assert np.abs(a - b).max() > 1e-3 and np.abs(a - c).max() > 1e-3


def test_eigencam_for_the_whole_image(detector, rgb):
    heat = explain(detector, rgb, "eigencam")
    _check(heat)
    assert np.array_equal(heat, explain(detector, rgb, "gradcam"))  # no box: the class-agnostic map


def test_detector_errors_are_clear(detector, rgb):
    with pytest.raises(LoupeError, match="box 999 does not exist"):
        explain(detector, rgb, "gradcam", box=999, threshold=0.0)
    with pytest.raises(LoupeError, match="needs a box"):
        explain(detector, rgb, "occlusion")
