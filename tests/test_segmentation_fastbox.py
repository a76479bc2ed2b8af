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


def test_the_box_of_the_processors_two_resizes_equals_torchs_for_random_logits():
    # SAM's post_process_masks: 256 -> the padded 1024, the crop to the resized image, -> the image's
    # size; the box comes from the 256 x 256 logits through both resizes at once (`composite`)
    rng = np.random.default_rng(3)
    unsure = 0
    for _ in range(120):
        smooth = torch.tensor(rng.normal(size=(1, 1, 6, 6)), dtype=torch.float32)
        masks = F.interpolate(smooth, (256, 256), mode="bicubic", align_corners=False) - float(rng.uniform(0.3, 2.0))
        h, w = (int(v) for v in rng.integers(100, 3000, 2))
        long = max(h, w)
        rh, rw = int(h * 1024 / long + 0.5), int(w * 1024 / long + 0.5)  # the processor's longest side 1024
        full = F.interpolate(masks, (1024, 1024), mode="bilinear", align_corners=False)[..., :rh, :rw]
        try:
            got = fastbox.box_of_resizes(masks[0, 0].numpy(), [(256, 1024), (rh, h)], [(256, 1024), (rw, w)])
        except fastbox._Unsure:
            unsure += 1
            continue
        assert got == _full_box(full, h, w), (h, w, rh, rw)
    assert unsure < 4


def test_a_composite_axis_is_the_chain_of_torchs_resizes():
    # a curve through torch's two float32 resizes (with the crop between them) equals the composite's
    # taps and weights applied to it, within float32 rounding
    for stages in ([(256, 1024), (839, 2500)], [(256, 1024), (1024, 600)], [(64, 256), (200, 97)]):
        x = torch.arange(stages[0][0], dtype=torch.float32).reshape(1, 1, 1, -1) ** 1.5
        for n_in, n_out in stages:
            x = F.interpolate(x[..., :n_in], (1, n_out), mode="bilinear", align_corners=False)
        idx, wt = fastbox.composite(stages)
        assert idx.shape == wt.shape == (stages[-1][1], 4)
        ramp = np.arange(stages[0][0], dtype=np.float64) ** 1.5
        np.testing.assert_allclose((wt * ramp[idx]).sum(axis=1), x[0, 0, 0].numpy(), rtol=0, atol=1e-6 * ramp.max())
        np.testing.assert_allclose(wt.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("family", ["sam", "sam2"])
def test_the_preview_lies_over_the_mask_and_covers_the_image(models_, family, monkeypatch):
    m = models_[family]
    emb = m.embed(np.random.default_rng(1).integers(0, 255, (839, 613, 3), dtype=np.uint8))  # resized, padded
    real = m.decode(emb, box=(10, 10, 100, 100))[0]
    n = real.shape[-1]
    yy, xx = np.mgrid[0:n, 0:n]
    # planted logits: a disc (centre and radius in decoder pixels) through the real post-processing
    disc = torch.tensor(0.2 * n - np.hypot(yy - 0.45 * n, xx - 0.3 * n), dtype=torch.float32).reshape(real.shape)
    monkeypatch.setattr(m, "decode", lambda *a, **k: (disc, torch.tensor([0.9]), False))
    mask, _ = m.segment(emb, box=(10, 10, 100, 100))
    got = m.prompt(emb, box=(10, 10, 100, 100))
    assert got.box == box_from_mask(mask)
    h, w = got.low.shape
    ew, eh = got.extent
    assert 613 <= ew < 613 + ew / w and 839 <= eh < 839 + eh / h  # covers the image, by less than a pixel more
    # the preview's pixel under each image pixel (nearest) agrees with the full-resolution mask
    ys = np.minimum((np.arange(839) + 0.5) * h / eh, h - 1).astype(int)
    xs = np.minimum((np.arange(613) + 0.5) * w / ew, w - 1).astype(int)
    near = got.low[ys][:, xs]
    assert mask.sum() > 20000 and (near & mask).sum() / (near | mask).sum() > 0.93  # a staircase, not a shift
    # the same centre, to a twentieth of a decoder pixel (seen: 0.01-0.02; the SAM preview stretched
    # over the image alone, 47 pixels over 613 instead of 616.3, is 0.14 off)
    centre = lambda b: np.array([np.mgrid[0:839, 0:613][k][b].mean() for k in (0, 1)])  # noqa: E731
    assert np.all(np.abs(centre(near) - centre(mask)) < 0.05 * np.array([eh / h, ew / w]))
