"""Read ground truth and predictions as pycocotools objects, with clear errors for bad files.

Predictions may be a COCO results list (`[{image_id, category_id, bbox, score}]`) or a COCO
dataset (`{"images", "annotations", "categories"}`, e.g. ground truth fed back, or another tool's
export): images are then matched to the ground truth by file name and categories by name, and a
missing `score` counts as 1.0.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path, PurePath
from typing import Any

from models.errors import LoupeError


class MetricsInputError(LoupeError):
    """A ground-truth or prediction file cannot be evaluated."""


def read_json(path, what: str) -> Any:
    p = Path(path)
    try:
        with p.open(encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise MetricsInputError(f"{p}: {what} file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MetricsInputError(f"{p}: {what} file is not valid JSON ({exc})") from None
    except OSError as exc:
        raise MetricsInputError(f"{p}: cannot read the {what} file ({exc.strerror})") from None


def normalise_gt(gt: dict, source: str = "ground truth") -> dict:
    if not isinstance(gt, dict) or "images" not in gt or "annotations" not in gt:
        raise MetricsInputError(f"{source}: not a COCO dataset (needs 'images', 'annotations', 'categories')")
    gt = copy.deepcopy(gt)
    gt.setdefault("categories", [])
    gt.setdefault("info", {})
    known = {c["id"] for c in gt["categories"]}
    # pycocotools records a match by the ground-truth annotation's id and treats id 0 as "no match",
    # so a Roboflow export (ids from 0) would lose a box: number the annotations from 1.
    for i, a in enumerate(gt["annotations"]):
        if "bbox" not in a or len(a["bbox"]) != 4:
            raise MetricsInputError(f"{source}: annotation {i} has no 4-number 'bbox'")
        if "image_id" not in a or "category_id" not in a:
            raise MetricsInputError(f"{source}: annotation {i} lacks image_id or category_id")
        a["id"] = i + 1
        a.setdefault("iscrowd", 0)
        a.setdefault("area", float(a["bbox"][2]) * float(a["bbox"][3]))
        if a["category_id"] not in known:
            gt["categories"].append({"id": a["category_id"], "name": str(a["category_id"])})
            known.add(a["category_id"])
    return gt


def _basename(name: str) -> str:
    return PurePath(str(name).replace("\\", "/")).name


def normalise_predictions(pred: Any, gt: dict, source: str = "predictions") -> list[dict]:
    """-> a COCO results list whose image and category ids are the ground truth's."""
    if isinstance(pred, dict) and "annotations" in pred:
        img_ids = {im["id"]: im for im in pred.get("images", [])}
        gt_by_name = {_basename(im["file_name"]): im["id"] for im in gt["images"]}
        gt_ids = {im["id"] for im in gt["images"]}
        cat_names = {c["id"]: c["name"] for c in pred.get("categories", [])}
        gt_cat = {c["name"]: c["id"] for c in gt["categories"]}
        out = []
        for a in pred["annotations"]:
            image_id = a["image_id"]
            if image_id in img_ids and "file_name" in img_ids[image_id]:
                image_id = gt_by_name.get(_basename(img_ids[image_id]["file_name"]), None)
            elif image_id not in gt_ids:
                image_id = None
            if image_id is None:
                continue  # an image the ground truth does not have
            cat = a["category_id"]
            if cat in cat_names and cat_names[cat] in gt_cat:
                cat = gt_cat[cat_names[cat]]
            out.append({"image_id": image_id, "category_id": cat, "bbox": list(a["bbox"]),
                        "score": float(a.get("score", 1.0))})
        return out
    if not isinstance(pred, list):
        raise MetricsInputError(f"{source}: expected a COCO results list or a COCO dataset")
    out = []
    for i, d in enumerate(pred):
        try:
            out.append({"image_id": d["image_id"], "category_id": d["category_id"],
                        "bbox": [float(v) for v in d["bbox"]], "score": float(d.get("score", 1.0))})
        except (KeyError, TypeError, ValueError):
            raise MetricsInputError(
                f"{source}: entry {i} lacks image_id, category_id or a 4-number bbox") from None
    return out


def coco_objects(gt: dict, results: list[dict]):
    """-> (COCO ground truth, COCO detections or None when there are none)."""
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(results)) if results else None
    return coco_gt, coco_dt
