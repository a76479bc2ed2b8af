"""PNG, JPEG, TIFF, BMP, WebP: modes, 16-bit, EXIF orientation, the NIH PNGs (incl. RGBA)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from desktop.core.imaging import read_image
from desktop.core.samples import write_samples


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    return write_samples(tmp_path_factory.mktemp("samples"))


def test_16bit_png_keeps_its_values_and_shows_full_range(samples):
    path = samples[1]
    expected = np.asarray(Image.open(path)).astype(np.uint16)
    image = read_image(path)
    assert image.pixels.dtype == np.uint16
    np.testing.assert_array_equal(image.pixels, expected)
    shown = image.render()
    lo, hi = expected.min(), expected.max()
    assert shown[expected == lo].max() == 0 and shown[expected == hi].min() == 255
    reference = np.rint((expected.astype(float) - lo) / (hi - lo) * 255)
    assert np.abs(shown.astype(int) - reference).max() <= 1


def test_16bit_tiff(samples):
    image = read_image(samples[3])
    assert image.pixels.dtype == np.uint16 and image.pixels.max() == 65535
    np.testing.assert_array_equal(image.pixels, np.asarray(Image.open(samples[3])))


def test_exif_orientation_is_applied(samples):
    path = samples[2]
    stored = np.asarray(Image.open(path))  # landscape as stored, marker at top-left
    assert stored.shape[:2] == (240, 320)
    image = read_image(path)
    assert image.size == (240, 320) and image.meta["EXIF orientation"] == 6
    # orientation 6 = rotate 90 degrees clockwise to view: the stored top-left goes top-right
    np.testing.assert_array_equal(image.pixels, np.rot90(stored, k=-1))
    marker = image.pixels[..., 2] < 100  # the yellow marker has low blue
    ys, xs = np.nonzero(marker)
    assert xs.mean() > 160 and ys.mean() < 160


def test_palette_bmp_and_webp(samples):
    bmp = read_image(samples[4])
    np.testing.assert_array_equal(bmp.pixels, np.asarray(Image.open(samples[4]).convert("RGB")))
    webp = read_image(samples[5])
    assert webp.meta["Format"] == "WEBP"
    np.testing.assert_array_equal(webp.display(), np.asarray(Image.open(samples[5]).convert("RGB")))


def test_grey_8bit_png_is_shown_unchanged(samples):
    image = read_image(samples[0])
    np.testing.assert_array_equal(image.display()[..., 1], np.asarray(Image.open(samples[0])))


def test_rgba_with_transparency_is_composited_on_black(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., :3] = 200
    rgba[:2, ..., 3] = 255  # top half opaque, bottom half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    shown = read_image(tmp_path / "a.png").display()
    assert (shown[:2] == 200).all() and (shown[2:] == 0).all()


@pytest.mark.shared_data
def test_nih_pngs_including_the_rgba_one(shared_data):
    paths = sorted((shared_data / "nih" / "images").glob("*.png"))
    assert len(paths) == 5
    for path in paths:
        pil = Image.open(path)
        image = read_image(path)
        assert image.size == (1024, 1024)
        shown = image.display()
        np.testing.assert_array_equal(shown, np.asarray(pil.convert("RGB")))
        if pil.mode == "RGBA":
            assert "RGBA" in image.meta["Mode"]
