"""The prompt's box without the full-resolution mask (models/segmentation/fastbox.py) is the box of
the full-resolution mask: against torch's own bilinear resize on random logits of many sizes, and
against `segment` (transformers' post_process_masks) for SAM and SAM 2 prompts on a real radiograph."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models import load_model
from models.segmentation import box_from_mask, fastbox
from models.segmentation.tiny import write_tiny_folder


def _full_box(low: torch.Tensor, h: int, w: int):
    return box_from_mask((F.interpolate(low, (h, w), mode="bilinear", align_corners=False) > 0)[0, 0].numpy())


def test_the_box_equals_the_box_of_torchs_full_resize_for_random_logits():
    rng = np.random.default_rng(7)
    unsure = 0
    for _ in range(200):
        h, w = (int(v) for v in rng.integers(8, 130, 2))
        out_h, out_w = (int(v) for v in rng.integers(5, 900, 2))
        smooth = torch.tensor(rng.normal(size=(1, 1, 5, 5)), dtype=torch.float32)
        low = F.interpolate(smooth, (h, w), mode="bilinear", align_corners=False) - float(rng.uniform(0, 1.5))
        try:
            got = fastbox.box_of_resize(low[0, 0].numpy(), out_h, out_w)
        except fastbox._Unsure:
            unsure += 1
            continue
        assert got == _full_box(low, out_h, out_w), (h, w, out_h, out_w)
    assert unsure < 5  # the exact path is the exception


def test_torchs_indices_and_weights_along_an_axis():
    # downscale and upscale, as torch's upsample_bilinear2d computes the source of each output pixel
    for n_in, n_out in ((256, 1024), (1024, 600), (7, 3), (600, 2500)):
        ramp = torch.arange(n_in, dtype=torch.float32).reshape(1, 1, 1, n_in)
        ref = F.interpolate(ramp, (1, n_out), mode="bilinear", align_corners=False)[0, 0, 0].numpy()
        i0, i1, w0, w1 = fastbox.axis(n_in, n_out)
        np.testing.assert_allclose(w0 * i0 + w1 * i1, ref, rtol=0, atol=2e-4)


@pytest.fixture(scope="module")
def models_(tmp_path_factory):
    root = tmp_path_factory.mktemp("fastbox")
    return {"sam": load_model("medsam", weights=write_tiny_folder(root / "sam", "sam", "medsam", seed=3), device="cpu"),
            "sam2": load_model("sam2.1-tiny", weights=write_tiny_folder(root / "sam2", "sam2", "sam", seed=3),
                               device="cpu")}


@pytest.mark.parametrize("family", ["sam", "sam2"])
def test_a_prompts_box_is_the_full_masks_box_on_a_radiograph(models_, family, shared_data):
    from PIL import Image

    gray = np.asarray(Image.open(shared_data / "nih" / "images" / "00000032_037.png").convert("L"))[40:900, 100:770]
    rgb = np.ascontiguousarray(np.repeat(gray[..., None], 3, axis=2))  # 860 x 670: SAM resizes and pads
    m = models_[family]
    emb = m.embed(rgb)
    prompts = [{"points": [(300, 400, 1)]}, {"points": [(300, 400, 1), (500, 200, 0)]},
               {"box": (120, 200, 520, 700)}, {"box": (10, 10, 60, 90), "points": [(30, 40, 1)]}]
    for prompt in prompts:
        mask, score = m.segment(emb, **prompt)
        got = m.prompt(emb, **prompt)
        assert got.box == box_from_mask(mask), prompt
        assert got.score == pytest.approx(score)
        assert got.low.ndim == 2 and got.low.shape[0] <= 1024


def test_a_value_too_close_to_zero_takes_the_full_resolution_path(models_, monkeypatch):
    m = models_["sam"]
    emb = m.embed(np.random.default_rng(0).integers(0, 255, (300, 200, 3), dtype=np.uint8))
    monkeypatch.setattr(fastbox, "_MARGIN", 1e9)  # every value "too close": the full mask decides
    mask, _ = m.segment(emb, points=[(50, 60, 1)])
    got = m.prompt(emb, points=[(50, 60, 1)])
    assert got.exact_path and got.box == box_from_mask(mask)


def test_the_windowed_first_resize_gives_the_full_resizes_box_and_values_near_the_mask():
    # the processor's first resize (256 -> 1024, then the crop) computed around the positive region
    rng = np.random.default_rng(3)
    for _ in range(60):
        smooth = torch.tensor(rng.normal(size=(1, 1, 6, 6)), dtype=torch.float32)
        masks = F.interpolate(smooth, (64, 64), mode="bicubic", align_corners=False) - float(rng.uniform(0.3, 2.0))
        full = F.interpolate(masks, (256, 256), mode="bilinear", align_corners=False)
        part = fastbox.upsample_around_positive(masks, 256, 256)
        near = F.max_pool2d((full > 0).float(), 9, stride=1, padding=4) > 0  # 4 output pixels around the mask
        assert torch.equal(part[near], full[near])
        assert torch.equal(part > 0, full > 0)
        h, w = (int(v) for v in rng.integers(100, 900, 2))
        try:
            got = fastbox.box_of_resize(part[0, 0].numpy(), h, w)
        except fastbox._Unsure:
            continue
        assert got == _full_box(full, h, w)
