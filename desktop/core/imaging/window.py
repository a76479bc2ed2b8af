"""Window/level: the DICOM linear VOI function (PS3.3 C.11.2.1.2) turned into 8-bit screen values.

The transfer function from stored pixel values to screen values is built once per window as a
lookup table over the stored-value domain (256 entries for 8-bit, 65536 for 16-bit data), so a new
window costs a table of at most 65536 entries plus one gather. When the whole chain is linear
(rescale slope/intercept then a window, the common case for 16-bit data) the same ramp is evaluated
with OpenCV's saturating arithmetic, which is several times faster than numpy's gather; both give
the same values (see docs/decisions/0011-window-level-lut.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class Window(NamedTuple):
    """A window: centre and width in modality units (e.g. Hounsfield), and a name for menus."""

    center: float
    width: float
    name: str = ""


# Common CT windows (centre, width) in Hounsfield units.
CT_PRESETS = (
    Window(-600.0, 1500.0, "Lung"),
    Window(40.0, 400.0, "Mediastinum"),
    Window(400.0, 1800.0, "Bone"),
    Window(40.0, 80.0, "Brain"),
)


def as_window(window) -> Window:
    if isinstance(window, Window):
        return window
    center, width, *rest = window
    return Window(float(center), float(width), str(rest[0]) if rest else "")


def full_range_window(lo: float, hi: float, integer: bool = True) -> Window:
    """The window whose ramp runs from `lo` to `hi` exactly (DICOM's linear function)."""
    if integer:
        width = max(hi - lo + 1.0, 1.0)
        return Window(lo + 0.5 + (width - 1.0) / 2.0, width, "Full range")
    width = max(hi - lo, 1e-6)
    # for continuous data place the ramp from lo to hi: centre-0.5-(w-1)/2 = lo
    width += 1.0
    return Window(lo + 0.5 + (width - 1.0) / 2.0, width, "Full range")


def ramp(values: np.ndarray, window: Window) -> np.ndarray:
    """DICOM linear window of `values` (any numeric array) to float screen values in [0, 255]."""
    c, w = float(window.center), max(float(window.width), 1.0)
    if w <= 1.0:
        return np.where(values < c - 0.5, 0.0, 255.0)  # PS3.3: width 1 is a threshold
    lo = c - 0.5 - (w - 1.0) / 2.0
    y = (np.asarray(values, dtype=np.float64) - lo) * (255.0 / (w - 1.0))
    return np.clip(y, 0.0, 255.0)


def lut_domain(dtype: np.dtype, lo: int, hi: int) -> tuple[np.ndarray, int]:
    """Stored values a table must cover and the offset of value `lo` in it.

    uint8/uint16 data index the table directly; int16 data index it through a uint16 view
    (so no subtraction is needed); other integers use `value - lo` as the index.
    """
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return np.arange(256, dtype=np.int64), 0
    if dtype == np.uint16:
        return np.arange(65536, dtype=np.int64), 0
    if dtype == np.int16:
        return np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int64), 0
    return np.arange(lo, hi + 1, dtype=np.int64), lo


def apply_table(raw: np.ndarray, table: np.ndarray, offset: int, out: np.ndarray | None = None) -> np.ndarray:
    """Look each stored value up in `table` (uint8); the gather that makes W/L interactive.
    `out` (uint8, raw's shape) receives the result without a new allocation."""
    if raw.dtype == np.uint8:
        import cv2

        return cv2.LUT(raw, table) if out is None else cv2.LUT(raw, table, dst=out)
    if raw.dtype == np.uint16:
        index = raw
    elif raw.dtype == np.int16:
        index = raw.view(np.uint16)
    else:
        index = raw.astype(np.int64) - offset
    return np.take(table, index, out=out)


def linear_ramp_u8(raw: np.ndarray, slope: float, intercept: float, window: Window,
                   out: np.ndarray | None = None) -> np.ndarray | None:
    """Evaluate ramp(raw*slope+intercept) with OpenCV for integer data; None when not exact enough.

    The error of this path is below one grey level only when one stored-value step changes the
    output by less than one level (wide windows); narrower windows use the table instead.
    """
    import cv2

    w = float(window.width)
    if slope <= 0 or w <= 1.0 or raw.dtype not in (np.uint16, np.int16):
        return None
    alpha = 255.0 * slope / (w - 1.0)
    if alpha >= 1.0:
        return None
    lo_modality = window.center - 0.5 - (w - 1.0) / 2.0
    lo_raw = (lo_modality - intercept) / slope  # ramp starts here in stored values
    start = math.ceil(lo_raw)
    info = np.iinfo(raw.dtype)
    if start <= info.min:  # the whole stored range lies on or above the ramp's start
        return cv2.convertScaleAbs(raw, dst=out, alpha=alpha, beta=-alpha * lo_raw)
    if start > info.max:
        if out is None:
            return np.zeros(raw.shape, np.uint8)
        out.fill(0)
        return out
    if raw.dtype == np.uint16:
        shifted = cv2.subtract(raw, np.array([float(start)]))  # saturates at 0
    else:
        shifted = cv2.subtract(cv2.max(raw, np.array([float(start)])), np.array([float(start)]))
    # y = alpha * (raw - lo_raw) = alpha * shifted + alpha * (start - lo_raw) for raw >= start
    return cv2.convertScaleAbs(shifted, dst=out, alpha=alpha, beta=alpha * (start - lo_raw))


def window_table(domain: np.ndarray, modality: Callable[[np.ndarray], np.ndarray], window: Window) -> np.ndarray:
    """uint8 table: stored value -> screen value through the modality transform and the window."""
    return np.rint(ramp(modality(domain), window)).astype(np.uint8)
