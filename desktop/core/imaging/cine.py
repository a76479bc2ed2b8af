"""The frame rate a multi-frame file asks to be played at (decision 0137).

In this order: Recommended Display Frame Rate (0008,2144, frames/s: what the file recommends for
display), Cine Rate (0018,0040, frames/s), Frame Time (0018,1063, ms per frame: 1000 / Frame Time),
the mean of Frame Time Vector (0018,1065, ms between frames; its first value is 0). None when the
file says nothing usable; the viewer then plays at DEFAULT_FPS.
"""

from __future__ import annotations

import math
from typing import NamedTuple

DEFAULT_FPS = 10.0
MIN_FPS, MAX_FPS = 0.5, 120.0


class FrameRate(NamedTuple):
    fps: float
    source: str  # the attribute it came from


def _positive(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def frame_rate(ds) -> FrameRate | None:
    if ds is None:
        return None
    for keyword in ("RecommendedDisplayFrameRate", "CineRate"):
        fps = _positive(ds.get(keyword))
        if fps:
            return FrameRate(min(max(fps, MIN_FPS), MAX_FPS), keyword)
    ms = _positive(ds.get("FrameTime"))
    if ms:
        return FrameRate(min(max(1000.0 / ms, MIN_FPS), MAX_FPS), "FrameTime")
    vector = ds.get("FrameTimeVector")
    if vector is not None and not isinstance(vector, (str, int, float)):
        gaps = [g for g in (_positive(v) for v in list(vector)[1:]) if g]
        if gaps:
            return FrameRate(min(max(1000.0 / (sum(gaps) / len(gaps)), MIN_FPS), MAX_FPS), "FrameTimeVector")
    return None
