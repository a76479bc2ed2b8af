"""box_from_mask: the tight box in Loupe's pixel-edge convention (x1 = last column + 1)."""

from __future__ import annotations

import numpy as np
import pytest

from models.segmentation import box_from_mask


def test_empty_mask_has_no_box():
    assert box_from_mask(np.zeros((5, 7), bool)) is None


def test_single_pixel_is_a_one_by_one_box():
    m = np.zeros((10, 20), bool)
    m[3, 17] = True
    assert box_from_mask(m) == (17, 3, 18, 4)


def test_rectangle_and_whole_image():
    m = np.zeros((40, 50), bool)
    m[5:12, 20:31] = True  # rows 5..11, columns 20..30
    x0, y0, x1, y1 = box_from_mask(m)
    assert (x0, y0, x1, y1) == (20, 5, 31, 12) and (x1 - x0, y1 - y0) == (11, 7)
    assert box_from_mask(np.ones((4, 6), bool)) == (0, 0, 6, 4)


def test_disjoint_parts_share_one_box():
    m = np.zeros((30, 30), np.uint8)
    m[2, 25] = 1
    m[20:23, 4:6] = 255
    assert box_from_mask(m) == (4, 2, 26, 23)


def test_box_agrees_with_the_store_convention():
    """A box drawn from (x, y) with width w and height h (the store's x, y, w, h) covers exactly the
    columns x .. x + w - 1: its mask's box gives it back."""
    x, y, w, h = 7, 9, 13, 4
    m = np.zeros((30, 40), bool)
    m[y:y + h, x:x + w] = True
    x0, y0, x1, y1 = box_from_mask(m)
    assert (x0, y0, x1 - x0, y1 - y0) == (x, y, w, h)


def test_not_a_2d_mask():
    with pytest.raises(ValueError, match=r"2-D array \(H, W\), not shape \(2, 3, 4\)"):
        box_from_mask(np.zeros((2, 3, 4), bool))
