"""Box geometry without Qt (the box editor's, and the quiz marks'): keeping a box inside its image,
moving, and the 8 resize handles.

Rects are (x, y, w, h) in image pixels. Handles are named by compass point; "nw" moves the top-left
corner, "n" the top edge, and so on. A resize never flips a box and never makes it smaller than
MIN_SIZE; a move never changes the size.
"""

from __future__ import annotations

MIN_SIZE = 2.0
HANDLES = ("nw", "n", "ne", "e", "se", "s", "sw", "w")


def clamp_rect(x: float, y: float, w: float, h: float, width: float, height: float,
               min_size: float = MIN_SIZE) -> tuple[float, float, float, float]:
    """The part of a box inside the image, at least `min_size` on each side (when the image is)."""
    x1, y1 = max(0.0, min(x, x + w)), max(0.0, min(y, y + h))
    x2, y2 = min(float(width), max(x, x + w)), min(float(height), max(y, y + h))
    mw, mh = min(min_size, float(width)), min(min_size, float(height))
    if x2 - x1 < mw:
        x1 = min(max(0.0, x1), float(width) - mw)
        x2 = x1 + mw
    if y2 - y1 < mh:
        y1 = min(max(0.0, y1), float(height) - mh)
        y2 = y1 + mh
    return (x1, y1, x2 - x1, y2 - y1)


def move_rect(rect, dx: float, dy: float, width: float, height: float):
    """Move by (dx, dy), stopping at the image's edges; the size is kept."""
    x, y, w, h = rect
    nx = min(max(0.0, x + dx), max(0.0, float(width) - w))
    ny = min(max(0.0, y + dy), max(0.0, float(height) - h))
    return (nx, ny, w, h)


def resize_rect(rect, handle: str, dx: float, dy: float, width: float, height: float,
                min_size: float = MIN_SIZE):
    """Drag `handle` by (dx, dy): the opposite edges stay put; the result stays inside the image and
    at least `min_size` wide and high."""
    if handle not in HANDLES:
        raise ValueError(f"unknown handle {handle!r}")
    x, y, w, h = rect
    x1, y1, x2, y2 = x, y, x + w, y + h
    mw, mh = min(min_size, float(width)), min(min_size, float(height))
    if "w" in handle:
        x1 = min(max(0.0, x1 + dx), x2 - mw)
    if "e" in handle:
        x2 = max(min(float(width), x2 + dx), x1 + mw)
    if "n" in handle:
        y1 = min(max(0.0, y1 + dy), y2 - mh)
    if "s" in handle:
        y2 = max(min(float(height), y2 + dy), y1 + mh)
    return (x1, y1, x2 - x1, y2 - y1)


def handle_points(rect) -> dict[str, tuple[float, float]]:
    """Where each handle sits on the box's outline."""
    x, y, w, h = rect
    cx, cy, r, b = x + w / 2, y + h / 2, x + w, y + h
    return {"nw": (x, y), "n": (cx, y), "ne": (r, y), "e": (r, cy), "se": (r, b), "s": (cx, b),
            "sw": (x, b), "w": (x, cy)}


def handle_at(rect, px: float, py: float, tolerance: float) -> str | None:
    """The handle within `tolerance` (scene units) of the point, corners first."""
    best, best_d = None, tolerance
    for name, (hx, hy) in handle_points(rect).items():
        d = max(abs(px - hx), abs(py - hy))
        if d <= best_d and (best is None or d < best_d or len(name) == 2):
            best, best_d = name, d
    return best
