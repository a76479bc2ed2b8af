"""DICOM decoding against pydicom: the real files in ../shared/data/dicom and the generated ones."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from imaging_helpers import pydicom_display_reference
from pydicom.pixels import apply_modality_lut

from desktop.core.imaging import CT_PRESETS, Window, read_image
from desktop.core.samples import write_samples

SHARED_DICOMS = ["693_UNCR.dcm", "MR2_UNCR.dcm", "RG1_J2KI.dcm", "US1_UNCR.dcm",
                 "siim_cr_chest_jpeg_baseline.dcm", "siim_cr_chest_monochrome1.dcm"]


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    return write_samples(tmp_path_factory.mktemp("samples"))


@pytest.mark.shared_data
@pytest.mark.parametrize("name", SHARED_DICOMS)
def test_shared_dicom_pixels_are_pydicoms_modality_values(shared_data, name):
    path = shared_data / "dicom" / name
    ds = pydicom.dcmread(path)
    expected = apply_modality_lut(ds.pixel_array, ds) if ds.SamplesPerPixel == 1 else ds.pixel_array
    image = read_image(path)
    assert image.pixels.shape == expected.shape
    np.testing.assert_allclose(image.pixels, expected)
    assert image.size == (int(ds.Columns), int(ds.Rows))
    assert image.meta["Photometric"] == ds.PhotometricInterpretation


@pytest.mark.shared_data
@pytest.mark.parametrize("name", [n for n in SHARED_DICOMS if n != "US1_UNCR.dcm"])
def test_shared_dicom_display_matches_the_standard_pipeline(shared_data, name):
    path = shared_data / "dicom" / name
    shown = read_image(path).display()
    reference = pydicom_display_reference(path)
    assert shown.shape == reference.shape + (3,)
    assert (shown[..., 0] == shown[..., 2]).all()
    diff = np.abs(shown[..., 0].astype(int) - reference)
    assert diff.max() <= 1, f"{name}: {diff.max()} grey levels off"


@pytest.mark.shared_data
def test_rg1_monochrome1_jpeg2000_is_inverted(shared_data):
    path = shared_data / "dicom" / "RG1_J2KI.dcm"
    image = read_image(path)
    assert image.monochrome1 and image.meta["Transfer syntax"].startswith("JPEG 2000")
    as_stored = image.render(invert=False)
    shown = image.render()
    np.testing.assert_array_equal(shown, 255 - as_stored)
    # the highest stored value (dense bone in MONOCHROME1) is the darkest on screen
    raw = image.raw(0)
    assert shown[raw == raw.max()].max() < shown[raw == raw.min()].min()


@pytest.mark.shared_data
def test_siim_monochrome1_shows_the_inverse_of_the_monochrome2_twin(shared_data):
    mono2 = read_image(shared_data / "dicom" / "siim_cr_chest_jpeg_baseline.dcm").display()
    mono1 = read_image(shared_data / "dicom" / "siim_cr_chest_monochrome1.dcm").display()
    np.testing.assert_array_equal(mono1, 255 - mono2)


@pytest.mark.shared_data
def test_us1_is_rgb_shown_as_stored(shared_data):
    path = shared_data / "dicom" / "US1_UNCR.dcm"
    image = read_image(path)
    assert image.is_color
    np.testing.assert_array_equal(image.display(), pydicom.dcmread(path).pixel_array)


@pytest.mark.shared_data
def test_ct_presets_and_file_window_use_hounsfield_units(shared_data):
    image = read_image(shared_data / "dicom" / "693_UNCR.dcm")
    assert image.windows[0][:2] == (40.0, 100.0)
    lung = image.render(CT_PRESETS[0])
    hu = image.pixels
    # air (-1000 HU and below) is black and dense bone (> 1000 HU) white in the lung window
    assert lung[hu <= -1400].max() == 0 and lung[hu >= 200].min() == 255


def test_generated_ct_has_rescale_and_named_presets(samples):
    path = samples[6]
    ds = pydicom.dcmread(path)
    image = read_image(path)
    np.testing.assert_allclose(image.pixels, apply_modality_lut(ds.pixel_array, ds))
    assert image.pixels.min() == -1000.0 and image.pixels.max() == 900.0  # Hounsfield units
    assert [w.name for w in image.windows] == ["Soft tissue", "Lung", "Bone"]
    assert image.windows[1][:2] == (-600.0, 1500.0)
    np.testing.assert_array_equal(image.render()[..., None].repeat(3, 2), image.display())
    assert np.abs(image.render().astype(int) - pydicom_display_reference(path)).max() <= 1


def test_generated_rle_ct_decodes_like_the_uncompressed_one(samples):
    assert pydicom.dcmread(samples[9]).file_meta.TransferSyntaxUID.name == "RLE Lossless"
    np.testing.assert_array_equal(read_image(samples[9]).pixels, read_image(samples[6]).pixels)


def test_generated_monochrome1_is_inverted(samples):
    image = read_image(samples[7])
    assert image.monochrome1
    np.testing.assert_array_equal(image.render(), 255 - image.render(invert=False))
    assert np.abs(image.render().astype(int) - pydicom_display_reference(samples[7])).max() <= 1


def test_generated_multiframe_gives_every_frame(samples):
    ds = pydicom.dcmread(samples[8])
    image = read_image(samples[8])
    assert image.n_frames == 8 == image.frames
    expected = apply_modality_lut(ds.pixel_array, ds)
    for i in (0, 3, 7):
        np.testing.assert_allclose(image.frame(i), expected[i])
    assert not np.array_equal(image.display(frame=0), image.display(frame=2))
    with pytest.raises(IndexError):
        image.frame(8)


def test_fast_linear_path_equals_the_lookup_table(samples):
    """The OpenCV ramp and the numpy table give the same screen values (within one level)."""
    image = read_image(samples[6])  # int16 stored values, slope 0.5
    for window in [Window(40, 2000), Window(-600, 1500), Window(400, 1800), Window(5000, 30000)]:
        fast = image.render(window)
        image_linear, image.linear = image.linear, None  # force the table path
        table = image.render(window)
        image.linear = image_linear
        assert np.abs(fast.astype(int) - table).max() <= 1


def test_render_into_a_preallocated_buffer_equals_a_fresh_render(samples):
    """The viewer's drag path writes into one reused buffer; every branch (fast ramp, table,
    MONOCHROME1, colour, threshold-outside) must give exactly what a fresh render gives."""
    windows = [None, Window(40, 2000), Window(-600, 1500), Window(40, 80), Window(1e6, 10)]
    for path in samples:
        image = read_image(path)
        for window in windows:
            for invert in (None, True):
                expected = image.render(window, 0, invert)
                out = np.full(expected.shape, 77, np.uint8)
                got = image.render(window, 0, invert, out=out)
                assert got is out, (path.name, window)
                np.testing.assert_array_equal(out, expected, err_msg=f"{path.name} {window} {invert}")
    with pytest.raises(ValueError, match="C-contiguous uint8"):
        image.render(None, out=np.empty((3, 3), np.uint8))
