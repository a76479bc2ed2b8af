"""Every bad input of issues 2 and 14 gets an ImageReadError naming the file and the reason, or is
shown with what had to be ignored said in its facts."""

from __future__ import annotations

import os
import time

import pytest
from imaging_helpers import apng_declaring, small_dicom, tiff_of_pages, write_bad_inputs

from desktop.core.imaging import ImageReadError, read_image
from models.errors import LoupeError

EXPECTED_REASON = {
    "empty": "empty",
    "empty_dcm": "empty",
    "truncated_dcm": "truncated",
    "truncated_header_dcm": "truncated",
    "truncated_png": "truncated",
    "random_dcm": "not a DICOM file",
    "random_png": "not an image",
    "no_pixels_dcm": "no pixel data (it is a Comprehensive SR",
    "unsupported_syntax_dcm": "unsupported transfer syntax 1.2.840.10008.1.2.4.100",
    "bomb_png": "decompression bomb",
    "bomb_dcm": "decompression bomb",
}


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    return write_bad_inputs(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("kind", sorted(EXPECTED_REASON))
def test_bad_input_names_file_and_reason(bad, kind):
    path = bad[kind]
    start = time.perf_counter()
    with pytest.raises(ImageReadError) as info:
        read_image(path)
    assert time.perf_counter() - start < 5, "a bad file must never hang"
    err = info.value
    assert isinstance(err, LoupeError)
    assert path.name in str(err)
    assert EXPECTED_REASON[kind].lower() in err.reason.lower(), err.reason


def test_missing_file(tmp_path):
    with pytest.raises(ImageReadError, match="file not found"):
        read_image(tmp_path / "nope.png")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="running as root: chmod 000 does not stop root from reading the file")
@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_unreadable_permissions(bad, tmp_path):
    path = tmp_path / "locked.png"
    path.write_bytes(bad["truncated_png"].parent.joinpath("good", "01_chest_phantom.png").read_bytes())
    path.chmod(0)
    try:
        with pytest.raises(ImageReadError, match="permission denied") as info:
            read_image(path)
        assert "locked.png" in str(info.value)
    finally:
        path.chmod(0o644)


@pytest.mark.timeout(60)
def test_a_tiff_of_200000_pages_is_refused_at_once(tmp_path):
    path = tiff_of_pages(tmp_path / "pages.tif", 200_000)  # 23 MB; Pillow walked every page (234 s)
    start = time.perf_counter()
    with pytest.raises(ImageReadError) as info:
        read_image(path)
    assert time.perf_counter() - start < 3
    assert "pages.tif" in str(info.value) and "more than 1,000 pages" in info.value.reason


def test_a_tiff_of_a_few_pages_still_reads_every_page(tmp_path):
    image = read_image(tiff_of_pages(tmp_path / "five.tif", 5))
    assert image.n_frames == 5 and int(image.frame(4)[0, 0]) == 128


def test_an_apng_declaring_two_billion_frames_says_the_frame_count(tmp_path):
    with pytest.raises(ImageReadError) as info:
        read_image(apng_declaring(tmp_path / "anim.png", 2**31))
    assert "declares 2,147,483,648 frames" in info.value.reason and "8 x 8 pixels" not in info.value.reason
    assert read_image(apng_declaring(tmp_path / "three.png", 3)).n_frames == 3


def test_nan_window_and_rescale_are_ignored_and_said(tmp_path):
    import numpy as np

    path = small_dicom(tmp_path / "nan.dcm", WindowCenter=float("nan"), WindowWidth=float("nan"),
                       RescaleSlope=float("nan"), RescaleIntercept=0)
    image = read_image(path)
    assert image.windows == [] and image.linear == (1.0, 0.0)
    assert "WindowCenter = nan" in image.meta["Ignored"] and "RescaleSlope = nan" in image.meta["Ignored"]
    shown = image.display()  # the full range: 0..63 mapped onto 0..255
    assert shown.shape == (8, 8, 3) and shown[0, 0, 0] == 0 and shown[7, 7, 0] == 255
    assert np.array_equal(image.display((float("nan"), float("nan"))), shown)  # a NaN setting too


def test_private_tags_count_as_patient_data(tmp_path):
    path = small_dicom(tmp_path / "private.dcm")
    import pydicom

    ds = pydicom.dcmread(path)
    block = ds.private_block(0x0009, "ACME 1.0", create=True)
    block.add_new(0x01, "LO", "Doe^Janet PID938271")
    ds.save_as(path)
    rows = {t["tag"]: t for t in read_image(path).meta["tags"]}
    assert rows["(0009,1001)"]["phi"] and rows["(0009,1001)"]["private"]
    assert rows["(0009,0010)"]["phi"]  # the private creator too
    assert not rows["(0028,0010)"]["phi"]  # Rows: a public, harmless tag


@pytest.mark.parametrize("modality, attrs, expected", [
    ("CT", {"BurnedInAnnotation": "YES"}, "Burned In Annotation = YES"),
    ("US", {}, "modality US (ultrasound) often has burned-in text"),
    ("OT", {}, "modality OT"),
    ("US", {"BurnedInAnnotation": "NO"}, None),
    ("CT", {}, None),
])
def test_burned_in_text_is_a_fact_of_the_image(tmp_path, modality, attrs, expected):
    meta = read_image(small_dicom(tmp_path / "b.dcm", modality, **attrs)).meta
    if expected is None:
        assert "Burned-in text" not in meta
    else:
        assert expected in meta["Burned-in text"]
