"""What a model receives for a file: the file as the authors' reader reads it, not the screen.

    from desktop.core.imaging.model_input import model_input, ScreenView
    rgb = model_input(path)                               # the default: see below
    rgb = model_input(path, screen=ScreenView(window, invert))   # the explicit option: as on screen

The seed models' authors read 8-bit PNG/JPEG with `PIL.Image.open(p).convert("RGB")`, and their
numbers hold for that input; so an 8-bit raster file gives exactly that array (EXIF orientation is
applied first when a file has one, so boxes land where the viewer draws the image). Files none of the
authors read get the file's own default display, whatever the user has on screen:

- DICOM: its first VOI window (WindowCenter/Width), else its VOI LUT, else the full range of its
  stored bits (BitsStored, PixelRepresentation) through the modality rescale; MONOCHROME1 inverted.
- 16-bit PNG/TIFF: the full range of the sample type (0..65535 -> 0..255), not the image's own
  min..max (which made every image's contrast depend on its brightest and darkest pixel).
- 32-bit integer or float rasters have no defined full range: their min..max.

The CLI commands (`loupe detect/classify/caption/saliency`) and the model panel all read through
`model_input` (docs/decisions/0093). No Qt here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .formats import MAX_FRAME_PIXELS, is_dicom_path
from .window import Window, full_range_window

INPUT_NOTE = ("Model input: 8-bit PNG/JPEG exactly as PIL reads them (as the authors' code); 16-bit "
              "PNG/TIFF and DICOM with the file's own default display (DICOM: its VOI window, else the "
              "full range of its bits), not the window on screen unless you tick “Use the window on screen”.")

_EIGHT_BIT_MODES = {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}


class ScreenView(NamedTuple):
    """The on-screen rendering to use instead: a window (None: the viewer's default for the file)
    and the invert flag (None: the file's own polarity)."""

    window: Window | tuple | None = None
    invert: bool | None = None


def model_input(path: str | os.PathLike, frame: int = 0, screen: ScreenView | None = None) -> np.ndarray:
    """RGB uint8 (H, W, 3) that a model gets for the file at `path` (see the module docstring).
    Raises `ImageReadError` naming the file when it cannot be read."""
    path = Path(path)
    if screen is None and not is_dicom_path(path):
        rgb = _as_pil_reads_it(path, frame)
        if rgb is not None:
            return rgb
    from . import read_image

    img = read_image(path)
    if screen is not None:
        return img.display(screen.window, frame, screen.invert)
    return img.display(default_model_window(img, frame), frame)


def _as_pil_reads_it(path: Path, frame: int) -> np.ndarray | None:
    """`Image.open(path).convert("RGB")` for 8-bit raster files; None for anything else (16-bit,
    float, unreadable: `read_image` then decides, with its messages for bad files)."""
    import warnings

    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.mode not in _EIGHT_BIT_MODES or im.width * im.height > MAX_FRAME_PIXELS:
                    return None
                if frame:
                    im.seek(frame)
                orientation = im.getexif().get(0x0112, 1) if hasattr(im, "getexif") else 1
                if orientation not in (None, 1):
                    im = ImageOps.exif_transpose(im)
                return np.asarray(im.convert("RGB"))
    except Exception:  # any decoding problem: read_image gives the message
        return None


def default_model_window(img, frame: int = 0) -> Window | None:
    """The window a model's input is rendered with: the file's first VOI window; None for its VOI
    LUT; else the full range of the stored values (DICOM bits, the 8/16-bit type), through the
    modality transform; min..max only for 32-bit and float data."""
    if img.windows:
        return img.windows[0]
    if img.voi_lut is not None:
        return None
    raw = img.raw(frame)
    if img.is_color:
        return Window(128.0, 256.0, "Identity")
    ds = img.dataset
    if ds is not None and ds.get("BitsStored"):
        bits = int(ds.get("BitsStored"))
        if int(ds.get("PixelRepresentation", 0) or 0) == 1:
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        else:
            lo, hi = 0, (1 << bits) - 1
    elif np.issubdtype(raw.dtype, np.integer) and raw.dtype.itemsize <= 2:
        info = np.iinfo(raw.dtype)
        lo, hi = int(info.min), int(info.max)
    else:
        lo, hi = img.value_range(frame)
        return full_range_window(lo, hi, integer=np.issubdtype(img.frame(frame).dtype, np.integer))
    if img.modality is not None:
        stored = np.r_[np.arange(lo, hi + 1, max(1, (hi - lo) // 65536)), hi].astype(raw.dtype)
        values = np.asarray(img.modality(stored), dtype=np.float64)
        lo, hi = float(values.min()), float(values.max())
    return full_range_window(float(lo), float(hi), integer=True)
