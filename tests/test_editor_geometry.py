"""Property tests of the editor's box geometry: clamping, moving and the 8 resize handles."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.ui.editor.geometry import (
    HANDLES,
    MIN_SIZE,
    clamp_rect,
    handle_at,
    handle_points,
    move_rect,
    resize_rect,
)

sizes = st.tuples(st.integers(4, 5000), st.integers(4, 5000))
coords = st.floats(-1e4, 1e4, allow_nan=False)


@st.composite
def box_in_image(draw):
    width, height = draw(sizes)
    x = draw(st.floats(0, width - MIN_SIZE))
    y = draw(st.floats(0, height - MIN_SIZE))
    w = draw(st.floats(MIN_SIZE, width - x))
    h = draw(st.floats(MIN_SIZE, height - y))
    return (x, y, w, h), width, height


def inside(rect, width, height, eps=1e-6):
    x, y, w, h = rect
    return x >= -eps and y >= -eps and x + w <= width + eps and y + h <= height + eps


@given(coords, coords, coords, coords, sizes)
def test_clamp_keeps_any_box_inside_and_at_least_min_size(x, y, w, h, size):
    width, height = size
    r = clamp_rect(x, y, w, h, width, height)
    assert inside(r, width, height)
    assert r[2] >= MIN_SIZE - 1e-6 and r[3] >= MIN_SIZE - 1e-6


@given(box_in_image())
def test_clamp_leaves_a_box_inside_unchanged(case):
    rect, width, height = case
    assert clamp_rect(*rect, width, height) == pytest.approx(rect)


@given(box_in_image(), coords, coords)
def test_move_keeps_size_and_stays_inside(case, dx, dy):
    rect, width, height = case
    r = move_rect(rect, dx, dy, width, height)
    assert r[2:] == rect[2:]
    assert inside(r, width, height)


@given(box_in_image(), st.sampled_from(HANDLES), coords, coords)
def test_resize_moves_only_the_dragged_edges(case, handle, dx, dy):
    rect, width, height = case
    r = resize_rect(rect, handle, dx, dy, width, height)
    assert inside(r, width, height, eps=1e-6)
    assert r[2] >= MIN_SIZE - 1e-6 and r[3] >= MIN_SIZE - 1e-6
    x, y, w, h = rect
    if "w" not in handle:
        assert r[0] == pytest.approx(x)
    if "n" not in handle:
        assert r[1] == pytest.approx(y)
    if "e" not in handle:
        assert r[0] + r[2] == pytest.approx(x + w)
    if "s" not in handle:
        assert r[1] + r[3] == pytest.approx(y + h)


@given(box_in_image(), st.sampled_from(HANDLES))
def test_small_drag_within_the_image_moves_the_handle_exactly(case, handle):
    rect, width, height = case
    r = resize_rect(rect, handle, 0.0, 0.0, width, height)
    assert r == pytest.approx(rect)


def test_handle_points_and_hit_test():
    rect = (10, 20, 100, 50)
    pts = handle_points(rect)
    assert pts["nw"] == (10, 20) and pts["se"] == (110, 70) and pts["e"] == (110, 45)
    assert handle_at(rect, 111, 69, 3) == "se"
    assert handle_at(rect, 60, 21, 3) == "n"
    assert handle_at(rect, 60, 45, 3) is None
    assert resize_rect(rect, "se", 1000, 1000, 200, 100) == (10, 20, 190, 80)
    assert resize_rect(rect, "w", 500, 0, 200, 100) == (110 - MIN_SIZE, 20, MIN_SIZE, 50)
