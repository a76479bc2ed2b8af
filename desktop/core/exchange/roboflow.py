"""The Roboflow COCO layout that rfdetr trains on as it is: train/ valid/ test/, each with
`_annotations.coco.json` and its images.

The split is deterministic (seeded) and grouped: all images of one patient land in one split when
the patient is known (the store's patient key, a ChestX-ray14 file name, or a DICOM's PatientID).
Images get non-identifying names (`img000042.png`); DICOMs and images rfdetr cannot read as they are
(16-bit, TIFF) are written as 8-bit PNG through `desktop.core.imaging` with the chosen window.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from desktop.core.exchange.coco_export import coco_dict, selected_images, write_json_atomic
from desktop.core.exchange.errors import ExchangeError
from desktop.core.exchange.naming import export_name, record_mapping
from desktop.core.exchange.paths import path_problem
from desktop.core.exchange.progress import Created
from desktop.core.imaging.formats import has_dicom_marker
from desktop.core.store import AnnotationStore

SPLITS = ("train", "valid", "test")
_COPYABLE_MODES = {"L", "LA", "RGB", "RGBA", "P"}


def export_roboflow(store: AnnotationStore, folder, out_dir, split=(0.8, 0.1, 0.1), seed: int = 0,
                    only_reviewed: bool = True, window=None, group_by_patient: bool = True,
                    warnings: list | None = None, progress=None, created: Created | None = None) -> Path:
    """`warnings` (a list) receives one line per exported image whose pixels may show burned-in
    text (phi.burned_in_warning); each split's `_annotations.coco.json` lists them under
    info.burned_in_text as well. `progress(done, total, "images written")` is told as images are
    written; `created` (progress.Created) records the files made, for a cancel to take away."""
    created = created if created is not None else Created()
    folder, out = Path(folder), Path(out_dir)
    if len(split) != 3 or min(split) < 0 or sum(split) <= 0:
        raise ExchangeError(f"split must be three non-negative fractions (train, valid, test), not {split}")
    images = selected_images(store, only_reviewed)
    if not images:
        what = "reviewed images (mark images reviewed, or export all)" if only_reviewed else "images"
        raise ExchangeError(f"{folder}: no {what} to export")
    for _i, rel, _w, _h in images:
        refused = path_problem(rel)
        if refused:  # a path outside the folder (from an old import): never copy that file
            raise ExchangeError(f"{folder}: {refused}; nothing was exported")
    assignment = split_images(store, folder, images, split, seed, group_by_patient)
    all_names: dict[int, str] = {}
    done = 0
    if progress is not None:
        progress(0, len(images), "images written")
    for name in SPLITS:
        split_dir = created.mkdir(out / name)
        ids = [i for i, s in assignment.items() if s == name]
        wanted = set(ids)
        burned: list[str] = []
        names = {}
        for i, rel, _w, _h in images:
            if i in wanted:
                names[i], risk = _write_image(folder / rel, split_dir, i, window, created)
                done += 1
                if progress is not None:
                    progress(done, len(images), "images written")
                if risk:
                    burned.append(names[i])
                    if warnings is not None:
                        warnings.append(f"warning: {name}/{names[i]} may show the patient's name or ID in its "
                                        f"pixels: {risk}")
        data = coco_dict(store, image_ids=ids, file_names=names)
        if burned:
            data["info"]["burned_in_text"] = burned
        write_json_atomic(created.file(split_dir / "_annotations.coco.json"), data)
        all_names.update(names)
    record_mapping(store, all_names, {i: rel for i, rel, _w, _h in images})
    return out


def split_images(store, folder: Path, images, split, seed: int, group_by_patient: bool) -> dict[int, str]:
    """image id -> "train" | "valid" | "test", deterministic for a seed."""
    groups: dict[str, list[int]] = {}
    for image_id, rel, _w, _h in images:
        key = _patient(store, folder, image_id, rel) if group_by_patient else None
        groups.setdefault(key or f"image:{image_id}", []).append(image_id)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    total = sum(split)
    n = len(images)
    bounds = (n * split[0] / total, n * (split[0] + split[1]) / total)
    buckets: dict[str, list[str]] = {s: [] for s in SPLITS}
    done = 0
    for key in keys:
        target = "train" if done < bounds[0] else "valid" if done < bounds[1] else "test"
        buckets[target].append(key)
        done += len(groups[key])
    # every split asked for gets at least one group when there are enough groups
    for name, frac in zip(SPLITS, split):
        if frac > 0 and not buckets[name]:
            donor = max(SPLITS, key=lambda s: len(buckets[s]))
            if len(buckets[donor]) > 1:
                buckets[name].append(buckets[donor].pop())
    return {i: name for name in SPLITS for key in buckets[name] for i in groups[key]}


def _patient(store, folder: Path, image_id: int, rel: str) -> str | None:
    key = store.image(image_id).patient_key
    if key:
        return f"patient:{key}"
    path = folder / rel
    if _is_dicom(path):
        try:
            import pydicom

            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["PatientID"])
            pid = str(ds.get("PatientID", "") or "").strip()
            return f"patient:{pid}" if pid else None
        except Exception:
            return None
    return None


def _is_dicom(path: Path) -> bool:
    return path.suffix.lower() in (".dcm", ".dicom") or has_dicom_marker(path)


def _write_image(src: Path, split_dir: Path, image_id: int, window, created: Created) -> tuple[str, str | None]:
    """The exported name, and why its pixels may show burned-in text (None when nothing says so)."""
    if not src.exists():
        raise ExchangeError(f"{src}: image file not found; cannot export it")
    suffix = src.suffix.lower()
    if not _is_dicom(src) and suffix in (".jpg", ".jpeg", ".png"):
        from PIL import Image

        with Image.open(src) as im:
            copyable = im.mode in _COPYABLE_MODES
        if copyable:
            name = export_name(image_id, src.name)
            shutil.copyfile(src, created.file(split_dir / name))
            return name, None
    name = export_name(image_id, src.name, ".png")
    try:
        from desktop.core.imaging import read_image
    except ImportError as exc:
        raise ExchangeError(f"{src}: converting this image to PNG needs desktop.core.imaging") from exc
    from PIL import Image

    image = read_image(src)
    Image.fromarray(image.display(window)).save(created.file(split_dir / name))
    return name, image.meta.get("Burned-in text")
