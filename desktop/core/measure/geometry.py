"""Distances, angles and region statistics in physical units (see the package docstring)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from desktop.core.imaging.spacing import UNCALIBRATED, Spacing

KINDS = ("line", "angle", "ellipse", "box")  # what the store keeps; "line" is the ruler


@dataclass(frozen=True)
class Reading:
    """One number with its unit and what must be said beside it ("at the detector", "uncalibrated")."""

    value: float
    unit: str
    note: str = ""

    def text(self, digits: int = 1) -> str:
        unit = "°" if self.unit == "deg" else f" {self.unit}"
        return f"{self.value:.{digits}f}{unit}" + (f" {self.note}" if self.note else "")


def _spacing(spacing) -> Spacing:
    return UNCALIBRATED if spacing is None else Spacing(*spacing)


def distance(spacing, p0, p1) -> Reading:
    """Length of the segment p0-p1 (pixel coordinates): mm through the spacing (column spacing
    along x, row spacing along y), else pixels with "uncalibrated"."""
    sp = _spacing(spacing)
    sx, sy = sp.scale()
    dx, dy = (float(p1[0]) - float(p0[0])) * sx, (float(p1[1]) - float(p0[1])) * sy
    return Reading(math.hypot(dx, dy), sp.unit, sp.note)


def angle(spacing, a, vertex, b) -> Reading:
    """The angle a-vertex-b in degrees (0-180), measured in the patient's geometry: with
    anisotropic pixels the arms are scaled by the spacing before the angle is taken. Without a
    spacing the pixels are taken as square ("uncalibrated")."""
    sp = _spacing(spacing)
    sx, sy = sp.scale()
    u = ((float(a[0]) - float(vertex[0])) * sx, (float(a[1]) - float(vertex[1])) * sy)
    v = ((float(b[0]) - float(vertex[0])) * sx, (float(b[1]) - float(vertex[1])) * sy)
    nu, nv = math.hypot(*u), math.hypot(*v)
    if nu == 0 or nv == 0:
        return Reading(0.0, "deg", "" if sp.calibrated else "uncalibrated")
    # atan2 of cross and dot: exact near 0 and 180 degrees, where acos loses digits
    deg = math.degrees(math.atan2(abs(u[0] * v[1] - u[1] * v[0]), u[0] * v[0] + u[1] * v[1]))
    return Reading(deg, "deg", "" if sp.calibrated else "uncalibrated")


def roi_mask(kind: str, rect, shape) -> tuple[np.ndarray, tuple[int, int]]:
    """(mask, (row0, col0)): the pixels of an image of `shape` (rows, cols) whose CENTRE lies inside
    the box `rect` = (x, y, w, h) or inside the ellipse inscribed in it (boundary included), as a
    boolean array over the rows/columns the shape touches, and where that array starts."""
    if kind not in ("ellipse", "box"):
        raise ValueError(f"a region is an 'ellipse' or a 'box', not {kind!r}")
    x, y, w, h = (float(v) for v in rect)
    rows, cols = int(shape[0]), int(shape[1])
    c0, c1 = max(int(math.floor(x)), 0), min(int(math.ceil(x + w)), cols)
    r0, r1 = max(int(math.floor(y)), 0), min(int(math.ceil(y + h)), rows)
    if c1 <= c0 or r1 <= r0 or w <= 0 or h <= 0:
        return np.zeros((0, 0), bool), (r0, c0)
    yc = np.arange(r0, r1, dtype=np.float64)[:, None] + 0.5
    xc = np.arange(c0, c1, dtype=np.float64)[None, :] + 0.5
    if kind == "box":
        mask = (xc >= x) & (xc <= x + w) & (yc >= y) & (yc <= y + h)
    else:
        a, b = w / 2.0, h / 2.0
        mask = ((xc - (x + a)) / a) ** 2 + ((yc - (y + b)) / b) ** 2 <= 1.0
    return mask, (r0, c0)


@dataclass(frozen=True)
class RoiStats:
    """Statistics of a region over modality values (SD: the population's, ddof = 0, as OHIF and
    most PACS viewers report it) and its geometric area (pi*a*b for an ellipse, w*h for a box)."""

    mean: float
    sd: float
    min: float
    max: float
    n: int
    area: float
    area_unit: str  # "mm²" or "px²"
    note: str  # "", "at the detector" or "uncalibrated"
    value_unit: str  # "HU", "" (raw values) ...

    def as_dict(self) -> dict:
        return asdict(self)


def roi_stats(image, frame: int, kind: str, rect, value_unit: str | None = None) -> RoiStats:
    """Mean, SD, min, max over the modality values of the pixels of the region (roi_mask) of
    frame `frame` of a LoupeImage; colour images use the mean of R, G and B."""
    raw = image.raw(frame)
    mask, (r0, c0) = roi_mask(kind, rect, raw.shape[:2])
    sp = _spacing(image.spacing)
    sx, sy = sp.scale()
    x, y, w, h = (float(v) for v in rect)
    area = (math.pi * w * h / 4.0 if kind == "ellipse" else w * h) * sx * sy
    unit = value_unit if value_unit is not None else _unit_of(image)
    n = int(mask.sum())
    if n == 0:
        nan = float("nan")
        return RoiStats(nan, nan, nan, nan, 0, area, f"{sp.unit}²", sp.note, unit)
    crop = raw[r0:r0 + mask.shape[0], c0:c0 + mask.shape[1]]
    if crop.ndim == 3:
        values = crop.astype(np.float64).mean(axis=2)[mask]
    else:
        values = np.asarray(image.modality_values(crop[mask]), dtype=np.float64)  # only these pixels
    return RoiStats(float(values.mean()), float(values.std()), float(values.min()), float(values.max()), n,
                    area, f"{sp.unit}²", sp.note, unit)


def _unit_of(image) -> str:
    from desktop.core.measure.probe import modality_unit

    return modality_unit(image)


def measure(image, frame: int, kind: str, points) -> dict:
    """The stored result of a measurement of `kind` with `points` [[x, y], ...] on a LoupeImage:
    a plain dict (JSON) with the reading, its unit and note, and the spacing it came from."""
    sp = _spacing(image.spacing)
    base = {"spacing": [sp.row_mm, sp.col_mm], "spacing_source": sp.source}
    if kind == "line":
        if len(points) != 2:
            raise ValueError("a ruler has two points")
        r = distance(sp, *points)
        return {**base, "value": r.value, "unit": r.unit, "note": r.note, "text": r.text()}
    if kind == "angle":
        if len(points) != 3:
            raise ValueError("an angle has three points (arm, vertex, arm)")
        r = angle(sp, *points)
        return {**base, "value": r.value, "unit": "deg", "note": r.note, "text": r.text()}
    if kind in ("ellipse", "box"):
        if len(points) != 2:
            raise ValueError("a region has two corner points")
        (x0, y0), (x1, y1) = points
        rect = (min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
        s = roi_stats(image, frame, kind, rect)
        return {**base, **s.as_dict(), "text": roi_text(s)}
    raise ValueError(f"unknown measurement kind {kind!r}; one of {', '.join(KINDS)}")


def _num(v: float) -> str:
    if not math.isfinite(v):
        return "–"
    return f"{v:.0f}" if abs(v) >= 1000 or float(v).is_integer() else f"{v:.1f}"


def roi_text(s: RoiStats) -> str:
    """Two lines: mean ± SD, then min/max, then the area (as a viewer labels a region)."""
    unit = f" {s.value_unit}" if s.value_unit else ""
    if s.n == 0:
        return f"no pixel inside\narea {s.area:.1f} {s.area_unit}" + (f" {s.note}" if s.note else "")
    area = f"{s.area:.1f} {s.area_unit}" + (f" {s.note}" if s.note else "")
    return (f"mean {s.mean:.1f}{unit}  SD {s.sd:.1f}\nmin {_num(s.min)}  max {_num(s.max)}{unit}\n"
            f"area {area}  ({s.n} px)")
