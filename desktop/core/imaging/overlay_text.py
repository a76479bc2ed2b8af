"""The text a radiology viewer writes in the corners of the image (no Qt; the viewer draws it).

No patient data unless `revealed` (the inspector's Reveal patient data, decision 0117): the
identifying attributes (desktop.core.phi) appear in the top-right corner only then.
"""

from __future__ import annotations

import math

from desktop.core.imaging.orientation import slice_position
from desktop.core.imaging.spacing import IMAGER_PIXEL_SPACING

# shown only when the user revealed patient data
_PATIENT_LINES = (("PatientName", ""), ("PatientID", "ID "), ("PatientBirthDate", "born "),
                  ("StudyDate", "study "), ("InstitutionName", ""))


def _text(ds, keyword: str) -> str:
    value = ds.get(keyword) if ds is not None else None
    return "" if value is None else str(value).strip()


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def corner_text(image, *, frame: int = 0, window=None, zoom: float | None = None,
                revealed: bool = False, cine_fps: float | None = None) -> dict[str, list[str]]:
    """{"top_left", "top_right", "bottom_left", "bottom_right"}: lines of text for a LoupeImage."""
    ds = getattr(image, "dataset", None)
    meta = getattr(image, "meta", {}) or {}
    top_left, top_right, bottom_left, bottom_right = [], [], [], []
    modality = _text(ds, "Modality") or meta.get("Format", "")
    head = " ".join(v for v in (modality, _text(ds, "BodyPartExamined"), _text(ds, "ViewPosition")) if v)
    if head:
        top_left.append(head)
    series = _text(ds, "SeriesNumber")
    instance = _text(ds, "InstanceNumber")
    if series or instance:
        top_left.append(" ".join(v for v in (f"Se {series}" if series else "", f"Im {instance}" if instance else "")
                                 if v))
    w, h = image.size
    top_left.append(f"{w} x {h}" + (" RGB" if image.is_color else ""))
    if revealed and ds is not None:
        for keyword, prefix in _PATIENT_LINES:
            value = _text(ds, keyword)
            if value:
                top_right.append(prefix + value)
    if window is not None and not image.is_color:
        bottom_left.append(f"W {_number(window.width)}  L {_number(window.center)}")
    elif window is None and getattr(image, "voi_lut", None) is not None and not image.is_color:
        bottom_left.append("VOI LUT (file)")
    if zoom is not None and math.isfinite(zoom):
        bottom_left.append(f"Zoom {zoom * 100:.0f}%")
    if image.n_frames > 1:
        line = f"Frame {frame + 1} / {image.n_frames}"
        if cine_fps:
            line += f"  {cine_fps:g} fps"
        bottom_right.append(line)
    position = slice_position(ds, frame)
    if position is not None:
        bottom_right.append(f"Slice {position:.2f} mm")
    thickness = _text(ds, "SliceThickness")
    try:
        if thickness and float(thickness) > 0:
            bottom_right.append(f"Thick {float(thickness):g} mm")
    except ValueError:
        pass
    sp = image.spacing
    if sp.source:
        where = " at detector" if sp.source == IMAGER_PIXEL_SPACING else ""
        bottom_right.append(f"Pixel {sp.row_mm:.4g} x {sp.col_mm:.4g} mm{where}")
    else:
        bottom_right.append("Uncalibrated (px)")
    return {"top_left": top_left, "top_right": top_right, "bottom_left": bottom_left,
            "bottom_right": bottom_right}
