"""Image decoding and window/level without Qt.

    from desktop.core.imaging import read_image
    img = read_image(path)   # .pixels (modality values), .meta, .n_frames, .frame(i), .size,
                             # .windows (file presets), .display(window=None, frame=0, invert=None)

Every failure is an `ImageReadError` naming the file and the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ImageReadError
from .formats import SUPPORTED_EXTENSIONS, is_dicom_path, is_supported
from .image import LoupeImage
from .window import CT_PRESETS, Window

__all__ = ["read_image", "ImageReadError", "LoupeImage", "Window", "CT_PRESETS",
           "SUPPORTED_EXTENSIONS", "is_supported"]


def read_image(path: str | os.PathLike) -> LoupeImage:
    """Decode `path` (PNG, JPEG, TIFF, BMP, WebP or DICOM); raise ImageReadError when it can't."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ImageReadError(path, "file not found") from None
    except OSError as exc:
        raise ImageReadError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not path.is_file():
        raise ImageReadError(path, "not a file")
    if st.st_size == 0:
        raise ImageReadError(path, "file is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise ImageReadError(path, "permission denied: the file is not readable by you")
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise ImageReadError(path, "permission denied: the file is not readable by you") from None
    except OSError as exc:
        raise ImageReadError(path, f"cannot be read ({exc.strerror or exc})") from None
    facts = {"File": path.name, "Folder": str(path.parent), "File size": _human(st.st_size)}
    try:
        if is_dicom_path(path):
            from .dicom import read_dicom

            return read_dicom(path, facts)
        from .raster import read_raster

        return read_raster(path, facts)
    except ImageReadError:
        raise
    except MemoryError:
        raise ImageReadError(path, "too large to decode in the available memory") from None
    except Exception as exc:  # a decoder bug must not take the app down
        raise ImageReadError(path, f"cannot be decoded ({type(exc).__name__}: {exc})") from None


def _human(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
