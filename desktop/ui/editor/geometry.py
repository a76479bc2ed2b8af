"""The box editor's geometry (clamping, moving, the 8 resize handles) is Qt-free and lives in
desktop/core/box_geometry.py, where the store's readers use it too (a quiz's stored marks are
clamped with it); the editor, the assist tool and the quiz's film view import it from here."""

from desktop.core.box_geometry import (  # noqa: F401 - re-exported
    HANDLES,
    MIN_SIZE,
    clamp_rect,
    handle_at,
    handle_points,
    move_rect,
    resize_rect,
)
