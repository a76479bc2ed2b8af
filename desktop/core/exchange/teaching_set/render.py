"""The pixels of a teaching set: each image rendered to 8-bit PNG with the chosen window, plus
the file's other window presets (and the usual CT windows for CT) as alternatives the page can
switch between.

Every image is decoded and written again, never copied: a source PNG's text chunks or a JPEG's
EXIF can name the patient. The PNGs are written with no ancillary chunks at all (IHDR, IDAT...,
IEND; PLTE never, the images are grey or RGB), so nothing but pixels leaves the folder.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from desktop.core.exchange.errors import ExchangeError
from desktop.core.imaging import CT_PRESETS, Window, read_image

PRESET_NAMES = {w.name.lower(): w for w in CT_PRESETS}


@dataclass
class Variant:
    """One rendering of an image: the window it used and the file written."""
    name: str            # shown on the page's window button
    center: float | None  # None: the file's VOI LUT, or an 8-bit image shown as it is
    width: float | None
    file: str = ""       # relative to the set's folder, e.g. images/case-001.png

    def manifest(self) -> dict:
        return {"name": self.name, "center": self.center, "width": self.width, "file": self.file}


@dataclass
class Rendered:
    width: int
    height: int
    modality: str
    variants: list[Variant]
    burned_in: str | None  # why the pixels may show a name (phi.burned_in_warning), or None
    png_size: tuple[int, int] = (0, 0)  # (width, height) written: smaller than the film's when scaled down


def parse_window(text: str | None):
    """`--window`: None, a CT preset name (lung, mediastinum, bone, brain) or CENTER,WIDTH."""
    if text is None or str(text).strip() == "":
        return None
    if isinstance(text, tuple | list | Window):
        return _window(*text[:2])
    key = str(text).strip().lower()
    if key in PRESET_NAMES:
        return PRESET_NAMES[key]
    try:
        center, width = (float(v) for v in key.split(","))
    except ValueError:
        raise ExchangeError(f"--window must be CENTER,WIDTH (e.g. 40,400) or one of "
                            f"{', '.join(PRESET_NAMES)}, not {text!r}") from None
    return _window(center, width)


def _window(center, width) -> Window:
    center, width = float(center), float(width)
    if not (math.isfinite(center) and math.isfinite(width)) or width < 1:
        raise ExchangeError(f"the window must have a finite centre and a width of at least 1, "
                            f"not {center:g},{width:g}")
    return Window(center, width, "Chosen")


def label(window: Window | None) -> str:
    if window is None:
        return "File's VOI LUT"
    numbers = f"C {window.center:g} / W {window.width:g}"
    name = " ".join(str(window.name or "").split())[:40]
    if name == "Identity":
        return "As stored"
    if not name:
        return numbers
    return f"{name.title() if name.isupper() else name} ({numbers})"


def variants_of(image, window) -> list[tuple[Window | None, str]]:
    """The windows to render an image with: the chosen one first, then the file's presets, then
    (CT) the usual CT windows; one of each centre/width. Non-DICOM images: as they are."""
    if image.dataset is None or image.is_color:
        return [(None if image.is_color or image.raw(0).dtype == np.uint8 else image.default_window(), "")]
    first = window if window is not None else image.default_window()
    out: list[tuple[Window | None, str]] = [(first, "")]
    seen = {(first.center, first.width)} if first is not None else set()
    extra = list(image.windows)
    if str(image.meta.get("Modality", "")).upper() == "CT":
        extra += list(CT_PRESETS)
    for w in extra:
        if (w.center, w.width) not in seen:
            seen.add((w.center, w.width))
            out.append((w, ""))
    return out


def render_image(src: Path, out_dir: Path, stem: str, window=None, alternatives: bool = True,
                 max_side: int | None = None) -> Rendered:
    """Render `src` to `out_dir/stem.png` (the chosen window) and `stem-w2.png`, ... (the others).
    `max_side`: a film larger than that on its longer side is written scaled down to it (area
    averaging); `Rendered.width/height` stay the file's own, the coordinates of its boxes, and the
    page scales the PNG to them."""
    image = read_image(src)  # an ImageReadError (damaged, missing) says why; the caller decides
    windows = variants_of(image, window)
    if not alternatives:
        windows = windows[:1]
    variants, png_size = [], (0, 0)
    for k, (win, _name) in enumerate(windows, start=1):
        name = f"{stem}.png" if k == 1 else f"{stem}-w{k}.png"
        pixels = _shrunk(image.render(win), max_side)
        png_size = (pixels.shape[1], pixels.shape[0])
        write_png(pixels, out_dir / name)
        if image.dataset is None:
            shown = "As stored" if win is None or win.name == "Identity" else label(win)
        else:
            shown = label(win)
        variants.append(Variant(shown, None if win is None else float(win.center),
                                None if win is None else float(win.width), f"{out_dir.name}/{name}"))
    w, h = image.size
    modality = str(image.meta.get("Modality", "") or "") if image.dataset is not None else ""
    return Rendered(w, h, modality.strip()[:8], variants, image.meta.get("Burned-in text"), png_size)


def _shrunk(pixels: np.ndarray, max_side: int | None) -> np.ndarray:
    h, w = pixels.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return pixels
    import cv2

    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


def write_png(pixels: np.ndarray, path: Path) -> None:
    """8-bit grey or RGB pixels as a PNG with no metadata chunks (OpenCV's encoder writes IHDR, IDAT
    and IEND only; zlib level 3: about twice as fast as level 6 on a film, a few percent larger)."""
    import cv2

    arr = np.ascontiguousarray(pixels)
    if arr.ndim == 3 and arr.shape[2] == 3:
        if np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 0], arr[..., 2]):
            arr = np.ascontiguousarray(arr[..., 0])  # grey shown as RGB: a third of the bytes
        else:
            arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ExchangeError(f"{path.name}: the image could not be encoded as PNG")
    path.write_bytes(data.tobytes())
