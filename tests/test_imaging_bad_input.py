"""Every bad input of issue 2 gets an ImageReadError naming the file and the reason."""

from __future__ import annotations

import os
import time

import pytest
from imaging_helpers import write_bad_inputs

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
