"""The error a user sees when an image cannot be read: it names the file and the reason."""

from __future__ import annotations

from pathlib import Path

from models.errors import LoupeError


class ImageReadError(LoupeError):
    """`path` cannot be shown; `reason` says why in words a user understands."""

    def __init__(self, path: str | Path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path.name}: {reason} ({self.path})")
