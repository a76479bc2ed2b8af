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


def planted_quiz_examples() -> list[dict]:
    """Learner answers worked out by hand (the greedy-vs-optimal pair, two labels with a false mark,
    a miss and a wrong label, marks on the second image of a case, an IoU of exactly 0.5, no
    diagnosis), then 150 random ones: [{expert, learner, dx_expected, dx_given}] as the page holds
    them. Python's score_case and the page's scoreCase must give the same for every one."""
    import random

    def strip(label, x0, x1, image=0):
        return {"label": label, "x": x0, "y": 0, "w": x1 - x0, "h": 10, "image": image}

    out = [
        {"expert": [strip("Nodule", 10, 20), strip("Nodule", 13, 23)],
         "learner": [strip("Nodule", 11, 21), strip("Nodule", 8, 18)], "dx_expected": "", "dx_given": ""},
        {"expert": [strip("Nodule", 10, 20), strip("Nodule", 13, 23),
                    {"label": "Mass", "x": 100, "y": 100, "w": 20, "h": 20, "image": 0},
                    {"label": "Effusion", "x": 200, "y": 0, "w": 30, "h": 30, "image": 0}],
         "learner": [strip("Nodule", 11, 21), strip("Nodule", 8, 18),
                     {"label": "Mass", "x": 105, "y": 100, "w": 20, "h": 20, "image": 0},
                     {"label": "Mass", "x": 300, "y": 300, "w": 10, "h": 10, "image": 0},
                     {"label": "Mass", "x": 200, "y": 0, "w": 30, "h": 30, "image": 0}],
         "dx_expected": "Metastases", "dx_given": "  metastases "},
        {"expert": [strip("Nodule", 0, 10, image=1)], "learner": [strip("Nodule", 0, 10, image=0)],
         "dx_expected": "Pneumothorax", "dx_given": "Pneumonia"},
        {"expert": [{"label": "Mass", "x": 0, "y": 0, "w": 10, "h": 10, "image": 0}],
         "learner": [{"label": "Mass", "x": 0, "y": 0, "w": 10, "h": 20, "image": 0}],  # IoU exactly 0.5
         "dx_expected": "Lung   abscess", "dx_given": "lung abscess"},
    ]
    rng = random.Random(20261202)
    labels = ["Nodule", "Mass", "Effusion"]
    dxs = ["Pneumothorax", "pneumothorax ", "Pneumonia", ""]
    for _ in range(150):
        def box():
            x, y = rng.uniform(0, 60), rng.uniform(0, 60)
            return {"label": rng.choice(labels), "x": round(x, 1), "y": round(y, 1), "w": round(rng.uniform(4, 40), 1),
                    "h": round(rng.uniform(4, 40), 1), "image": rng.choice([0, 0, 1])}
        expert = [box() for _ in range(rng.randint(0, 6))]
        learner = [dict(e, x=round(e["x"] + rng.uniform(-6, 6), 1), y=round(e["y"] + rng.uniform(-6, 6), 1))
                   for e in expert if rng.random() < 0.8] + [box() for _ in range(rng.randint(0, 3))]
        rng.shuffle(learner)
        out.append({"expert": expert, "learner": learner, "dx_expected": rng.choice(dxs), "dx_given": rng.choice(dxs)})
    return out


def python_score(example: dict) -> dict:
    """desktop.core.teaching.score_case of an example, as the page's JSON would hold it."""
    from desktop.core.teaching import Mark, score_case

    def marks(items):
        return [Mark(m["label"], m["x"], m["y"], m["w"], m["h"], m.get("image", 0)) for m in items]

    return score_case(marks(example["expert"]), marks(example["learner"]), example["dx_expected"],
                      example["dx_given"]).to_dict()


def same_score(js: dict, py: dict) -> list[str]:
    """The differences between a score from the page and one from Python (IoUs to 1e-9)."""
    import math

    def close(a, b):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, abs_tol=1e-9)

    out = []
    for key in ("expert_boxes", "learner_marks", "hits", "misses", "false_marks", "diagnosis_correct"):
        if js[key] != py[key]:
            out.append(f"{key}: page {js[key]!r}, python {py[key]!r}")
    if not close(js["mean_iou"], py["mean_iou"]):
        out.append(f"mean_iou: page {js['mean_iou']!r}, python {py['mean_iou']!r}")
    if [p[:2] for p in js["pairs"]] != [p[:2] for p in py["pairs"]]:
        out.append(f"pairs: page {js['pairs']}, python {py['pairs']}")
    if sorted(js["per_label"]) != sorted(py["per_label"]):
        out.append(f"labels: page {sorted(js['per_label'])}, python {sorted(py['per_label'])}")
    else:
        for label, t in py["per_label"].items():
            j = js["per_label"][label]
            for key in ("expert", "learner", "hits", "misses", "false_marks"):
                if j[key] != t[key]:
                    out.append(f"{label}.{key}: page {j[key]}, python {t[key]}")
    return out
