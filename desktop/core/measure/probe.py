"""The pixel probe: the value under the cursor in the modality's units."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def modality_unit(image) -> str:
    """The unit of an image's modality values: Rescale Type when the file gives one (except "US",
    DICOM's "unspecified"), "HU" for CT (PS3.3 C.8.2.1: CT values after rescale are Hounsfield
    units), a PET's Units, "" otherwise (raw stored values or the samples of a PNG)."""
    ds = getattr(image, "dataset", None)
    if ds is None or image.is_color:
        return ""
    rescale_type = str(ds.get("RescaleType", "") or "").strip()
    if rescale_type and rescale_type.upper() != "US":
        return rescale_type
    modality = str(ds.get("Modality", "") or "").strip().upper()
    if modality == "CT":
        return "HU"
    if modality == "PT":
        return str(ds.get("Units", "") or "").strip()
    return ""


@dataclass(frozen=True)
class ProbeReading:
    x: int  # column
    y: int  # row
    value: tuple[float, ...]  # one modality value (grey) or R, G, B
    unit: str
    shown: tuple[int, ...] | None  # the 8-bit value(s) on screen, when given

    def text(self) -> str:
        if len(self.value) == 1:
            v = self.value[0]
            number = f"{v:.0f}" if float(v).is_integer() else (f"{v:.4g}" if abs(v) < 1 else f"{v:.1f}")
            value = f"{number} {self.unit}".rstrip() if self.unit else f"value {number}"
        else:
            value = "RGB " + ",".join(f"{v:.0f}" for v in self.value)
        out = f"x {self.x}  y {self.y}   {value}"
        if self.shown is not None:
            out += "   shown " + ",".join(str(v) for v in self.shown)
        return out


def probe(image, frame: int, x: float, y: float, shown=None) -> ProbeReading | None:
    """The modality value of the pixel that contains (x, y) (pixel coordinates), None outside the
    image. Only that one pixel goes through the modality transform, so a mouse move costs nothing
    however large the image. `shown` is the displayed 8-bit buffer, when the caller has it."""
    raw = image.raw(frame)
    col, row = int(math.floor(x)), int(math.floor(y))
    if not (0 <= row < raw.shape[0] and 0 <= col < raw.shape[1]):
        return None
    if raw.ndim == 3:
        value = tuple(float(v) for v in raw[row, col][:3])
    else:
        value = (float(np.asarray(image.modality_values(raw[row:row + 1, col:col + 1])).ravel()[0]),)
    on_screen = None
    if shown is not None and row < shown.shape[0] and col < shown.shape[1]:
        px = shown[row, col]
        on_screen = tuple(int(v) for v in np.atleast_1d(px))
    return ProbeReading(col, row, value, modality_unit(image), on_screen)
