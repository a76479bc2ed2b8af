"""Image-level labelled data for classifier training: an ImageFolder (`<split>/<class>/*.png`, or
`<class>/*.png` split deterministically) or a COCO export whose images carry one class each (the
category of their annotations, or an image's own `label` / `category_id`)."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from models.training.outputs import TrainingInputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
SPLIT_NAMES = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}


def _split_dir(root: Path, split: str) -> Path | None:
    for name in SPLIT_NAMES[split]:
        if (root / name).is_dir():
            return root / name
    return None


def _image_folder(folder: Path) -> list[tuple[Path, str]]:
    items = []
    for cls in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        items += [(f, cls.name) for f in sorted(cls.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    return items


def _coco_labels(folder: Path) -> list[tuple[Path, str]]:
    ann = folder / "_annotations.coco.json"
    try:
        d = json.loads(ann.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TrainingInputError(f"{ann}: cannot read the COCO file ({exc})") from None
    cats = {c["id"]: c["name"] for c in d.get("categories", [])}
    per_image: dict = {}
    for a in d.get("annotations", []):
        per_image.setdefault(a["image_id"], Counter())[a["category_id"]] += 1
    items = []
    for im in d.get("images", []):
        cid = im.get("category_id")
        label = im.get("label") or (cats.get(cid) if cid is not None else None)
        if label is None and im["id"] in per_image:
            label = cats.get(per_image[im["id"]].most_common(1)[0][0])
        if label is not None:
            items.append((folder / im["file_name"], str(label)))
    return items


def _read_split(folder: Path) -> list[tuple[Path, str]]:
    if (folder / "_annotations.coco.json").is_file():
        return _coco_labels(folder)
    return _image_folder(folder)


def load_splits(root, seed: int = 0, split=(0.8, 0.1, 0.1)) -> dict[str, list[tuple[Path, str]]]:
    """{"train": [(path, class name)], "val": [...], "test": [...]}; test may be empty."""
    root = Path(root)
    if not root.is_dir():
        raise TrainingInputError(f"{root}: data folder not found")
    if _split_dir(root, "train"):
        out = {s: (_read_split(d) if (d := _split_dir(root, s)) else []) for s in SPLIT_NAMES}
    else:
        items = _read_split(root)
        rng = random.Random(seed)
        by_class: dict[str, list] = {}
        for it in items:
            by_class.setdefault(it[1], []).append(it)
        out = {"train": [], "val": [], "test": []}
        for cls_items in by_class.values():  # stratified: every class in every split when possible
            rng.shuffle(cls_items)
            n = len(cls_items)
            n_val = max(1, round(n * split[1])) if n >= 3 else 0
            n_test = max(1, round(n * split[2])) if n >= 3 and split[2] > 0 else 0
            out["val"] += cls_items[:n_val]
            out["test"] += cls_items[n_val:n_val + n_test]
            out["train"] += cls_items[n_val + n_test:]
    if not out["train"]:
        raise TrainingInputError(f"{root}: no labelled training images (expected train/<class>/*.png, "
                                 "<class>/*.png, or a COCO file with image labels)")
    if not out["val"]:
        raise TrainingInputError(f"{root}: no validation images (a val/ or valid/ folder, or more images per class)")
    return out
