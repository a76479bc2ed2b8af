"""What a model receives for a file (MODELS.md "What every model receives"): 8-bit PNG/JPEG exactly
as PIL's `Image.open(p).convert("RGB")` gives them (the authors' reader), DICOM with its VOI
window, 16-bit PNG over the full 16-bit range, never the window/level on screen unless the model
panel's "Use the window on screen" is ticked; the CLI and the panel read through one function."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from imaging_helpers import dicom_dataset, pydicom_display_reference
from PIL import Image

from desktop.core.imaging.model_input import ScreenView, model_input

pytestmark = pytest.mark.shared_data


def write_voi_dicom(path, window=(1200.0, 800.0), photometric="MONOCHROME2"):
    from pydicom.uid import ExplicitVRLittleEndian

    ds = dicom_dataset()
    ds.Modality = "CR"
    ds.Rows, ds.Columns = 40, 36
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    pixels = np.random.default_rng(3).integers(0, 4096, (40, 36)).astype(np.uint16)
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True)
    assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    return pixels.astype(np.float64)


def write_16bit_png(path):
    values = np.random.default_rng(4).integers(1000, 3000, (30, 34)).astype(np.uint16)
    Image.fromarray(values).save(path)  # mode I;16
    assert Image.open(path).mode.startswith("I;16")
    return values.astype(np.float64)


def test_8bit_pngs_are_what_pil_convert_rgb_gives(shared_data, tmp_path):
    for name in ("00000032_037.png", "00000004_000_rgba.png"):  # grey, and NIH's RGBA quirk
        path = shared_data / "nih/images" / name
        want = np.asarray(Image.open(path).convert("RGB"))
        got = model_input(path)
        assert got.dtype == np.uint8 and np.array_equal(got, want), name
    # a palette PNG: PIL's conversion, not the viewer's own
    pal = Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 24, 3), dtype=np.uint8)).quantize(16)
    pal.save(tmp_path / "pal.png")
    assert np.array_equal(model_input(tmp_path / "pal.png"), np.asarray(Image.open(tmp_path / "pal.png").convert("RGB")))


def test_dicom_gets_its_voi_window_and_16bit_png_its_full_range(tmp_path):
    write_voi_dicom(tmp_path / "voi.dcm")
    want = pydicom_display_reference(tmp_path / "voi.dcm")  # pydicom's apply_voi_lut, scaled
    got = model_input(tmp_path / "voi.dcm")
    assert got.shape == (40, 36, 3) and np.abs(got[..., 0].astype(int) - want).max() <= 1
    assert np.array_equal(got[..., 0], got[..., 2])
    # no window in the file: the full range of its 12 stored bits, 0..4095 -> 0..255
    pixels = write_voi_dicom(tmp_path / "plain.dcm", window=None)
    np.testing.assert_allclose(model_input(tmp_path / "plain.dcm")[..., 0], np.rint(pixels * 255 / 4095), atol=1)
    # MONOCHROME1 is inverted, as the file asks
    pixels = write_voi_dicom(tmp_path / "mono1.dcm", window=None, photometric="MONOCHROME1")
    np.testing.assert_allclose(model_input(tmp_path / "mono1.dcm")[..., 0], 255 - np.rint(pixels * 255 / 4095),
                               atol=1)
    # 16-bit PNG: 0..65535 -> 0..255, not stretched from its own min (1000) to max (3000)
    values = write_16bit_png(tmp_path / "sixteen.png")
    got = model_input(tmp_path / "sixteen.png")
    np.testing.assert_allclose(got[..., 0], np.rint(values * 255 / 65535), atol=1)
    assert got.max() < 13  # the old min..max stretch reached 255


def test_screen_view_is_the_explicit_option(tmp_path):
    write_voi_dicom(tmp_path / "voi.dcm")
    from desktop.core.imaging import read_image

    img = read_image(tmp_path / "voi.dcm")
    on_screen = img.display((300.0, 200.0), 0, True)
    assert np.array_equal(model_input(tmp_path / "voi.dcm", screen=ScreenView((300.0, 200.0), True)), on_screen)
    assert not np.array_equal(model_input(tmp_path / "voi.dcm"), on_screen)


def test_cli_reads_through_the_same_function(shared_data, tmp_path):
    from desktop.commands import caption, detect
    from desktop.ui.model_panel import inference

    values = write_16bit_png(tmp_path / "sixteen.png")
    want = model_input(tmp_path / "sixteen.png")
    for read in (detect.read_rgb, caption.read_rgb, inference.read_rgb):
        assert np.array_equal(read(tmp_path / "sixteen.png"), want)
    assert not np.array_equal(want[..., 0], np.rint((values - 1000) / 2000 * 255))  # not min..max



# -- the model panel in the real window ------------------------------------------------------------
@pytest.mark.gui
def test_panel_feeds_the_file_not_the_window_on_screen(qtbot, shared_data, tmp_path, monkeypatch):
    pytest.importorskip("PySide6")
    from e2e_helpers import open_window, wait_job
    from model_panel_helpers import fake_load_model, write_fake_cards

    import models

    folder = tmp_path / "films"
    folder.mkdir()
    shutil.copy(shared_data / "nih/images/00000150_002.png", folder / "a_nih.png")
    write_16bit_png(folder / "b_sixteen.png")
    write_voi_dicom(folder / "c_voi.dcm")
    cards = write_fake_cards(tmp_path / "models")
    monkeypatch.setattr(models, "load_model", fake_load_model({}))
    win = open_window(qtbot, tmp_path, folder, tmp_path / "models", 3)
    panel = win.model_panel
    panel.refresh_models()
    job = panel.select(str(cards["fake-classifier"]))
    if job is not None:
        qtbot.waitSignal(job.finished, timeout=60000).wait()
    seen = {}
    real = panel.model.classify
    monkeypatch.setattr(panel.model, "classify", lambda rgb: seen.setdefault(len(seen), rgb) is None or real(rgb))
    nih = str(folder / "a_nih.png")
    assert win.current_path() == nih
    win.wl.set_window((60.0, 40.0))  # the user narrows the window on screen
    qtbot.wait(50)
    pil = np.asarray(Image.open(nih).convert("RGB"))
    assert not np.array_equal(win.current_rgb(), pil)
    assert not panel.use_screen.isChecked()  # the default
    panel.skip_done.setChecked(False)
    wait_job(qtbot, panel.run("all"))
    by_path = dict(zip(win.image_paths(), (seen[i] for i in range(3))))
    assert np.array_equal(by_path[nih], pil)  # exactly PIL's, whatever is on screen
    assert np.array_equal(by_path[str(folder / "c_voi.dcm")], model_input(folder / "c_voi.dcm"))
    assert np.array_equal(by_path[str(folder / "b_sixteen.png")], model_input(folder / "b_sixteen.png"))
    assert np.array_equal(panel.model_rgb(nih), pil)  # what Explain this image computes on
    assert "Model input: 8-bit PNG/JPEG exactly as PIL reads them" in panel.info.text()  # the card says so
    # the explicit option: what is on screen
    panel.use_screen.setChecked(True)
    seen.clear()
    wait_job(qtbot, panel.run("this"))
    assert np.array_equal(seen[0], win.current_rgb()) and not np.array_equal(seen[0], pil)
    assert np.array_equal(panel.model_rgb(nih), win.current_rgb())
    win.jobs.shutdown()
