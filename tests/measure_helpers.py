"""Test DICOMs of known geometry for the viewer tools (built with pydicom)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.imaging_helpers import dicom_dataset

CT = "1.2.840.10008.5.1.4.1.1.2"
DX = "1.2.840.10008.5.1.4.1.1.1.1"
US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"


def geometry_dicom(path: Path, *, rows: int = 200, cols: int = 200, modality: str = "CT", sop_class: str = CT,
                   pixels: np.ndarray | None = None, frames: int = 1, **attrs) -> Path:
    """A 16-bit grey DICOM (signed) of rows x cols (x frames) with the keywords `attrs` set;
    pixels default to a ramp (value = row * cols + col, modulo 4096) in every frame."""
    ds = dicom_dataset(sop_class)
    ds.Modality = modality
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, 1
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    if pixels is None:
        one = (np.arange(rows * cols, dtype=np.int64).reshape(rows, cols) % 4096).astype(np.int16)
        pixels = np.stack([one + 7 * k for k in range(frames)]) if frames > 1 else one
    pixels = np.asarray(pixels, dtype=np.int16)
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.save_as(path, enforce_file_format=True)
    return path
