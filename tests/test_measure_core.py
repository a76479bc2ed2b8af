"""The viewer tools' computations against known geometry (DICOM definitions, numpy references)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from desktop.core.imaging import read_image
from desktop.core.measure import angle, distance, measure, probe, roi_mask, roi_stats
from tests.measure_helpers import DX, geometry_dicom


def test_spacing_sources_and_row_column_order(tmp_path):
    ps = read_image(geometry_dicom(tmp_path / "ps.dcm", PixelSpacing=[0.5, 0.25]))
    assert tuple(ps.spacing) == (0.5, 0.25, "PixelSpacing")  # [row spacing, column spacing]
    ips = read_image(geometry_dicom(tmp_path / "ips.dcm", modality="DX", sop_class=DX,
                                    ImagerPixelSpacing=[0.143, 0.143]))
    assert tuple(ips.spacing) == (0.143, 0.143, "ImagerPixelSpacing")
    both = read_image(geometry_dicom(tmp_path / "both.dcm", modality="DX", sop_class=DX,
                                     ImagerPixelSpacing=[0.2, 0.2], PixelSpacing=[0.18, 0.18]))
    assert tuple(both.spacing) == (0.18, 0.18, "PixelSpacing")  # the calibrated one wins
    none = read_image(geometry_dicom(tmp_path / "none.dcm"))
    assert tuple(none.spacing) == (None, None, None)
    bad = read_image(geometry_dicom(tmp_path / "bad.dcm", PixelSpacing=["0", "-1"]))
    assert bad.spacing.source is None  # zero/negative spacing is no calibration


def test_spacing_of_a_png_is_none(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "a.png")
    assert tuple(read_image(tmp_path / "a.png").spacing) == (None, None, None)


def test_enhanced_multiframe_spacing_from_functional_groups(tmp_path):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    measures = Dataset()
    measures.PixelSpacing = [0.7, 0.7]
    shared = Dataset()
    shared.PixelMeasuresSequence = Sequence([measures])
    img = read_image(geometry_dicom(tmp_path / "mf.dcm", rows=16, cols=16, frames=2,
                                    SharedFunctionalGroupsSequence=Sequence([shared])))
    assert tuple(img.spacing) == (0.7, 0.7, "PixelSpacing")


def test_a_100_pixel_ruler_at_half_a_millimetre_reads_50_mm(tmp_path):
    img = read_image(geometry_dicom(tmp_path / "ps.dcm", PixelSpacing=[0.5, 0.5]))
    reading = distance(img.spacing, (10, 20), (110, 20))
    assert reading.value == pytest.approx(50.0)
    assert reading.text() == "50.0 mm"
    assert measure(img, 0, "line", [[10, 20], [110, 20]])["text"] == "50.0 mm"


def test_anisotropic_spacing_on_a_diagonal(tmp_path):
    img = read_image(geometry_dicom(tmp_path / "aniso.dcm", PixelSpacing=[0.5, 0.25]))
    # 80 columns right (x 0.25 mm) and 60 rows down (x 0.5 mm): 20 mm and 30 mm
    reading = distance(img.spacing, (0, 0), (80, 60))
    assert reading.value == pytest.approx(math.hypot(20.0, 30.0))
    assert reading.unit == "mm" and reading.note == ""
    # a vertical 40-px line is 20 mm, a horizontal one 10 mm: the order of PixelSpacing matters
    assert distance(img.spacing, (5, 0), (5, 40)).value == pytest.approx(20.0)
    assert distance(img.spacing, (0, 5), (40, 5)).value == pytest.approx(10.0)


def test_imager_pixel_spacing_says_at_the_detector(tmp_path):
    img = read_image(geometry_dicom(tmp_path / "ips.dcm", modality="DX", sop_class=DX,
                                    ImagerPixelSpacing=[0.2, 0.2]))
    reading = distance(img.spacing, (0, 0), (100, 0))
    assert reading.value == pytest.approx(20.0)
    assert reading.text() == "20.0 mm at the detector"


def test_no_spacing_is_pixels_uncalibrated(tmp_path):
    img = read_image(geometry_dicom(tmp_path / "none.dcm"))
    reading = distance(img.spacing, (0, 0), (30, 40))
    assert (reading.value, reading.unit) == (pytest.approx(50.0), "px")
    assert reading.text() == "50.0 px uncalibrated"


def test_angles_on_planted_points(tmp_path):
    sp = (0.5, 0.5, "PixelSpacing")
    assert angle(sp, (100, 50), (50, 50), (50, 0)).value == pytest.approx(90.0)
    assert angle(sp, (100, 50), (50, 50), (100, 0)).value == pytest.approx(45.0)
    assert angle(sp, (100, 50), (50, 50), (0, 50)).value == pytest.approx(180.0)
    assert angle(sp, (100, 50), (50, 50), (100, 0)).text() == "45.0°"
    # anisotropic pixels: 40 columns of 0.25 mm and 20 rows of 0.5 mm are 10 mm both: 45 degrees
    aniso = (0.5, 0.25, "PixelSpacing")
    assert angle(aniso, (40, 0), (0, 0), (40, 20)).value == pytest.approx(45.0)
    # the same points on square pixels make atan(20/40)
    assert angle(None, (40, 0), (0, 0), (40, 20)).value == pytest.approx(math.degrees(math.atan(0.5)))


def _ellipse_reference(shape, rect):
    """The mask as this module defines it, written out from its definition: pixel (i, j) is in
    when its centre (j + .5, i + .5) satisfies the ellipse inequality (boundary included)."""
    x, y, w, h = rect
    ii, jj = np.mgrid[0:shape[0], 0:shape[1]]
    return (((jj + 0.5) - (x + w / 2)) / (w / 2)) ** 2 + (((ii + 0.5) - (y + h / 2)) / (h / 2)) ** 2 <= 1.0


def test_ct_roi_statistics_equal_numpy_on_hounsfield_values(tmp_path):
    rng = np.random.default_rng(3)
    stored = rng.integers(0, 2000, (120, 140)).astype(np.int16)
    img = read_image(geometry_dicom(tmp_path / "ct.dcm", rows=120, cols=140, pixels=stored,
                                    RescaleSlope=2, RescaleIntercept=-1024, PixelSpacing=[0.5, 0.5]))
    hu = stored.astype(np.float64) * 2 - 1024  # PS3.3 C.11.1.1.2: value = slope * stored + intercept
    rect = (30.3, 20.7, 61.0, 41.5)
    ref = hu[_ellipse_reference(hu.shape, rect)]
    s = roi_stats(img, 0, "ellipse", rect)
    assert s.n == ref.size > 1500
    assert s.mean == pytest.approx(ref.mean())
    assert s.sd == pytest.approx(ref.std())
    assert (s.min, s.max) == (ref.min(), ref.max())
    assert s.value_unit == "HU"
    assert s.area == pytest.approx(math.pi * 61.0 * 41.5 / 4 * 0.25)
    assert s.area_unit == "mm²" and s.note == ""
    box = roi_stats(img, 0, "box", (10, 10, 20, 30))
    ref_box = hu[10:40, 10:30]
    assert box.n == ref_box.size
    assert box.mean == pytest.approx(ref_box.mean()) and box.sd == pytest.approx(ref_box.std())
    assert box.area == pytest.approx(20 * 30 * 0.25)


def test_roi_uncalibrated_area_in_square_pixels(tmp_path):
    img = read_image(geometry_dicom(tmp_path / "raw.dcm", modality="MR"))
    s = roi_stats(img, 0, "box", (0, 0, 10, 10))
    assert (s.area, s.area_unit, s.note, s.value_unit) == (100.0, "px²", "uncalibrated", "")
    assert "px² uncalibrated" in measure(img, 0, "box", [[0, 0], [10, 10]])["text"]


def test_roi_mask_outside_the_image_is_empty():
    mask, _ = roi_mask("ellipse", (-50, -50, 10, 10), (20, 20))
    assert mask.size == 0
    mask, (r0, c0) = roi_mask("box", (15, 15, 10, 10), (20, 20))  # clipped at the edge
    assert mask.shape == (5, 5) and (r0, c0) == (15, 15) and mask.all()


def test_probe_gives_hounsfield_units_and_position(tmp_path):
    stored = np.full((10, 12), 500, np.int16)
    stored[3, 7] = 1524
    img = read_image(geometry_dicom(tmp_path / "ct.dcm", rows=10, cols=12, pixels=stored,
                                    RescaleSlope=1, RescaleIntercept=-1024))
    reading = probe(img, 0, 7.9, 3.2, shown=np.full((10, 12), 77, np.uint8))
    assert (reading.x, reading.y, reading.value, reading.unit) == (7, 3, (500.0,), "HU")
    assert reading.text() == "x 7  y 3   500 HU   shown 77"
    assert probe(img, 0, 12.0, 3.0) is None  # past the last column
    raw = read_image(geometry_dicom(tmp_path / "mr.dcm", modality="MR", rows=10, cols=12, pixels=stored))
    assert probe(raw, 0, 7, 3).text() == "x 7  y 3   value 1524"
