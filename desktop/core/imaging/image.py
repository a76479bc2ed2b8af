"""`LoupeImage`: decoded pixels of one file, its facts, and its rendering for the screen."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .window import (
    Window,
    apply_table,
    as_window,
    full_range_window,
    linear_ramp_u8,
    lut_domain,
    window_table,
)


@dataclass
class LoupeImage:
    """One image file, decoded.

    `raw_frames` hold stored values (DICOM) or decoded samples (other formats); `modality` maps
    stored values to modality values (identity outside DICOM); `linear` is (slope, intercept) when
    that map is linear. Grey frames are (H, W), colour frames (H, W, 3) uint8.
    """

    path: Path
    raw_frames: list[np.ndarray] | Callable[[int], np.ndarray]
    n_frames: int
    meta: dict[str, Any]
    windows: list[Window] = field(default_factory=list)
    monochrome1: bool = False
    modality: Callable[[np.ndarray], np.ndarray] | None = None
    linear: tuple[float, float] | None = (1.0, 0.0)
    voi_lut: Callable[[np.ndarray], np.ndarray] | None = None
    dataset: Any = None  # the pydicom Dataset (pixel data removed) for DICOM files
    _cache: dict = field(default_factory=dict, repr=False)

    # ----- pixels -------------------------------------------------------------------------------
    def raw(self, index: int = 0) -> np.ndarray:
        if not 0 <= index < self.n_frames:
            raise IndexError(f"frame {index} out of range: {self.path.name} has {self.n_frames}")
        if callable(self.raw_frames):
            key = ("raw", index)
            if key not in self._cache:
                if len(self._cache) > 8:
                    self._cache.clear()
                self._cache[key] = self.raw_frames(index)
            return self._cache[key]
        return self.raw_frames[index]

    def frame(self, index: int = 0) -> np.ndarray:
        """Modality values of frame `index` (for DICOM as pydicom's apply_modality_lut gives)."""
        raw = self.raw(index)
        return raw if self.modality is None else self.modality(raw)

    @property
    def pixels(self) -> np.ndarray:
        if "pixels" not in self._cache:
            self._cache["pixels"] = self.frame(0)
        return self._cache["pixels"]

    @property
    def frames(self) -> int:
        return self.n_frames

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.raw(0).shape[:2]
        return w, h

    @property
    def spacing(self):
        """(row_mm, col_mm, source) of a pixel (desktop.core.imaging.spacing): source is
        "PixelSpacing", "ImagerPixelSpacing" or None (no mm; measurements are in pixels)."""
        if "spacing" not in self._cache:
            from .spacing import pixel_spacing

            self._cache["spacing"] = pixel_spacing(self.dataset)
        return self._cache["spacing"]

    @property
    def is_color(self) -> bool:
        return self.raw(0).ndim == 3

    # ----- window/level -------------------------------------------------------------------------
    def value_range(self, index: int = 0) -> tuple[float, float]:
        key = ("range", index)
        if key not in self._cache:
            values = self.frame(index)
            self._cache[key] = (float(np.min(values)), float(np.max(values)))
        return self._cache[key]

    def default_window(self, index: int = 0) -> Window | None:
        """The file's first preset; None for the VOI LUT; else identity (8-bit) or the full range."""
        if self.windows:
            return self.windows[0]
        if self.voi_lut is not None:
            return None
        raw = self.raw(index)
        if raw.dtype == np.uint8 and (self.is_color or self.dataset is None):
            return Window(128.0, 256.0, "Identity")
        lo, hi = self.value_range(index)
        return full_range_window(lo, hi, integer=np.issubdtype(self.frame(index).dtype, np.integer))

    def render(self, window=None, frame: int = 0, invert: bool | None = None,
               out: np.ndarray | None = None) -> np.ndarray:
        """8-bit screen values: (H, W) for grey, (H, W, 3) for colour. `invert=None` inverts
        MONOCHROME1 (as DICOM asks); True/False force it. `out`, a C-contiguous uint8 array of
        that shape, receives the values without a new allocation (the viewer's W/L drag)."""
        import cv2

        raw = self.raw(frame)
        if out is not None:
            shape = raw.shape if raw.ndim == 3 else raw.shape[:2]
            if out.shape != shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
                raise ValueError(f"out must be C-contiguous uint8 {shape}, got {out.dtype} {out.shape}")
        win = as_window(window) if window is not None else None
        if win is not None and not (math.isfinite(win.center) and math.isfinite(win.width)):
            win = None  # a NaN/inf window (a damaged file or setting) shows the default instead
        if win is None:
            win = self.default_window(frame)
        if win is None:  # VOI LUT from the file
            res = self._table_render(raw, ("voi",), lambda d: self.voi_lut(self._modality(d)), out=out)
        elif self.is_color:
            table = window_table(np.arange(256), lambda d: d, win)
            res = cv2.LUT(raw, table) if out is None else cv2.LUT(raw, table, dst=out)
        else:
            res = None
            if self.linear is not None:
                res = linear_ramp_u8(raw, self.linear[0], self.linear[1], win, out=out)
            if res is None:
                res = self._table_render(raw, ("win", win.center, win.width), None, win, out=out)
        if self.monochrome1 if invert is None else invert:
            res = cv2.bitwise_not(res, dst=res)
        return res

    def display(self, window=None, frame: int = 0, invert: bool | None = None) -> np.ndarray:
        """RGB uint8 (H, W, 3) as shown on screen."""
        import cv2

        out = self.render(window, frame, invert)
        return out if out.ndim == 3 else cv2.cvtColor(out, cv2.COLOR_GRAY2RGB)

    def modality_values(self, stored: np.ndarray) -> np.ndarray:
        """Stored values (any part of a frame) -> modality values (HU for CT after rescale)."""
        return self._modality(stored)

    # ----- helpers ------------------------------------------------------------------------------
    def _modality(self, values: np.ndarray) -> np.ndarray:
        return values if self.modality is None else self.modality(values)

    def _table_render(self, raw, key, transfer, win: Window | None = None, out=None) -> np.ndarray:
        from .window import ramp

        if not np.issubdtype(raw.dtype, np.integer) or (
            raw.dtype.itemsize > 2 and self.value_range()[1] - self.value_range()[0] > 1 << 20
        ):  # float or very wide integer data: compute directly
            values = self._modality(raw)
            y = transfer(raw) if transfer is not None else ramp(values, win)
            res = np.rint(np.clip(y, 0, 255)).astype(np.uint8)
            if out is None:
                return res
            out[...] = res
            return out
        lo, hi = (int(v) for v in (raw.min(), raw.max())) if raw.dtype.itemsize > 2 else (0, 0)
        domain, offset = lut_domain(raw.dtype, lo, hi)
        if transfer is not None:
            table = np.rint(np.clip(transfer(domain), 0, 255)).astype(np.uint8)
        else:
            table = window_table(domain, self._modality, win)
        return apply_table(raw, table, offset, out=out)
