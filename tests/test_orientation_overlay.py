"""Orientation letters from direction cosines, the corner text, and the cine rate of a file."""

from __future__ import annotations

import math

import pytest
from pydicom.dataset import Dataset

from desktop.core.imaging import read_image
from desktop.core.imaging.cine import frame_rate
from desktop.core.imaging.orientation import direction_letters, edge_letters, slice_position
from desktop.core.imaging.overlay_text import corner_text
from desktop.core.imaging.window import Window
from tests.measure_helpers import geometry_dicom


def _ds(**attrs) -> Dataset:
    ds = Dataset()
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def test_axial_coronal_sagittal_letters():
    # axial: rows run to the patient's left, columns to posterior (LPS)
    assert edge_letters(_ds(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])) == {
        "right": "L", "left": "R", "bottom": "P", "top": "A"}
    # coronal: rows to the left, columns to the feet
    assert edge_letters(_ds(ImageOrientationPatient=[1, 0, 0, 0, 0, -1])) == {
        "right": "L", "left": "R", "bottom": "F", "top": "H"}
    # sagittal: rows to posterior, columns to the feet
    assert edge_letters(_ds(ImageOrientationPatient=[0, 1, 0, 0, 0, -1])) == {
        "right": "P", "left": "A", "bottom": "F", "top": "H"}


def test_oblique_letters_strongest_axis_first():
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    letters = edge_letters(_ds(ImageOrientationPatient=[c, s, 0, -s, c, 0]))
    assert letters == {"right": "LP", "left": "RA", "bottom": "PR", "top": "AL"}
    assert direction_letters([0.6, -0.48, 0.64]) == "HLA"
    # a rounding-size tilt (0.5 degrees) stays one letter
    t = math.sin(math.radians(0.5))
    assert direction_letters([math.cos(math.radians(0.5)), t, 0]) == "L"


def test_patient_orientation_when_no_direction_cosines():
    assert edge_letters(_ds(PatientOrientation=["P", "F"])) == {
        "right": "P", "left": "A", "bottom": "F", "top": "H"}
    assert edge_letters(_ds(PatientOrientation=["L", "FP"])) == {
        "right": "L", "left": "R", "bottom": "FP", "top": "HA"}
    assert edge_letters(_ds()) is None
    assert edge_letters(_ds(ImageOrientationPatient=[0, 0, 0, 0, 0, 0])) is None


def test_slice_position_from_location_or_position():
    assert slice_position(_ds(SliceLocation=-12.5, ImagePositionPatient=[0, 0, 3],
                              ImageOrientationPatient=[1, 0, 0, 0, 1, 0])) == pytest.approx(-12.5)
    assert slice_position(_ds(ImagePositionPatient=[10, 20, 30],
                              ImageOrientationPatient=[1, 0, 0, 0, 1, 0])) == pytest.approx(30.0)
    assert slice_position(_ds()) is None


def test_frame_rate_sources():
    assert frame_rate(_ds(RecommendedDisplayFrameRate=25, CineRate=30)) == (25.0, "RecommendedDisplayFrameRate")
    assert frame_rate(_ds(CineRate=30)) == (30.0, "CineRate")
    assert frame_rate(_ds(FrameTime=40.0)) == (25.0, "FrameTime")
    assert frame_rate(_ds(FrameTimeVector=[0, 50, 50, 50])) == (20.0, "FrameTimeVector")
    assert frame_rate(_ds(FrameTime=0)) is None
    assert frame_rate(_ds()) is None


def test_corner_text_hides_patient_data_until_revealed(tmp_path):
    path = geometry_dicom(tmp_path / "ct.dcm", rows=32, cols=32, frames=3, PixelSpacing=[0.5, 0.5],
                          ImageOrientationPatient=[1, 0, 0, 0, 1, 0], ImagePositionPatient=[0, 0, 42],
                          SliceThickness=2.5, StudyDate="20240102", InstitutionName="General Hospital")
    img = read_image(path)
    text = corner_text(img, frame=1, window=Window(40, 400), zoom=1.5)
    flat = "\n".join(line for lines in text.values() for line in lines)
    for phi in ("Test^Patient", "T-1", "20240102", "General Hospital"):
        assert phi not in flat
    assert text["top_left"][0] == "CT"
    assert "W 400  L 40" in text["bottom_left"] and "Zoom 150%" in text["bottom_left"]
    assert "Frame 2 / 3" in text["bottom_right"] and "Slice 42.00 mm" in text["bottom_right"]
    assert "Pixel 0.5 x 0.5 mm" in text["bottom_right"]
    shown = corner_text(img, frame=1, window=Window(40, 400), zoom=1.5, revealed=True)
    assert "Test^Patient" in shown["top_right"] and "ID T-1" in shown["top_right"]
