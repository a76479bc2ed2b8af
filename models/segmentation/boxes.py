"""The tight box around a mask, in the pixel-edge convention Loupe's boxes use.

A box (x0, y0, x1, y1) covers the pixel columns x0 .. x1 - 1 and rows y0 .. y1 - 1: x0 is the first
column of the mask, x1 is its last column + 1 (the right edge of that pixel). So the box's width
x1 - x0 is the number of columns it spans, which is the `w` the store keeps (`x, y, w, h`, as COCO
does); a one-pixel mask at (x, y) gives (x, y, x + 1, y + 1), width and height 1.
"""

from __future__ import annotations

import numpy as np


def box_from_mask(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the smallest box holding every True pixel of a 2-D mask, or None when
    the mask is empty. Disjoint parts all fall inside the one box."""
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"a mask is a 2-D array (H, W), not shape {m.shape}")
    m = m.astype(bool, copy=False)
    cols = np.flatnonzero(m.any(axis=0))
    if cols.size == 0:
        return None
    rows = np.flatnonzero(m.any(axis=1))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
