"""Orientation letters at the four edges of an image (decision 0136).

DICOM's patient coordinate system (PS3.3 C.7.6.2.1.1) is LPS: +x towards the patient's Left, +y
Posterior, +z Head. Image Orientation (Patient) (0020,0037) gives the direction cosines of the first
row (left to right on screen) and of the first column (top to bottom). The letter at the right edge
names where the row direction points; the left edge gets its opposite, the bottom edge the column
direction, the top its opposite. An oblique direction gets two or three letters, the strongest
component first ("LP"), as the classic DICOM viewers write them (after D. Clunie's algorithm); a
component counts when it is at least OBLIQUE_MIN (about 8 degrees off the axis), so an image tilted
by rounding alone does not sprout letters.

Patient Orientation (0020,0020), the two letter strings of projection radiographs ("P\\F" for a PA
chest), is used when there is no Image Orientation (Patient).
"""

from __future__ import annotations

import math

_POSITIVE = ("L", "P", "H")
_NEGATIVE = ("R", "A", "F")
_OPPOSITE = {"L": "R", "R": "L", "A": "P", "P": "A", "H": "F", "F": "H"}
OBLIQUE_MIN = 0.15  # |cosine| a secondary axis needs (sin 8.6 degrees) to be written


def direction_letters(vector) -> str:
    """Letters of a direction in LPS, the strongest axis first ("L", "LP", "LPH")."""
    v = [float(c) for c in vector]
    norm = math.sqrt(sum(c * c for c in v))
    if norm == 0 or not math.isfinite(norm):
        return ""
    v = [c / norm for c in v]
    order = sorted(range(3), key=lambda i: -abs(v[i]))
    out = ""
    for rank, axis in enumerate(order):
        component = v[axis]
        if rank > 0 and abs(component) < OBLIQUE_MIN:
            break
        out += _POSITIVE[axis] if component > 0 else _NEGATIVE[axis]
    return out


def opposite(letters: str) -> str:
    return "".join(_OPPOSITE.get(ch, ch) for ch in letters)


def _orientation_values(ds, frame: int):
    iop = ds.get("ImageOrientationPatient")
    if iop is None:  # enhanced multi-frame: Plane Orientation functional group
        for keyword, index in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
            try:
                groups = ds.get(keyword)
                item = groups[index] if groups is not None and len(groups) > index else None
                seq = item.get("PlaneOrientationSequence") if item is not None else None
                iop = seq[0].get("ImageOrientationPatient") if seq else None
            except (AttributeError, IndexError, TypeError):
                iop = None
            if iop is not None:
                break
    try:
        values = [float(v) for v in iop] if iop is not None else None
    except (TypeError, ValueError):
        return None
    if values is None or len(values) != 6 or not all(math.isfinite(v) for v in values):
        return None
    return values


def edge_letters(ds, frame: int = 0) -> dict[str, str] | None:
    """{"left", "right", "top", "bottom"} letters of a pydicom Dataset, None when it says nothing."""
    if ds is None:
        return None
    values = _orientation_values(ds, frame)
    if values is not None:
        right, bottom = direction_letters(values[:3]), direction_letters(values[3:])
        if right and bottom:
            return {"right": right, "left": opposite(right), "bottom": bottom, "top": opposite(bottom)}
    po = ds.get("PatientOrientation")
    if po is not None and not isinstance(po, str) and len(po) == 2:
        right, bottom = (str(v).strip().upper() for v in po)
        if right and bottom and all(ch in _OPPOSITE for ch in right + bottom):
            return {"right": right, "left": opposite(right), "bottom": bottom, "top": opposite(bottom)}
    return None


def _per_frame_position(ds, frame: int):
    try:
        groups = ds.get("PerFrameFunctionalGroupsSequence")
        item = groups[frame] if groups is not None and len(groups) > frame else None
        seq = item.get("PlanePositionSequence") if item is not None else None
        return seq[0].get("ImagePositionPatient") if seq else None
    except (AttributeError, IndexError, TypeError):
        return None


def slice_position(ds, frame: int = 0) -> float | None:
    """The slice position in mm: an enhanced file's per-frame position, else Slice Location, else
    Image Position (Patient) along the image normal (row x column cosines), as viewers show it."""
    if ds is None:
        return None
    ipp = _per_frame_position(ds, frame)
    if ipp is None and "SliceLocation" in ds:
        try:
            value = float(ds.SliceLocation)
            if math.isfinite(value):
                return value
        except (TypeError, ValueError):
            pass
    if ipp is None:
        ipp = ds.get("ImagePositionPatient")
    values = _orientation_values(ds, frame)
    try:
        position = [float(v) for v in ipp] if ipp is not None else None
    except (TypeError, ValueError):
        return None
    if position is None or len(position) != 3 or values is None:
        return None
    r, c = values[:3], values[3:]
    normal = (r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0])
    value = sum(p * n for p, n in zip(position, normal))
    return value if math.isfinite(value) else None
