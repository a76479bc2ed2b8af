"""Detection metrics: COCO mAP through pycocotools, and the tables the seed models' authors report.

- `map50`, `map50_95`, `map75` and per-class AP come from pycocotools' COCOeval, unchanged.
- Precision / recall at score thresholds (0.3, 0.5, 0.7: the Heartformer card's tables) and the
  per-box sensitivity use greedy matching at IoU >= 0.5 within a class, highest score first.
- Sensitivity / specificity three ways (docs/decisions/0087): per image (any finding vs none), per
  box (IoU >= 0.5), and the chest X-ray EfficientDet authors' protocol (their eval.py): one sample
  per ground-truth ROW (box), truly positive unless its class is one of `negative_classes` (their
  label 0, Atelectasis), called positive when its image's top detection scores above `cm_threshold`.
- The Heartformer card's tables (docs/decisions/0088): P/R/F1 at each threshold, per class at the
  card threshold (ground truth, predictions, precision, recall, average confidence), coverage
  (share of images with a detection at or above each threshold) and the share of correct detections
  whose IoU exceeds 0.75.
- The confusion matrix matches boxes across classes at IoU >= 0.5 (a "background" row and column
  hold missed boxes and false boxes). See docs/decisions/0060.
"""

from __future__ import annotations

import contextlib
import io
from collections import defaultdict

import numpy as np

from models.metrics.coco_io import coco_objects, normalise_gt, normalise_predictions, read_json

SCORE_THRESHOLDS = (0.3, 0.5, 0.7)
IOU = 0.5
TIGHT_IOU = 0.75
AUTHORS_NEGATIVE = ("Atelectasis",)  # the EfficientDet authors' CSV label 0: their negative rows


def load_coco_pair(gt_path, pred_path) -> tuple[dict, list[dict]]:
    gt = normalise_gt(read_json(gt_path, "ground-truth"), str(gt_path))
    pred = normalise_predictions(read_json(pred_path, "predictions"), gt, str(pred_path))
    return gt, pred


def _iou(dts: np.ndarray, gts: np.ndarray) -> np.ndarray:
    """IoU matrix (len(dts), len(gts)) of xywh boxes, by pycocotools."""
    from pycocotools import mask as mask_utils

    if len(dts) == 0 or len(gts) == 0:
        return np.zeros((len(dts), len(gts)))
    return np.asarray(mask_utils.iou(dts.tolist(), gts.tolist(), [0] * len(gts)), dtype=float).reshape(
        len(dts), len(gts))


def _greedy_match(dts: list[dict], gts: list[dict]) -> list[int]:
    """Indices into gts matched by each detection (-1 if none); detections sorted by score first."""
    return _greedy_match_iou(dts, gts)[0]


def _greedy_match_iou(dts: list[dict], gts: list[dict]) -> tuple[list[int], list[float]]:
    """(matched gt index or -1, IoU with it or 0.0) for each detection."""
    order = sorted(range(len(dts)), key=lambda i: -dts[i]["score"])
    ious = _iou(np.array([d["bbox"] for d in dts], float).reshape(-1, 4),
                np.array([g["bbox"] for g in gts], float).reshape(-1, 4))
    taken = np.zeros(len(gts), bool)
    match = [-1] * len(dts)
    got = [0.0] * len(dts)
    for i in order:
        if not len(gts):
            break
        cand = np.where(taken, -1.0, ious[i])
        j = int(np.argmax(cand))
        if cand[j] >= IOU:
            taken[j] = True
            match[i] = j
            got[i] = float(cand[j])
    return match, got


def _ratio(a: float, b: float) -> float | None:
    return float(a) / float(b) if b else None


def _counts_at(gt_by: dict, dt_by: dict, keys, thr: float) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for key in keys:
        gts = gt_by.get(key, [])
        dts = [d for d in dt_by.get(key, []) if d["score"] >= thr]
        m = _greedy_match(dts, gts)
        hit = sum(1 for j in m if j >= 0)
        tp += hit
        fp += len(dts) - hit
        fn += len(gts) - hit
    return tp, fp, fn


def _coco_eval(gt: dict, results: list[dict]):
    from pycocotools.cocoeval import COCOeval

    coco_gt, coco_dt = coco_objects(gt, results)
    if coco_dt is None:
        return None
    e = COCOeval(coco_gt, coco_dt, "bbox")
    with contextlib.redirect_stdout(io.StringIO()):
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e


def evaluate_detection(gt: dict, results: list[dict], cm_threshold: float = 0.3,
                       score_thresholds=SCORE_THRESHOLDS, negative_classes=AUTHORS_NEGATIVE,
                       table_threshold: float = 0.3) -> dict:
    """`gt`: a COCO dataset dict; `results`: a COCO results list (see `load_coco_pair`).

    `negative_classes`: class names whose ground-truth rows the authors' protocol counts as truly
    negative; `table_threshold`: the score of the per-class table and the IoU > 0.75 share."""
    gt = normalise_gt(gt)
    results = normalise_predictions(results, gt)
    cats = {c["id"]: c["name"] for c in gt["categories"]}
    gt_by, dt_by = defaultdict(list), defaultdict(list)
    for a in gt["annotations"]:
        if not a.get("iscrowd", 0):
            gt_by[(a["image_id"], a["category_id"])].append(a)
    for d in results:
        dt_by[(d["image_id"], d["category_id"])].append(d)
    used_cats = sorted({k[1] for k in gt_by} | {k[1] for k in dt_by})
    image_ids = [im["id"] for im in gt["images"]]
    keys = [(i, c) for i in image_ids for c in used_cats]

    e = _coco_eval(gt, results)
    stats = [float(s) for s in e.stats] if e is not None else [0.0] * 12
    out: dict = {
        "map50_95": max(stats[0], 0.0), "map50": max(stats[1], 0.0), "map75": max(stats[2], 0.0),
        "coco_stats": stats, "n_images": len(image_ids), "n_pred": len(results),
        "n_gt": sum(len(v) for v in gt_by.values()), "cm_threshold": cm_threshold,
    }

    per_class: dict = {}
    pr_curves: dict = {}
    for cid in used_cats:
        name = cats.get(cid, str(cid))
        entry: dict = {"category_id": cid, "n_gt": sum(len(gt_by.get((i, cid), [])) for i in image_ids),
                       "ap50_95": None, "ap50": None}
        if e is not None and cid in e.params.catIds:
            k = e.params.catIds.index(cid)
            p = e.eval["precision"][:, :, k, 0, -1]  # [T, R] at area "all", maxDets 100
            if (p > -1).any():
                entry["ap50_95"] = float(np.mean(p[p > -1]))
                p50 = p[0]
                entry["ap50"] = float(np.mean(p50[p50 > -1])) if (p50 > -1).any() else None
                pr_curves[name] = {"recall": [float(r) for r in e.params.recThrs],
                                   "precision": [max(float(v), 0.0) for v in p50]}
        for thr in score_thresholds:
            tp, fp, fn = _counts_at(gt_by, dt_by, [(i, cid) for i in image_ids], thr)
            entry[f"precision@{thr}"] = _ratio(tp, tp + fp)
            entry[f"recall@{thr}"] = _ratio(tp, tp + fn)
        kept = [d["score"] for i in image_ids for d in dt_by.get((i, cid), []) if d["score"] >= table_threshold]
        tp, fp, fn = _counts_at(gt_by, dt_by, [(i, cid) for i in image_ids], table_threshold)
        entry["at_table_threshold"] = {
            "threshold": table_threshold, "ground_truth": entry["n_gt"], "predictions": len(kept),
            "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
            "average_confidence": float(np.mean(kept)) if kept else None}
        per_class[name] = entry
    out["per_class"] = per_class
    out["pr_curves"] = pr_curves

    at = {}
    for thr in score_thresholds:
        tp, fp, fn = _counts_at(gt_by, dt_by, keys, thr)
        p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        at[str(thr)] = {"precision": p, "recall": r, "f1": _ratio(2 * tp, 2 * tp + fp + fn),
                        "tp": tp, "fp": fp, "fn": fn}
    out["at_threshold"] = at
    out["coverage"] = _coverage(image_ids, dt_by, score_thresholds)
    out["localization"] = _localization(keys, gt_by, dt_by, table_threshold)
    out["authors_rows"] = _authors_rows(gt_by, dt_by, cats, negative_classes, cm_threshold)
    out["per_image"] = _per_image(image_ids, gt_by, dt_by, cm_threshold)
    out["per_box"] = _per_box(keys, gt_by, dt_by, cm_threshold)
    out["confusion_matrix"] = _confusion(image_ids, used_cats, cats, gt_by, dt_by, cm_threshold)
    return out


def _sens_spec(tp, fp, tn, fn, thr) -> dict:
    return {"sensitivity": _ratio(tp, tp + fn), "specificity": _ratio(tn, tn + fp),
            "tp": tp, "fp": fp, "tn": tn, "fn": fn, "threshold": thr}


def _per_image(image_ids, gt_by, dt_by, thr) -> dict:
    has_gt, top = defaultdict(bool), defaultdict(float)
    for (i, _c), v in gt_by.items():
        has_gt[i] |= bool(v)
    for (i, _c), v in dt_by.items():
        top[i] = max([top[i]] + [d["score"] for d in v])
    tp = sum(1 for i in image_ids if has_gt[i] and top[i] > thr)
    fn = sum(1 for i in image_ids if has_gt[i] and not top[i] > thr)
    fp = sum(1 for i in image_ids if not has_gt[i] and top[i] > thr)
    tn = sum(1 for i in image_ids if not has_gt[i] and not top[i] > thr)
    return _sens_spec(tp, fp, tn, fn, thr)


def _coverage(image_ids, dt_by, thresholds) -> dict:
    """Share of the ground truth's images with at least one detection (any class) scoring >= t."""
    top: dict = defaultdict(lambda: -1.0)
    for (i, _c), v in dt_by.items():
        top[i] = max([top[i]] + [d["score"] for d in v])
    out = {}
    for t in thresholds:
        n = sum(1 for i in image_ids if top[i] >= t)
        out[str(t)] = {"images": n, "of": len(image_ids), "share": _ratio(n, len(image_ids))}
    return out


def _localization(keys, gt_by, dt_by, thr) -> dict:
    """Of the correct detections at `thr` (same class, IoU >= 0.5, greedy), the share with IoU > 0.75."""
    ious: list[float] = []
    for key in keys:
        dts = [d for d in dt_by.get(key, []) if d["score"] >= thr]
        match, got = _greedy_match_iou(dts, gt_by.get(key, []))
        ious += [v for j, v in zip(match, got) if j >= 0]
    tight = sum(1 for v in ious if v > TIGHT_IOU)
    return {"threshold": thr, "correct": len(ious), "iou_above_0.75": tight,
            "share_iou_above_0.75": _ratio(tight, len(ious)),
            "mean_iou": float(np.mean(ious)) if ious else None}


def _authors_rows(gt_by, dt_by, cats, negative_classes, thr) -> dict:
    """The chest X-ray EfficientDet authors' eval.py: one sample per ground-truth row (box); truth =
    its class is not a negative class (their `label > 0`); call = its image's top score > thr."""
    negative = set(negative_classes)
    top: dict = defaultdict(float)
    for (i, _c), v in dt_by.items():
        top[i] = max([top[i]] + [d["score"] for d in v])
    tp = fp = tn = fn = 0
    for (i, c), rows in gt_by.items():
        truth = cats.get(c, str(c)) not in negative
        called = top[i] > thr
        for _row in rows:
            tp += truth and called
            fn += truth and not called
            fp += (not truth) and called
            tn += (not truth) and not called
    out = _sens_spec(tp, fp, tn, fn, thr)
    out["negative_classes"] = sorted(negative)
    out["rows"] = tp + fp + tn + fn
    return out


def _per_box(keys, gt_by, dt_by, thr) -> dict:
    """Sensitivity: ground-truth boxes found (same class, IoU >= 0.5, score > thr). Specificity:
    (image, class) pairs without a ground-truth box that also get no box of that class."""
    tp = fn = tn = fp = 0
    for key in keys:
        gts = gt_by.get(key, [])
        dts = [d for d in dt_by.get(key, []) if d["score"] > thr]
        if gts:
            hit = sum(1 for j in _greedy_match(dts, gts) if j >= 0)
            tp += hit
            fn += len(gts) - hit
        elif dts:
            fp += 1
        else:
            tn += 1
    return _sens_spec(tp, fp, tn, fn, thr)


def _confusion(image_ids, used_cats, cats, gt_by, dt_by, thr) -> dict:
    idx = {c: n for n, c in enumerate(used_cats)}
    bg = len(used_cats)
    m = np.zeros((bg + 1, bg + 1), dtype=int)  # rows: true class, columns: predicted class
    for i in image_ids:
        gts = [g for c in used_cats for g in gt_by.get((i, c), [])]
        dts = [d for c in used_cats for d in dt_by.get((i, c), []) if d["score"] > thr]
        match = _greedy_match(dts, gts)
        for d, j in zip(dts, match):
            m[idx[gts[j]["category_id"]] if j >= 0 else bg, idx[d["category_id"]]] += 1
        matched = {j for j in match if j >= 0}
        for j, g in enumerate(gts):
            if j not in matched:
                m[idx[g["category_id"]], bg] += 1
    labels = [cats.get(c, str(c)) for c in used_cats] + ["background"]
    return {"labels": labels, "matrix": m.tolist(), "threshold": thr, "iou": IOU,
            "rows": "ground truth", "columns": "prediction"}
