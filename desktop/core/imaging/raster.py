"""Reading PNG, JPEG, TIFF, BMP and WebP with Pillow (EXIF orientation applied)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from .errors import ImageReadError
from .formats import MAX_FRAME_PIXELS, MAX_RASTER_FRAMES, MAX_TOTAL_BYTES
from .image import LoupeImage

_SIXTEEN_BIT = {"I;16", "I;16L", "I;16B", "I;16N"}


def _to_array(im) -> tuple[np.ndarray, str]:
    """Pixels as grey (H, W) of the file's depth or RGB (H, W, 3) uint8, and what was done."""
    from PIL import ImageOps

    mode = im.mode
    if mode in _SIXTEEN_BIT:
        return np.asarray(im).astype(np.uint16, copy=False), "16-bit grey"
    if mode == "I":
        arr = np.asarray(im)
        if arr.min() >= 0 and arr.max() <= 65535:
            return arr.astype(np.uint16), "32-bit grey (values fit 16 bits)"
        return arr.astype(np.int32), "32-bit grey"
    if mode == "F":
        return np.asarray(im, dtype=np.float32), "32-bit float grey"
    if mode in ("L", "1", "LA"):
        return np.asarray(im.convert("L")), "8-bit grey"
    if mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
        mode = im.mode
    if mode in ("RGBA", "RGBa", "PA"):
        rgba = im.convert("RGBA")
        arr = np.asarray(rgba)
        if arr[..., 3].min() < 255:  # composite on black, as a viewer shows a transparent image
            background = ImageOps.colorize(rgba.convert("L"), "black", "black")
            background.paste(rgba, mask=rgba.split()[3])
            return np.asarray(background.convert("RGB")), "RGBA (composited on black)"
        return np.ascontiguousarray(arr[..., :3]), "RGBA (opaque; alpha dropped)"
    return np.asarray(im.convert("RGB")), "RGB"


def _frame_count(path: Path, im) -> int:
    """Frames of `im`, bounded: a TIFF's pages are counted by their offsets (pages.py) before
    Pillow walks them; other formats declare their count (APNG acTL, WebP). More than
    MAX_RASTER_FRAMES is refused with the count in the reason."""
    if im.format == "TIFF":
        from .pages import count_tiff_pages

        n = count_tiff_pages(path, MAX_RASTER_FRAMES)
        if n > MAX_RASTER_FRAMES:
            raise ImageReadError(path, f"has more than {MAX_RASTER_FRAMES:,} pages; Loupe reads at most "
                                 f"{MAX_RASTER_FRAMES:,} pages of one TIFF (refused before decoding)")
        return max(n, 1)
    n = int(getattr(im, "n_frames", 1) or 1)
    if n > MAX_RASTER_FRAMES:
        raise ImageReadError(path, f"declares {n:,} frames; Loupe reads at most {MAX_RASTER_FRAMES:,} "
                             f"frames of one {im.format or 'image'} file (refused before decoding)")
    return n


def read_raster(path: Path, facts: dict) -> LoupeImage:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageReadError(path, "declares a size far beyond any screen (refused as a possible "
                             "decompression bomb)") from None
    except UnidentifiedImageError:
        raise ImageReadError(path, "not an image Loupe can read (unknown or damaged format)") from None
    except OSError as exc:
        raise ImageReadError(path, f"cannot be opened ({exc})") from None
    try:
        n_frames = _frame_count(path, im)
    except Exception:
        im.close()
        raise
    w, h = im.size
    if w * h > MAX_FRAME_PIXELS:
        im.close()
        raise ImageReadError(path, f"declares {w} x {h} pixels, far beyond any screen (refused as a "
                             "possible decompression bomb)")
    if w * h * n_frames * 4 > MAX_TOTAL_BYTES:
        im.close()
        raise ImageReadError(path, f"declares {n_frames:,} frames of {w} x {h} pixels, "
                             f"{w * h * n_frames * 4 / 1024**3:,.1f} GiB decoded, far more than any "
                             "screen shows (refused as a possible decompression bomb)")
    fmt, source_mode = im.format, im.mode
    orientation = im.getexif().get(0x0112, 1) if hasattr(im, "getexif") else 1

    def decode(index: int) -> np.ndarray:
        try:
            with Image.open(path) as frame_im:
                if index:
                    frame_im.seek(index)
                frame_im.load()
                frame_im = ImageOps.exif_transpose(frame_im)
                return np.ascontiguousarray(_to_array(frame_im)[0])
        except ImageReadError:
            raise
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise ImageReadError(path, f"image data is damaged or truncated ({exc})") from None

    try:
        im.load()
        first_im = ImageOps.exif_transpose(im)
        first, described = _to_array(first_im)
        first = np.ascontiguousarray(first)
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageReadError(path, f"image data is damaged or truncated ({exc})") from None
    finally:
        im.close()
    facts.update({
        "Format": fmt or path.suffix.lstrip(".").upper(),
        "Mode": f"{source_mode} -> {described}",
        "Width": first.shape[1], "Height": first.shape[0], "Frames": n_frames,
        "EXIF orientation": orientation,
    })
    if n_frames == 1:
        frames: list[np.ndarray] | object = [first]
    else:
        def frames(i: int, _first=first):  # other pages of a TIFF/WebP are decoded when asked
            return _first if i == 0 else decode(i)
    return LoupeImage(path=path, raw_frames=frames, n_frames=n_frames, meta=facts)
