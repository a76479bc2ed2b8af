"""Which neighbours to decode ahead of the current image (docs/decisions/0012-viewer-workers-and-
state.md). The next/previous image itself is found by the image list as filtered, by bisection
(`ImageListPanel.neighbour`, docs/decisions/0105-image-list-filter-in-one-pass.md)."""

from __future__ import annotations

PREFETCH_AHEAD, PREFETCH_BEHIND = 2, 1


def prefetch_offsets() -> list[int]:
    """The rows ahead first (stepping forwards is the common case), then the ones behind."""
    return list(range(1, PREFETCH_AHEAD + 1)) + [-k for k in range(1, PREFETCH_BEHIND + 1)]
