"""The generated sample folder: every format the issue names, readable back by a second tool."""

from __future__ import annotations

import numpy as np
import pydicom
from PIL import Image

from desktop.core.imaging import read_image
from desktop.core.samples import SAMPLE_NAMES, ensure_samples


def test_samples_cover_the_issues_formats(tmp_path):
    folder = ensure_samples(tmp_path / "s")
    assert sorted(p.name for p in folder.iterdir()) == sorted(SAMPLE_NAMES)
    assert Image.open(folder / "02_phantom_16bit.png").mode.startswith("I;16")
    assert Image.open(folder / "04_phantom_16bit.tif").mode.startswith("I;16")
    assert Image.open(folder / "03_photo_exif_rotated.jpg").getexif()[0x0112] == 6
    ct = pydicom.dcmread(folder / "07_ct_phantom_rescaled.dcm")
    assert (float(ct.RescaleSlope), float(ct.RescaleIntercept)) == (0.5, -1024.0)
    assert len(ct.WindowCenter) == 3
    assert pydicom.dcmread(folder / "08_cr_monochrome1.dcm").PhotometricInterpretation == "MONOCHROME1"
    assert int(pydicom.dcmread(folder / "09_multiframe.dcm").NumberOfFrames) == 8
    for name in SAMPLE_NAMES:
        image = read_image(folder / name)
        assert image.display().dtype == np.uint8


def test_ensure_samples_regenerates_only_when_missing(tmp_path):
    folder = ensure_samples(tmp_path)
    first = folder / SAMPLE_NAMES[0]
    mtime = first.stat().st_mtime_ns
    ensure_samples(tmp_path)
    assert first.stat().st_mtime_ns == mtime
    (folder / SAMPLE_NAMES[-1]).unlink()
    ensure_samples(tmp_path)
    assert (folder / SAMPLE_NAMES[-1]).is_file()
