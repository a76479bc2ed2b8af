"""A folder of films with patient data planted everywhere a teaching set could leak it: DICOM
tags (name, ID, birth date, institution, referring physician, accession, study date, a private
tag), folder and file names, a PNG text chunk; and a case text that tries to run a script."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# every string that must never appear in the output (case-sensitive, byte for byte)
PLANTED = {
    "PatientName": "Doeberg^Janetta",
    "family name": "Doeberg",
    "given name": "Janetta",
    "PatientID": "PID938271",
    "PatientBirthDate": "19610417",
    "InstitutionName": "St Elsewhere General",
    "ReferringPhysicianName": "Quincyfield",
    "AccessionNumber": "ACC55501",
    "StudyDate": "20240301",
    "private tag": "JANETTA-PRIVATE-7731",
    "PNG text": "Patient Janetta Doeberg born 1961",
    "folder name": "Doeberg_Janetta_PID938271",
}
HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">&amp; "quotes"'


def phi_dataset(modality: str, sop_class: str, rows: int, cols: int):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientName = PLANTED["PatientName"]
    ds.PatientID = PLANTED["PatientID"]
    ds.PatientBirthDate = PLANTED["PatientBirthDate"]
    ds.InstitutionName = PLANTED["InstitutionName"]
    ds.ReferringPhysicianName = PLANTED["ReferringPhysicianName"] + "^Doctor"
    ds.AccessionNumber = PLANTED["AccessionNumber"]
    ds.StudyDate = PLANTED["StudyDate"]
    block = ds.private_block(0x0011, "ACME PRIVATE", create=True)
    block.add_new(0x01, "LO", PLANTED["private tag"])
    ds.Modality = modality
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    return ds


def ct_film(path: Path, rows: int = 96, cols: int = 128) -> Path:
    """A 16-bit CT (rescale -1024) with two window presets: mediastinum, then lung."""
    ds = phi_dataset("CT", "1.2.840.10008.5.1.4.1.1.2", rows, cols)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 1, -1024, "HU"
    ds.WindowCenter, ds.WindowWidth = [40, -600], [400, 1500]
    ds.WindowCenterWidthExplanation = ["MEDIASTINUM", "LUNG"]
    yy, xx = np.mgrid[0:rows, 0:cols]
    hu = np.full((rows, cols), -850.0)  # lung
    hu[(yy - rows / 2) ** 2 / (rows / 2.4) ** 2 + (xx - cols / 2) ** 2 / (cols / 2.4) ** 2 > 1] = 40  # soft tissue
    hu[(yy - 30) ** 2 + (xx - 40) ** 2 < 64] = 60  # a nodule
    ds.PixelData = (hu + 1024).astype(np.uint16).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def us_film(path: Path, rows: int = 64, cols: int = 80) -> Path:
    """An 8-bit ultrasound frame: burned-in text is common in such images (decision 0117)."""
    ds = phi_dataset("US", "1.2.840.10008.5.1.4.1.1.6.1", rows, cols)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = (np.arange(rows * cols) % 251).astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def png_with_text(path: Path, width: int = 72, height: int = 60) -> Path:
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", PLANTED["PNG text"])
    info.add_itxt("Author", PLANTED["PatientName"])
    rng = np.random.default_rng(3)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 255, (height, width), dtype=np.uint8)).save(path, pnginfo=info)
    return path


def phi_folder(root: Path) -> Path:
    """root/films: a CT and an ultrasound in a folder named after the patient, and a PNG whose name
    and text chunk name her; the CT has a nodule box, the PNG a caption with hostile HTML."""
    from desktop.core.store import open_store

    folder = root / "films"
    patient = folder / PLANTED["folder name"]
    ct = ct_film(patient / f"{PLANTED['family name']}_{PLANTED['given name']}_CT.dcm")
    us = us_film(patient / "US_0001.dcm")
    png = png_with_text(folder / f"{PLANTED['given name']}_{PLANTED['family name']}_xray.png")
    with open_store(folder) as store:
        store.set_label_set(["Nodule", "Effusion"])
        ct_id = store.ensure_image(ct.relative_to(folder).as_posix(), 128, 96)
        store.add_box(ct_id, "Nodule", 31, 21, 18, 18)
        store.ensure_image(us.relative_to(folder).as_posix(), 80, 64)
        png_id = store.ensure_image(png.relative_to(folder).as_posix(), 72, 60)
        store.set_caption(png_id, HOSTILE)
    return folder


def png_chunks(data: bytes) -> list[str]:
    """The chunk types of a PNG, read as the PNG specification lays them out (length, type, data,
    CRC after the 8-byte signature)."""
    import struct

    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        out.append(data[pos + 4:pos + 8].decode("ascii"))
        pos += 12 + length
    return out
