"""Which files Loupe opens, and how to tell a DICOM file from its first bytes."""

from __future__ import annotations

from pathlib import Path

RASTER_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"})
DICOM_EXTENSIONS = frozenset({".dcm", ".dicom", ".dic"})
SUPPORTED_EXTENSIONS = RASTER_EXTENSIONS | DICOM_EXTENSIONS

# Decompression-bomb guard: a declared size far beyond any screen or scanner is refused before
# anything is decoded. 16384 x 16384 per frame (268 Mpx); 2 GiB of decoded pixels in all frames.
MAX_FRAME_PIXELS = 16384 * 16384
MAX_TOTAL_BYTES = 2 * 1024**3
# Pages of one PNG/TIFF/WebP file. Pillow reaches page N by walking the pages before it, so a file
# of far more pages cannot be browsed anyway (decision 0115); a DICOM's frames are bounded by bytes.
MAX_RASTER_FRAMES = 1000


def has_dicom_marker(path: str | Path) -> bool:
    """True when the file carries the DICOM Part 10 preamble marker 'DICM' at byte 128."""
    try:
        with open(path, "rb") as f:
            f.seek(128)
            return f.read(4) == b"DICM"
    except OSError:
        return False


def is_supported(path: str | Path) -> bool:
    """Decided by the extension; a file with no extension is accepted when it is a DICOM file."""
    suffix = Path(path).suffix.lower()
    if suffix in SUPPORTED_EXTENSIONS:
        return True
    return suffix == "" and has_dicom_marker(path)


def is_dicom_path(path: str | Path) -> bool:
    suffix = Path(path).suffix.lower()
    if suffix in DICOM_EXTENSIONS:
        return True
    if suffix in RASTER_EXTENSIONS:
        return has_dicom_marker(path)
    return True  # no or unknown extension: try DICOM first
