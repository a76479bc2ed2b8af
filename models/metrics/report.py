"""A one-file HTML report of detection or classification metrics (plots embedded as base64 PNGs),
readable in a browser and in the app's QTextBrowser."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return f'<img src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _fmt(v) -> str:
    if v is None:
        return "–"
    return f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))


def _table(header: list[str], rows: list[list]) -> str:
    h = "".join(f"<th>{c}</th>" for c in header)  # headers are the report's own text (may hold entities)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table border='1' cellspacing='0' cellpadding='3'><tr>{h}</tr>{body}</table>"


def _confusion_png(cm: dict) -> str:
    import numpy as np
    from matplotlib.figure import Figure

    m = np.asarray(cm["matrix"])
    n = len(cm["labels"])
    fig = Figure(figsize=(1.2 + 0.6 * n, 1.0 + 0.6 * n))
    ax = fig.subplots()
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(n), cm["labels"], rotation=45, ha="right")
    ax.set_yticks(range(n), cm["labels"])
    ax.set_xlabel(cm.get("columns", "prediction"))
    ax.set_ylabel(cm.get("rows", "ground truth"))
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(m[i, j]), ha="center", va="center",
                    color="white" if m[i, j] > m.max() / 2 else "black")
    return _png(fig)


def _curves_png(curves: dict, xkey: str, ykey: str, xlabel: str, ylabel: str, diagonal=False) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 4))
    ax = fig.subplots()
    for name, c in curves.items():
        ax.plot(c[xkey], c[ykey], label=name)
    if diagonal:
        ax.plot([0, 1], [0, 1], "k--", lw=0.7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    if curves:
        ax.legend(fontsize=8)
    return _png(fig)


def _history_png(history: list[dict]) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.2))
    ax = fig.subplots()
    for key in ("train_loss", "val_loss", "map50", "auc", "accuracy"):
        pts = [(h["epoch"], h[key]) for h in history if h.get(key) is not None]
        if pts:
            ax.plot(*zip(*pts), marker="o", label=key)
    ax.set_xlabel("epoch")
    ax.legend(fontsize=8)
    return _png(fig)


def _sens_row(label: str, d: dict) -> list:
    return [label, d["sensitivity"], d["specificity"], d["tp"], d["fp"], d["tn"], d["fn"]]


def detection_html(m: dict) -> str:
    parts = [f"<h2>Detection</h2><p>{m['n_images']} images, {m['n_gt']} ground-truth boxes, "
             f"{m['n_pred']} predicted boxes.</p>",
             _table(["mAP@50", "mAP@50-95", "mAP@75"], [[m["map50"], m["map50_95"], m["map75"]]])]
    thr = list(m["at_threshold"])
    parts += ["<h3>Precision, recall and F1 by score threshold (IoU 0.5)</h3>", _table(
        ["score &ge;", "precision", "recall", "F1", "TP", "FP", "FN"],
        [[t, a["precision"], a["recall"], a.get("f1"), a["tp"], a["fp"], a["fn"]]
         for t, a in m["at_threshold"].items()])]
    rows = [[name, c["n_gt"], c["ap50"], c["ap50_95"]] + [c[f"{k}@{t}"] for t in thr
                                                        for k in ("precision", "recall")]
            for name, c in m["per_class"].items()]
    rows.append(["all", m["n_gt"], m["map50"], m["map50_95"]] +
                [m["at_threshold"][t][k] for t in thr for k in ("precision", "recall")])
    parts += ["<h3>Per class</h3>", _table(
        ["class", "boxes", "AP50", "AP50-95"] + [f"{k[0].upper()}@{t}" for t in thr for k in ("P", "R")],
        rows)]
    tables = [(n, c["at_table_threshold"]) for n, c in m["per_class"].items() if "at_table_threshold" in c]
    if tables:
        t = tables[0][1]["threshold"]
        parts += [f"<h3>Per class at score &ge; {t}</h3>", _table(
            ["class", "ground truth", "predictions", "precision", "recall", "average confidence"],
            [[n, c["ground_truth"], c["predictions"], c["precision"], c["recall"], c["average_confidence"]]
             for n, c in tables])]
    if "coverage" in m:
        parts += ["<h3>Coverage: images with a detection at or above the score</h3>", _table(
            ["score &ge;", "images", "of", "share"],
            [[t, c["images"], c["of"], c["share"]] for t, c in m["coverage"].items()])]
    if "localization" in m:
        loc = m["localization"]
        parts += [f"<h3>Localisation of correct detections (score &ge; {loc['threshold']})</h3>", _table(
            ["correct detections", "IoU &gt; 0.75", "share IoU &gt; 0.75", "mean IoU"],
            [[loc["correct"], loc["iou_above_0.75"], loc["share_iou_above_0.75"], loc["mean_iou"]]])]
    pi, pb = m["per_image"], m["per_box"]
    sens = [_sens_row("per image (any finding vs none; top score)", pi),
            _sens_row("per box (same class, IoU 0.5)", pb)]
    if "authors_rows" in m:
        ar = m["authors_rows"]
        neg = ", ".join(ar["negative_classes"]) or "none"
        sens.append(_sens_row(f"the EfficientDet authors' protocol (per CSV row; negative rows: {neg}; "
                              "call: the image's top score)", ar))
    parts += [f"<h3>Sensitivity and specificity (score &gt; {m['cm_threshold']})</h3>", _table(
        ["definition", "sensitivity", "specificity", "TP", "FP", "TN", "FN"], sens)]
    parts += ["<h3>Confusion matrix (IoU 0.5)</h3>", _confusion_png(m["confusion_matrix"]),
              "<h3>Precision-recall at IoU 0.5</h3>",
              _curves_png(m["pr_curves"], "recall", "precision", "recall", "precision")]
    return "\n".join(parts)


def classification_html(m: dict) -> str:
    rows = [[n, c["support"], c["precision"], c["recall"], c["f1"], c["auc"]]
            for n, c in m["per_class"].items()]
    parts = [f"<h2>Classification</h2><p>{m['n']} images.</p>",
             _table(["accuracy", "precision", "recall", "F1", "AUC", "sensitivity", "specificity"],
                    [[m["accuracy"], m["precision"], m["recall"], m["f1"], m["auc"],
                      m.get("sensitivity"), m.get("specificity")]]),
             "<h3>Per class</h3>", _table(["class", "images", "precision", "recall", "F1", "AUC"], rows),
             "<h3>Confusion matrix</h3>", _confusion_png(m["confusion_matrix"]),
             "<h3>ROC</h3>", _curves_png(m["roc"], "fpr", "tpr", "false positive rate",
                                          "true positive rate", diagonal=True)]
    return "\n".join(parts)


def render_report(metrics: dict, title: str = "Loupe evaluation", history: list[dict] | None = None,
                  notes: dict | None = None) -> str:
    body = [f"<h1>{html.escape(title)}</h1>"]
    if notes:
        body.append(_table(["", ""], [[k, v] for k, v in notes.items()]))
    if history:
        body += ["<h2>Training</h2>", _history_png(history)]
    body.append(detection_html(metrics) if "map50" in metrics else classification_html(metrics))
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>" + html.escape(title) +
            "</title></head><body>" + "\n".join(body) + "</body></html>")


def write_report(path, metrics: dict, **kwargs) -> Path:
    """Write the report atomically (temp file, then replace)."""
    import os

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_report(metrics, **kwargs), encoding="utf-8")
    os.replace(tmp, path)
    return path
