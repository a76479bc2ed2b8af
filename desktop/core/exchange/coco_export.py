"""COCO export: the store's images, boxes and categories as a COCO detection file, and a COCO
results file (predictions with scores) for evaluation.

Image and category ids are the store's own (unique, from 1, stable between exports, so a results
file matches any ground-truth export); annotation ids are numbered 1..N in the file. bbox is
[x, y, w, h] in pixels, area = w * h, iscrowd 0; file names are non-identifying (`img000042.png`,
mapped back in `.loupe/export-names.csv`) unless the paths are kept on request (naming.py).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from pathlib import Path

from desktop.core.exchange.errors import ExchangeError
from desktop.core.store import AnnotationStore


def selected_images(store: AnnotationStore, only_reviewed: bool = False, image_ids=None) -> list[tuple]:
    """(id, rel_path, width, height) of the images an export covers, ordered by id."""
    where = " WHERE review_status = 'done'" if only_reviewed else ""
    rows = store.conn.execute(f"SELECT id, rel_path, width, height FROM images{where} ORDER BY id").fetchall()
    if image_ids is not None:
        keep = set(image_ids)
        rows = [r for r in rows if r[0] in keep]
    return rows


def box_rows(store: AnnotationStore, include_predictions: bool = False, predictions_only: bool = False):
    """(image_id, category_id, x, y, w, h, score, source) of the boxes to export, by image then id.
    A model's box counts as a person's answer once accepted or modified; unreviewed ones only
    when `include_predictions`."""
    if predictions_only:
        cond = "source = 'model'"
    elif include_predictions:
        cond = "1"
    else:
        cond = "state != 'unreviewed'"
    return store.conn.execute(
        f"SELECT image_id, category_id, x, y, w, h, score, source FROM boxes "
        f"WHERE deleted = 0 AND {cond} ORDER BY image_id, id").fetchall()


INFO = {"description": "Exported by Loupe", "version": "1"}


def coco_categories(store: AnnotationStore) -> list[dict]:
    return [{"id": c.id, "name": c.name, "supercategory": "none"} for c in store.categories()]


def coco_dict(store: AnnotationStore, *, only_reviewed: bool = False, include_predictions: bool = False,
              with_scores: bool = False, image_ids=None, file_names: dict[int, str] | None = None) -> dict:
    images = selected_images(store, only_reviewed, image_ids)
    wanted = {r[0] for r in images}
    out_images = [{"id": i, "file_name": (file_names or {}).get(i, rel), "width": w, "height": h}
                  for i, rel, w, h in images]
    annotations = []
    for image_id, cat, x, y, w, h, score, _src in box_rows(store, include_predictions):
        if image_id not in wanted:
            continue
        ann = {"id": len(annotations) + 1, "image_id": image_id, "category_id": cat,
               "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0, "segmentation": []}
        if with_scores and score is not None:
            ann["score"] = score
        annotations.append(ann)
    return {
        "info": dict(INFO),
        "licenses": [],
        "categories": coco_categories(store),
        "images": out_images,
        "annotations": annotations,
    }


def export_coco(store: AnnotationStore, out_path: str | Path, *, only_reviewed: bool = False,
                include_predictions: bool = False, with_scores: bool = False, keep_paths: bool = False,
                progress=None) -> Path:
    """Write the store as a COCO file at `out_path` (a directory gets `annotations.coco.json`);
    the text is that of `coco_dict`, built without a dict per box (coco_text). Images are named
    `img<id>` (naming.py) unless `keep_paths`, which writes their paths relative to the folder."""
    from desktop.core.exchange.coco_text import coco_text

    names = private_names(store, selected_images(store, only_reviewed), keep_paths)
    text = coco_text(store, only_reviewed=only_reviewed, include_predictions=include_predictions,
                     with_scores=with_scores, file_names=names, progress=progress)
    return write_text_atomic(_target(out_path, "annotations.coco.json"), text)


def private_names(store: AnnotationStore, images, keep_paths: bool) -> dict[int, str] | None:
    """image id -> non-identifying name, recorded in the mapping beside the store; None with
    `keep_paths` (the relative paths are written)."""
    from desktop.core.exchange.naming import export_names, record_mapping

    if keep_paths:
        return None
    names = export_names(images)
    record_mapping(store, names, {row[0]: row[1] for row in images})
    return names


def export_coco_results(store: AnnotationStore, out_path: str | Path, model: str | None = None,
                        progress=None) -> Path:
    """A COCO results file: every non-deleted model box (of `model`, when given) with its score."""
    from desktop.core.exchange.progress import counted

    cond, params = ("AND model = ?", (model,)) if model is not None else ("", ())
    rows = store.conn.execute(
        f"SELECT image_id, category_id, x, y, w, h, score FROM boxes WHERE deleted = 0 AND source = 'model' "
        f"{cond} ORDER BY image_id, id", params).fetchall()
    results = [{"image_id": i, "category_id": c, "bbox": [x, y, w, h], "score": 1.0 if s is None else s}
               for i, c, x, y, w, h, s in counted(rows, len(rows), progress, "boxes written", every=5000)]
    return write_json_atomic(_target(out_path, "results.coco.json"), results)


def write_json_atomic(path: Path, data) -> Path:
    """Write JSON to a temporary file beside `path`, then replace: a crash never leaves half a file."""
    return write_text_atomic(path, json.dumps(data, separators=(",", ":")))  # dumps: C encoder; dump is not


def write_text_atomic(path: Path, text: str) -> Path:
    """On failure (a read-only or full folder) the temporary file is removed and ExchangeError
    names the file and the reason."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ExchangeError(f"{path}: cannot write the export: {write_reason(exc)}") from None
    return path


def write_reason(exc: OSError) -> str:
    """An OSError of a write in words: the disk is full, the folder is read-only, ..."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if exc.errno in (errno.EROFS,):
        return "the folder is on a read-only disk"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "the folder is read-only or not writable by you"
    if exc.errno == errno.ENOTDIR:
        return "a file stands where a folder is needed"
    return exc.strerror or str(exc)


def _target(out_path: str | Path, default_name: str) -> Path:
    out = Path(out_path)
    return out / default_name if out.is_dir() or not out.suffix else out
