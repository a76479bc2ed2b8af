"""The physical size of a pixel, as DICOM defines it (decision 0135).

PS3.3 C.7.6.2.1.1 (Image Plane) and 10.7.1.3: Pixel Spacing (0028,0030) is "physical distance in the
patient between the centre of each pixel", given as TWO values, **row spacing first** (the distance
between adjacent rows, i.e. the vertical size of a pixel), **then column spacing** (between adjacent
columns, the horizontal size). Imager Pixel Spacing (0018,1164; C.8.11.7, DX/CR/MG/XA) is the same
pair measured **at the front plane of the detector**: an object in the patient is magnified by the
beam's divergence, so a length from it is the length at the detector, not in the patient.

Loupe uses Pixel Spacing when the file has it (in projection radiographs the modality puts it there
once it has calibrated or corrected the spacing), else Imager Pixel Spacing (measurements then carry
"at the detector", as OHIF/cornerstone3D and ClearCanvas do), else nothing ("uncalibrated", pixels).
Enhanced multi-frame objects keep Pixel Spacing in the Pixel Measures functional group.
"""

from __future__ import annotations

import math
from typing import NamedTuple

PIXEL_SPACING = "PixelSpacing"
IMAGER_PIXEL_SPACING = "ImagerPixelSpacing"


class Spacing(NamedTuple):
    """(row_mm, col_mm, source): row_mm is the vertical pixel size (between rows), col_mm the
    horizontal one; source is "PixelSpacing", "ImagerPixelSpacing" or None (no mm: pixels)."""

    row_mm: float | None
    col_mm: float | None
    source: str | None

    @property
    def calibrated(self) -> bool:
        return self.source is not None

    @property
    def note(self) -> str:
        """What a measurement in these units needs said beside it ("" for Pixel Spacing)."""
        if self.source == IMAGER_PIXEL_SPACING:
            return "at the detector"
        return "" if self.source else "uncalibrated"

    @property
    def unit(self) -> str:
        return "mm" if self.source else "px"

    def scale(self) -> tuple[float, float]:
        """(mm per pixel along x = columns, along y = rows); (1, 1) when uncalibrated."""
        if self.source is None:
            return 1.0, 1.0
        return float(self.col_mm), float(self.row_mm)


UNCALIBRATED = Spacing(None, None, None)


def _pair(value) -> tuple[float, float] | None:
    """Two positive finite numbers from a DS value with VM 2, else None (a damaged value is no spacing)."""
    if value is None:
        return None
    try:
        values = [float(v) for v in value] if not isinstance(value, (str, bytes, int, float)) else [float(value)]
    except (TypeError, ValueError):
        return None
    if len(values) == 1:  # VM 1 where 2 is required: seen in old files; the same both ways
        values = values * 2
    if len(values) != 2 or not all(math.isfinite(v) and v > 0 for v in values):
        return None
    return values[0], values[1]


def _functional_group_spacing(ds, frame: int):
    """Pixel Spacing from the per-frame, then the shared Pixel Measures functional group."""
    for keyword, index in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
        groups = ds.get(keyword)
        try:
            item = groups[index] if groups is not None and len(groups) > index else None
            measures = item.get("PixelMeasuresSequence") if item is not None else None
            value = measures[0].get("PixelSpacing") if measures else None
        except (AttributeError, IndexError, TypeError):
            value = None
        pair = _pair(value)
        if pair:
            return pair
    return None


def pixel_spacing(ds, frame: int = 0) -> Spacing:
    """The spacing of a pydicom Dataset (None: a non-DICOM image) as (row_mm, col_mm, source)."""
    if ds is None:
        return UNCALIBRATED
    pair = _pair(ds.get("PixelSpacing")) or _functional_group_spacing(ds, frame)
    if pair:
        return Spacing(pair[0], pair[1], PIXEL_SPACING)
    pair = _pair(ds.get("ImagerPixelSpacing"))
    if pair:
        return Spacing(pair[0], pair[1], IMAGER_PIXEL_SPACING)
    return UNCALIBRATED
