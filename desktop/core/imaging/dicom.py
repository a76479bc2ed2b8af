"""Reading DICOM with pydicom and its pixel handlers (pylibjpeg for compressed syntaxes)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from .errors import ImageReadError
from .formats import MAX_FRAME_PIXELS, MAX_TOTAL_BYTES
from .image import LoupeImage
from .window import Window


def _open_dataset(path: Path):
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path, defer_size="1 MB")
    except InvalidDicomError:
        pass
    except (EOFError, ValueError, OSError, KeyError, TypeError, AttributeError) as exc:
        raise ImageReadError(path, f"DICOM file is damaged or truncated ({exc})") from None
    # No 'DICM' preamble: only a raw dataset that starts with a group 0002/0008 tag is tried.
    with open(path, "rb") as f:
        head = f.read(4)
    if head[:2] not in (b"\x02\x00", b"\x08\x00"):
        raise ImageReadError(path, "not a DICOM file (no 'DICM' marker) and not an image Loupe reads")
    try:
        ds = pydicom.dcmread(path, force=True, defer_size="1 MB")
        ds.SOPClassUID  # noqa: B018 - touching an element parses enough to tell garbage apart
    except Exception as exc:
        raise ImageReadError(path, f"not a readable DICOM file ({exc})") from None
    return ds


def _check_pixel_data(path: Path, ds) -> tuple[int, int, int]:
    if "PixelData" not in ds and "FloatPixelData" not in ds and "DoubleFloatPixelData" not in ds:
        uid = ds.get("SOPClassUID")
        if uid is None:  # the dataset ends before its first attributes: cut short
            meta = getattr(ds, "file_meta", None)
            uid = meta.get("MediaStorageSOPClassUID") if meta is not None else None
            if uid is None or len(ds) == 0:
                raise ImageReadError(path, "DICOM file is truncated or damaged: it ends before "
                                     "its image attributes")
        name = str(getattr(uid, "name", uid)) if uid is not None else ""
        if "Image Storage" in name or "Rows" in ds:  # an image object that lost its pixels
            raise ImageReadError(path, f"DICOM {name or 'image'} has no pixel data: the file is "
                                 "truncated or damaged")
        kind = f" (it is a {name} object)" if name else ""
        raise ImageReadError(path, f"DICOM file has no pixel data{kind}")
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
    except (AttributeError, TypeError, ValueError):
        raise ImageReadError(path, "DICOM image lacks Rows/Columns") from None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    nbytes = rows * cols * frames * samples * max(int(ds.get("BitsAllocated", 8) or 8) // 8, 1)
    if rows * cols > MAX_FRAME_PIXELS or nbytes > MAX_TOTAL_BYTES:
        raise ImageReadError(
            path, f"declares {cols} x {rows} pixels x {frames} frames, far beyond any screen "
            "(refused as a possible decompression bomb)")
    tsyntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if tsyntax is not None and tsyntax.is_compressed:
        from pydicom.pixels import get_decoder

        try:
            decoder = get_decoder(tsyntax)
        except NotImplementedError:
            decoder = None
        if decoder is None or not decoder.is_available:
            raise ImageReadError(
                path, f"unsupported transfer syntax {tsyntax} ({getattr(tsyntax, 'name', 'unknown')}): "
                "no installed decoder reads it")
    return rows, cols, frames


def _windows(ds) -> list[Window]:
    centers, widths = ds.get("WindowCenter"), ds.get("WindowWidth")
    if centers is None or widths is None:
        return []

    def as_list(v):
        try:
            return [float(x) for x in v] if not isinstance(v, (int, float, str)) else [float(v)]
        except TypeError:
            return [float(v)]

    try:
        centers, widths = as_list(centers), as_list(widths)
    except (TypeError, ValueError):  # text that is no number at all
        return []
    names = ds.get("WindowCenterWidthExplanation")
    names = [] if names is None else ([str(n) for n in names] if not isinstance(names, str) else [names])
    out = []
    for i, (c, w) in enumerate(zip(centers, widths)):
        if not (math.isfinite(c) and math.isfinite(w)):  # NaN/inf: no window; the full range is used
            continue
        name = names[i] if i < len(names) and names[i].strip() else f"File preset {i + 1}"
        out.append(Window(c, max(w, 1.0), name))
    return out


def _modality(ds):
    """(function stored -> modality values, (slope, intercept) or None) from pydicom."""
    from pydicom.pixels import apply_modality_lut

    if "ModalityLUTSequence" in ds:
        return (lambda a: apply_modality_lut(a, ds)), None
    slope, intercept = _number(ds, "RescaleSlope", 1.0), _number(ds, "RescaleIntercept", 0.0)
    if slope == 0.0:
        slope = 1.0
    if slope == 1.0 and intercept == 0.0:
        return None, (1.0, 0.0)
    return (lambda a: apply_modality_lut(a, ds)), (slope, intercept)


def _number(ds, keyword: str, default: float) -> float:
    """A numeric attribute, or `default` when it is missing, not a number, NaN or infinite."""
    try:
        value = float(ds.get(keyword, default) or default)
    except (TypeError, ValueError):
        return default
    return value if math.isfinite(value) else default


def ignored_values(ds) -> str | None:
    """What the file declares that Loupe had to ignore (a NaN window, a NaN rescale), in words."""
    bad = []
    for keyword in ("WindowCenter", "WindowWidth", "RescaleSlope", "RescaleIntercept"):
        value = ds.get(keyword)
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
        try:
            finite = all(math.isfinite(float(v)) for v in values)
        except (TypeError, ValueError):
            finite = False
        if not finite:
            bad.append(f"{keyword} = {value}")
    return ("not usable numbers, ignored: " + ", ".join(bad)) if bad else None


def _voi_lut(ds):
    if "VOILUTSequence" not in ds:
        return None
    from pydicom.pixels import apply_voi

    item = ds.VOILUTSequence[0]
    bits = int(item.LUTDescriptor[2]) or 16

    def transfer(values):
        return apply_voi(values, ds).astype(np.float64) * (255.0 / (2**bits - 1))

    return transfer


def read_dicom(path: Path, facts: dict) -> LoupeImage:
    from .tags import dicom_tags

    ds = _open_dataset(path)
    rows, cols, n_frames = _check_pixel_data(path, ds)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = ds.pixel_array
    except MemoryError:
        raise ImageReadError(path, "too large to decode in the available memory") from None
    except NotImplementedError as exc:
        raise ImageReadError(path, f"unsupported pixel data encoding ({exc})") from None
    except Exception as exc:
        raise ImageReadError(path, f"pixel data cannot be decoded: damaged or truncated ({exc})") from None
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    frames = list(arr) if n_frames > 1 else [arr]
    photometric = str(ds.get("PhotometricInterpretation", "")).upper()
    if samples > 1:
        frames = [np.ascontiguousarray(f[..., :3]).astype(np.uint8, copy=False) if f.dtype == np.uint8
                  else _to_u8(f) for f in frames]
    modality, linear = _modality(ds) if samples == 1 else (None, (1.0, 0.0))
    tags = dicom_tags(ds)
    ds.pop("PixelData", None)
    tsyntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    facts.update({
        "Format": "DICOM",
        "Transfer syntax": getattr(tsyntax, "name", str(tsyntax)) if tsyntax else "unknown",
        "Modality": str(ds.get("Modality", "")),
        "Photometric": photometric,
        "Width": cols, "Height": rows, "Frames": n_frames,
        "Bits stored": int(ds.get("BitsStored", 0) or 0),
        "tags": tags,
    })
    ignored = ignored_values(ds)
    if ignored:
        facts["Ignored"] = ignored
    from desktop.core.phi import burned_in_warning

    warning = burned_in_warning(ds)
    if warning:
        facts["Burned-in text"] = warning
    return LoupeImage(
        path=path, raw_frames=[np.ascontiguousarray(f) for f in frames], n_frames=len(frames),
        meta=facts, windows=_windows(ds) if samples == 1 else [],
        monochrome1=photometric == "MONOCHROME1", modality=modality, linear=linear,
        voi_lut=_voi_lut(ds) if samples == 1 else None, dataset=ds,
    )


def _to_u8(frame: np.ndarray) -> np.ndarray:
    lo, hi = float(frame.min()), float(frame.max())
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return np.rint((frame[..., :3].astype(np.float64) - lo) * scale).astype(np.uint8)
