"""Classification metrics: accuracy, per-class precision / recall / F1, confusion matrix, ROC and AUC
(one-vs-rest), and sensitivity / specificity of the positive class at a chosen threshold.

`probs` is (N, K) class probabilities, or (N,) probabilities of the positive class (binary; class 1).
"""

from __future__ import annotations

import numpy as np

from models.metrics.coco_io import MetricsInputError


def roc_curve(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds), thresholds descending; the first point is (0, 0) at +inf."""
    order = np.argsort(-score, kind="mergesort")
    s, yy = score[order], y[order].astype(bool)
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(yy)[distinct]
    fps = (distinct + 1) - tps
    p, n = yy.sum(), (~yy).sum()
    tpr = np.r_[0.0, tps / p] if p else np.full(len(tps) + 1, np.nan)
    fpr = np.r_[0.0, fps / n] if n else np.full(len(fps) + 1, np.nan)
    return fpr, tpr, np.r_[np.inf, s[distinct]]


def auc(fpr: np.ndarray, tpr: np.ndarray) -> float | None:
    if np.isnan(fpr).any() or np.isnan(tpr).any():
        return None  # one class absent: AUC undefined
    return float(np.trapezoid(tpr, fpr))


def _div(a, b) -> float | None:
    return float(a) / float(b) if b else None


def evaluate_classification(y_true, probs, class_names: list[str], threshold: float = 0.5,
                            positive: int = 1) -> dict:
    y = np.asarray(y_true, dtype=int)
    p = np.asarray(probs, dtype=float)
    k = len(class_names)
    if p.ndim == 1:
        if k != 2:
            raise MetricsInputError("one probability per image needs exactly two class names")
        p = np.stack([1.0 - p, p], axis=1)
    if p.shape != (len(y), k):
        raise MetricsInputError(f"probabilities have shape {p.shape}, expected ({len(y)}, {k})")
    if len(y) == 0:
        raise MetricsInputError("no images to evaluate")
    if y.min() < 0 or y.max() >= k:
        raise MetricsInputError(f"labels must lie in 0..{k - 1}")
    pred = np.where(p[:, positive] >= threshold, positive, 1 - positive) if k == 2 else p.argmax(1)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y, pred), 1)
    per_class, rocs = {}, {}
    for c, name in enumerate(class_names):
        tp = cm[c, c]
        prec, rec = _div(tp, cm[:, c].sum()), _div(tp, cm[c, :].sum())
        f1 = _div(2 * prec * rec, prec + rec) if prec is not None and rec is not None else None
        fpr, tpr, thr = roc_curve(y == c, p[:, c])
        rocs[name] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "auc": auc(fpr, tpr)}
        per_class[name] = {"precision": prec, "recall": rec, "f1": f1, "support": int(cm[c, :].sum()),
                           "auc": rocs[name]["auc"]}
    valid = [v for v in per_class.values() if v["f1"] is not None]
    aucs = [r["auc"] for r in rocs.values() if r["auc"] is not None]
    out = {
        "n": int(len(y)), "accuracy": float((pred == y).mean()), "class_names": list(class_names),
        "threshold": threshold,
        "precision": float(np.mean([v["precision"] or 0.0 for v in per_class.values()])),
        "recall": float(np.mean([v["recall"] or 0.0 for v in per_class.values()])),
        "f1": float(np.mean([v["f1"] for v in valid])) if valid else 0.0,
        "auc": (rocs[class_names[positive]]["auc"] if k == 2 else
                (float(np.mean(aucs)) if aucs else None)),
        "per_class": per_class, "roc": rocs,
        "confusion_matrix": {"labels": list(class_names), "matrix": cm.tolist(),
                             "rows": "ground truth", "columns": "prediction"},
    }
    if k == 2:
        neg = 1 - positive
        tp, fn = cm[positive, positive], cm[positive, neg]
        tn, fp = cm[neg, neg], cm[neg, positive]
        out["sensitivity"] = _div(tp, tp + fn)
        out["specificity"] = _div(tn, tn + fp)
    return out


# -- the authors' protocols ----------------------------------------------------------------------
PROTOCOLS = {
    "authors": "TemporalGradCam's AUC: the ROC of the raw logit of the last class (logits[:, -1]), for "
               "single-image and temporal models alike; the class is the argmax of the logits",
}


def looks_like_probabilities(scores) -> bool:
    """True when every row lies in [0, 1] and sums to 1 (or is one value in [0, 1]): such a file holds
    probabilities, not the raw logits the authors' AUC ranks by."""
    s = np.asarray(scores, dtype=float)
    if s.size == 0 or s.min() < 0 or s.max() > 1:
        return False
    return s.shape[1] == 1 or bool(np.allclose(s.sum(1), 1.0, atol=1e-4))


def probabilities_from_logits(logits) -> np.ndarray:
    """Softmax over the logits (sigmoid of a single logit, as (1 - p, p))."""
    z = np.asarray(logits, dtype=float)
    if z.shape[1] == 1:
        p = 1.0 / (1.0 + np.exp(-z[:, 0]))
        return np.stack([1.0 - p, p], axis=1)
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def authors_auc(y_true, logits, class_names: list[str]) -> dict:
    """TemporalGradCam's AUC: positives are the last class, ranked by the raw last logit (their
    `roc_auc_score(labels, logits[:, -1])`), not by a probability."""
    y = np.asarray(y_true, dtype=int)
    z = np.asarray(logits, dtype=float)
    positive = len(class_names) - 1
    fpr, tpr, _ = roc_curve(y == positive, z[:, -1])
    return {"protocol": "authors", "description": PROTOCOLS["authors"], "positive": class_names[positive],
            "auc": auc(fpr, tpr), "roc": {"fpr": fpr.tolist(), "tpr": tpr.tolist()}}


def evaluate_logits(y_true, logits, class_names: list[str], threshold: float = 0.5, positive: int = 1) -> dict:
    """Loupe's metrics on the softmax of `logits` (argmax class for two classes at 0.5), plus the
    authors' AUC over the raw last logit under `"authors"`."""
    z = np.asarray(logits, dtype=float)
    if z.ndim != 2 or z.shape[0] != len(np.asarray(y_true)):
        raise MetricsInputError(f"logits have shape {z.shape}, expected ({len(np.asarray(y_true))}, K)")
    out = evaluate_classification(y_true, probabilities_from_logits(z), class_names, threshold, positive)
    out["authors"] = authors_auc(y_true, z, class_names)
    return out
