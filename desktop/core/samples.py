"""The sample folder, made by Loupe's own code (no third-party images): synthetic phantoms in
several formats so a new user sees the DICOM features at once.

    ensure_samples()        -> the folder in the user's data dir, generated on first use
    write_samples(folder)   -> writes every sample into `folder`, returns the paths
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

SAMPLE_NAMES = (
    "01_chest_phantom.png",
    "02_phantom_16bit.png",
    "03_photo_exif_rotated.jpg",
    "04_phantom_16bit.tif",
    "05_palette.bmp",
    "06_colour.webp",
    "07_ct_phantom_rescaled.dcm",
    "08_cr_monochrome1.dcm",
    "09_multiframe.dcm",
    "10_ct_phantom_rle.dcm",
)


def samples_dir() -> Path:
    override = os.environ.get("LOUPE_SAMPLES_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("Loupe", appauthor=False)) / "samples"


def ensure_samples(folder: str | os.PathLike | None = None) -> Path:
    """The sample folder, generated when any sample is missing."""
    folder = Path(folder) if folder is not None else samples_dir()
    if not all((folder / name).is_file() for name in SAMPLE_NAMES):
        write_samples(folder)
    return folder


# ----- synthetic content --------------------------------------------------------------------------
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    return (x - w / 2) / (w / 2), (y - h / 2) / (h / 2)


def _ellipse(x, y, cx, cy, rx, ry) -> np.ndarray:
    return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0


def ct_phantom_hu(size: int = 256, shift: float = 0.0) -> np.ndarray:
    """An axial chest-like slice in Hounsfield units: air, soft tissue, lungs, spine, ribs."""
    x, y = _grid(size, size)
    hu = np.full((size, size), -1000.0)
    hu[_ellipse(x, y, 0, 0, 0.85, 0.65)] = 40.0  # body
    hu[_ellipse(x, y, -0.4, -0.05, 0.3, 0.45)] = -820.0  # lungs
    hu[_ellipse(x, y, 0.4, -0.05, 0.3, 0.45)] = -820.0
    hu[_ellipse(x, y, 0.05 + shift, 0.1, 0.18, 0.2)] = 50.0  # heart
    hu[_ellipse(x, y, 0, 0.5, 0.1, 0.09)] = 700.0  # vertebra
    ring = _ellipse(x, y, 0, 0, 0.83, 0.63) & ~_ellipse(x, y, 0, 0, 0.79, 0.59)
    hu[ring & (np.abs(np.sin(np.arctan2(y, x) * 8)) > 0.6)] = 900.0  # ribs
    hu[_ellipse(x, y, -0.35, -0.2, 0.05, 0.05)] = -100.0  # a fatty nodule
    return hu


def chest_projection(size: int = 256) -> np.ndarray:
    """A radiograph-like projection in [0, 1] (1 = most attenuating)."""
    x, y = _grid(size, size)
    img = 0.55 * np.exp(-(x**2 / 0.8 + y**2 / 1.2))
    img[_ellipse(x, y, -0.38, -0.05, 0.3, 0.55)] *= 0.45
    img[_ellipse(x, y, 0.38, -0.05, 0.3, 0.55)] *= 0.45
    img += 0.35 * _ellipse(x, y, 0.08, 0.25, 0.25, 0.22)
    img += 0.4 * (np.abs(x) < 0.06) * (y > -0.9)
    for k in range(6):
        img += 0.12 * (np.abs(y + 0.6 - 0.22 * k - 0.15 * x**2) < 0.025) * (np.abs(x) < 0.75)
    return np.clip(img, 0, 1)


def _dicom(path: Path, pixels: np.ndarray, **attrs) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    sop_class = attrs.pop("SOPClassUID")
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[path.name, "sop"])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid(entropy_srcs=["loupe-samples-study"])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[path.name, "series"])
    ds.PatientName = "Phantom^Loupe"
    ds.PatientID = "LOUPE-0001"
    ds.PatientBirthDate = "19700101"
    ds.InstitutionName = "Loupe synthetic samples"
    ds.StudyDate = "20260101"
    ds.Manufacturer = "Loupe"
    ds.Rows, ds.Columns = pixels.shape[-2], pixels.shape[-1]
    ds.SamplesPerPixel = 1
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()
    ds.save_as(path, enforce_file_format=True)


def write_samples(folder: str | os.PathLike) -> list[Path]:
    """Write every sample into `folder` (created); returns their paths in SAMPLE_NAMES order."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in SAMPLE_NAMES]
    proj = chest_projection(512)

    Image.fromarray(np.rint(proj * 255).astype(np.uint8), mode="L").save(paths[0])
    # 16-bit PNG using 12 bits, as detectors write them
    Image.fromarray(np.rint(proj * 4095).astype(np.uint16)).save(paths[1])
    # JPEG stored landscape with EXIF orientation 6: shown upright (portrait) only when applied
    x, y = _grid(240, 320)
    rgb = np.dstack([np.rint(127 + 120 * x), np.rint(127 + 120 * y), np.full(x.shape, 160.0)])
    rgb[(np.abs(x + 0.6) < 0.15) & (np.abs(y + 0.6) < 0.2)] = (250, 250, 40)  # a marker at top-left
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(rgb.astype(np.uint8), mode="RGB").save(paths[2], quality=92, exif=exif)
    Image.fromarray(np.rint(proj[::-1] * 65535).astype(np.uint16)).save(paths[3], compression="tiff_lzw")
    pal = Image.fromarray(np.rint(proj * 255).astype(np.uint8), mode="L").convert("P", palette=Image.ADAPTIVE)
    pal.save(paths[4])
    Image.fromarray(rgb.astype(np.uint8)).save(paths[5], lossless=True)

    hu = ct_phantom_hu(256)
    common_ct = dict(SOPClassUID="1.2.840.10008.5.1.4.1.1.2", Modality="CT",
                     PhotometricInterpretation="MONOCHROME2", BitsStored=16, HighBit=15,
                     RescaleSlope=0.5, RescaleIntercept=-1024, RescaleType="HU",
                     WindowCenter=[40, -600, 400], WindowWidth=[400, 1500, 1800],
                     WindowCenterWidthExplanation=["Soft tissue", "Lung", "Bone"],
                     PixelSpacing=[1.2, 1.2], SliceThickness=2.5)
    stored = np.rint((hu + 1024) / 0.5).astype(np.int16)
    _dicom(paths[6], stored, **common_ct)

    cr = np.rint((1 - proj) * 1023).astype(np.uint16)  # MONOCHROME1: high values are dark
    _dicom(paths[7], cr, SOPClassUID="1.2.840.10008.5.1.4.1.1.1", Modality="CR",
           PhotometricInterpretation="MONOCHROME1", BitsStored=10, HighBit=9,
           WindowCenter=512, WindowWidth=1024, ViewPosition="PA", BodyPartExamined="CHEST")

    frames = np.stack([np.rint(ct_phantom_hu(128, shift=0.08 * np.sin(k * np.pi / 4)) + 1024).astype(np.uint16)
                       for k in range(8)])
    _dicom(paths[8], frames, SOPClassUID="1.2.840.10008.5.1.4.1.1.7.3", Modality="OT",
           PhotometricInterpretation="MONOCHROME2", BitsStored=12, HighBit=11,
           NumberOfFrames=len(frames), FrameIncrementPointer=0x00181063, FrameTime=100.0,
           RescaleSlope=1, RescaleIntercept=-1024)

    _dicom(paths[9], stored, **common_ct)
    from pydicom import dcmread
    from pydicom.uid import RLELossless

    ds = dcmread(paths[9])
    ds.compress(RLELossless)
    ds.save_as(paths[9], enforce_file_format=True)
    return paths
