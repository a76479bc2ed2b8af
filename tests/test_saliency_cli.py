"""`loupe saliency`: the overlay PNG and the raw .npy come back as written (read by PIL/numpy)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from desktop.cli import main

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="module")
def resnet_weights(tmp_path_factory):
    from e2e_helpers import build_preset_weights

    return build_preset_weights("oasis-resnet18", tmp_path_factory.mktemp("oasis"))


def test_saliency_cli_writes_overlay_and_array(resnet_weights, tmp_path, capsys):
    from models import load_model
    from models.saliency import explain
    from models.saliency.overlay import overlay

    img = tmp_path / "brain.png"
    grey = (np.random.default_rng(0).random((50, 70)) * 255).astype(np.uint8)
    Image.fromarray(grey).save(img)
    out, npy = tmp_path / "heat.png", tmp_path / "heat.npy"
    rc = main(["saliency", str(img), "--model", "oasis-resnet18", "--weights", str(resnet_weights),
               "--method", "gradcam", "--target", "disease", "--device", "cpu", "--out", str(out), "--npy", str(npy)])
    assert rc == 0 and json.loads(capsys.readouterr().out)["method"] == "gradcam"
    heat = np.load(npy)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    model = load_model("oasis-resnet18", weights=resnet_weights, device="cpu")
    np.testing.assert_allclose(heat, explain(model, rgb, "gradcam", target="disease"), atol=1e-6)
    png = np.asarray(Image.open(out))
    assert png.shape == (50, 70, 3) and np.array_equal(png, overlay(rgb, heat))
    assert not np.array_equal(png, rgb)  # the map is visible


def test_saliency_cli_bad_target_is_clear(resnet_weights, tmp_path, capsys):
    img = tmp_path / "x.png"
    Image.new("RGB", (20, 20)).save(img)
    rc = main(["saliency", str(img), "--model", "oasis-resnet18", "--weights", str(resnet_weights),
               "--target", "tumour", "--device", "cpu", "--out", str(tmp_path / "h.png")])
    assert rc == 2 and "no class 'tumour'" in capsys.readouterr().err
    assert not (tmp_path / "h.png").exists()


def test_overlay_keeps_image_where_map_is_zero():
    from models.saliency.overlay import overlay

    rgb = np.full((4, 5, 3), 100, np.uint8)
    heat = np.zeros((4, 5), np.float32)
    heat[0, 0] = 1.0
    out = overlay(rgb, heat)
    assert np.array_equal(out[1:], rgb[1:]) and not np.array_equal(out[0, 0], rgb[0, 0])
    with pytest.raises(ValueError, match="does not match"):
        overlay(rgb, np.zeros((3, 3)))


def test_saliency_overlay_of_an_ultrasound_warns_of_burned_in_text(resnet_weights, tmp_path, capsys):
    """Issue 14: the overlay holds the film's pixels, so burned-in text gets a warning and a field."""
    from imaging_helpers import small_dicom

    img = small_dicom(tmp_path / "us.dcm", "US")
    out = tmp_path / "heat.png"
    rc = main(["saliency", str(img), "--model", "oasis-resnet18", "--weights", str(resnet_weights),
               "--method", "gradcam", "--target", "disease", "--device", "cpu", "--out", str(out)])
    captured = capsys.readouterr()
    assert rc == 0 and "modality US (ultrasound) often has burned-in text" in json.loads(captured.out)["burned_in_text"]
    assert f"warning: {out} may show the patient's name or ID in its pixels" in captured.err
