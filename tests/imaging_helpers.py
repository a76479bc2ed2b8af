"""Helpers for the imaging tests: references computed with pydicom, and bad files made on purpose."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


def pydicom_display_reference(path: Path) -> np.ndarray:
    """What the DICOM standard says the screen shows, computed with pydicom alone: modality LUT,
    then VOI (first window or VOI LUT), scaled from pydicom's output range to 0..255, and
    inverted for MONOCHROME1."""
    import pydicom
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    ds = pydicom.dcmread(path)
    modality = apply_modality_lut(ds.pixel_array, ds)
    if "WindowCenter" not in ds and "VOILUTSequence" not in ds:
        lo, hi = float(modality.min()), float(modality.max())
        out = (modality - lo) / max(hi - lo, 1.0) * 255.0
    else:
        voi = apply_voi_lut(modality, ds, index=0)
        bits = int(ds.BitsStored)
        y_min, y_max = (0, 2**bits - 1) if ds.PixelRepresentation == 0 else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        if "RescaleSlope" in ds:
            slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
            y_min, y_max = y_min * slope + intercept, y_max * slope + intercept
        out = (voi - y_min) / (y_max - y_min) * 255.0
    out = np.rint(np.clip(out, 0, 255))
    if ds.PhotometricInterpretation == "MONOCHROME1":
        out = 255 - out
    return out.astype(np.uint8)


def png_declaring(path: Path, width: int, height: int) -> Path:
    """A tiny PNG whose header declares width x height pixels (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def dicom_dataset(sop_class: str = "1.2.840.10008.5.1.4.1.1.7", transfer_syntax=None):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = transfer_syntax or ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientName = "Test^Patient"
    ds.PatientID = "T-1"
    return ds


def write_bad_inputs(folder: Path) -> dict[str, Path]:
    """Every kind of bad input of issue 2, keyed by what it is."""
    from pydicom.encaps import encapsulate

    from desktop.core.samples import write_samples

    folder.mkdir(parents=True, exist_ok=True)
    good = write_samples(folder / "good")
    out = {}
    out["empty"] = folder / "empty.png"
    out["empty"].write_bytes(b"")
    out["empty_dcm"] = folder / "empty.dcm"
    out["empty_dcm"].write_bytes(b"")
    data = good[6].read_bytes()  # the CT phantom
    out["truncated_dcm"] = folder / "truncated.dcm"
    out["truncated_dcm"].write_bytes(data[: len(data) // 2])
    out["truncated_header_dcm"] = folder / "truncated_header.dcm"
    out["truncated_header_dcm"].write_bytes(data[:300])
    png = good[0].read_bytes()
    out["truncated_png"] = folder / "truncated.png"
    out["truncated_png"].write_bytes(png[: len(png) // 2])
    rng = np.random.default_rng(0)
    out["random_dcm"] = folder / "random.dcm"
    out["random_dcm"].write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    out["random_png"] = folder / "random.png"
    out["random_png"].write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())

    sr = dicom_dataset("1.2.840.10008.5.1.4.1.1.88.33")  # Comprehensive SR: no pixels
    sr.Modality = "SR"
    out["no_pixels_dcm"] = folder / "report_sr.dcm"
    sr.save_as(out["no_pixels_dcm"], enforce_file_format=True)

    mpeg = dicom_dataset(transfer_syntax="1.2.840.10008.1.2.4.100")  # MPEG2 Main Profile
    mpeg.Rows, mpeg.Columns, mpeg.SamplesPerPixel = 16, 16, 1
    mpeg.BitsAllocated, mpeg.BitsStored, mpeg.HighBit, mpeg.PixelRepresentation = 8, 8, 7, 0
    mpeg.PhotometricInterpretation = "MONOCHROME2"
    mpeg.PixelData = encapsulate([b"\x00\x00\x01\xb3" + b"\x00" * 60])
    mpeg["PixelData"].VR = "OB"
    out["unsupported_syntax_dcm"] = folder / "mpeg2.dcm"
    mpeg.save_as(out["unsupported_syntax_dcm"], enforce_file_format=True)

    out["bomb_png"] = png_declaring(folder / "bomb.png", 100_000, 100_000)
    bomb = dicom_dataset()
    bomb.Rows, bomb.Columns, bomb.SamplesPerPixel = 60000, 60000, 1
    bomb.BitsAllocated, bomb.BitsStored, bomb.HighBit, bomb.PixelRepresentation = 16, 16, 15, 0
    bomb.PhotometricInterpretation = "MONOCHROME2"
    bomb.NumberOfFrames = 100
    bomb.PixelData = b"\x00" * 1024
    out["bomb_dcm"] = folder / "bomb.dcm"
    bomb.save_as(out["bomb_dcm"], enforce_file_format=True)
    return out


def tiff_of_pages(path: Path, pages: int) -> Path:
    """A TIFF of `pages` 1 x 1 grey pages, written directly (Pillow would take minutes to write
    200,000 pages): each page is one IFD of nine tags and one byte of pixels."""
    entries = [(256, 3, 1), (257, 3, 1), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, None), (277, 3, 1),
               (278, 3, 1), (279, 4, 1)]
    ifd_size = 2 + 12 * len(entries) + 4
    step = ifd_size + 2
    out = bytearray(b"II*\x00" + struct.pack("<I", 8))
    for p in range(pages):
        pos = 8 + p * step
        body = bytearray(struct.pack("<H", len(entries)))
        for tag, typ, val in entries:
            val = pos + ifd_size if val is None else val
            body += struct.pack("<HHIHH", tag, typ, 1, val, 0) if typ == 3 else struct.pack("<HHII", tag, typ, 1, val)
        body += struct.pack("<I", pos + step if p < pages - 1 else 0)
        out += body + b"\x80\x00"
    path.write_bytes(bytes(out))
    return path


def apng_declaring(path: Path, frames: int, size: int = 8) -> Path:
    """A PNG of size x size pixels whose animation control chunk declares `frames` frames."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    actl = struct.pack(">II", frames, 0)
    fctl = struct.pack(">IIIIIHHBB", 0, size, size, 0, 0, 1, 10, 0, 0)
    body = zlib.compress(b"\x00" * (size + 1) * size)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"acTL", actl) + chunk(b"fcTL", fctl)
                     + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def small_dicom(path: Path, modality: str = "CT", sop_class: str = "1.2.840.10008.5.1.4.1.1.2", **attrs) -> Path:
    """An 8 x 8 16-bit grey DICOM (CT Image Storage unless `sop_class`) with the keywords `attrs` set."""
    ds = dicom_dataset(sop_class)
    ds.Modality = modality
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 8, 8, 1
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = np.arange(64, dtype=np.uint16).tobytes()
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.save_as(path, enforce_file_format=True)
    return path
