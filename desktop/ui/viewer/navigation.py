"""Which image is next or previous in the list as filtered, and which neighbours to decode ahead
(docs/decisions/0012-viewer-workers-and-state.md)."""

from __future__ import annotations

PREFETCH_AHEAD, PREFETCH_BEHIND = 2, 1


def neighbour(paths: list[str], current: str | None, step: int) -> str | None:
    """The path `step` rows from `current` in `paths`; the first one when `current` is not listed
    (e.g. hidden by the filter); None past either end."""
    if not paths:
        return None
    if current not in paths:
        return paths[0]
    i = paths.index(current) + step
    return paths[i] if 0 <= i < len(paths) else None


def prefetch_targets(paths: list[str], row: int) -> list[str]:
    """The rows ahead first (stepping forwards is the common case), then the ones behind."""
    rows = [row + k for k in range(1, PREFETCH_AHEAD + 1)] + [row - k for k in range(1, PREFETCH_BEHIND + 1)]
    return [paths[r] for r in rows if 0 <= r < len(paths)]
