"""Evaluation metrics (no Qt): COCO detection metrics through pycocotools, classification metrics,
and a one-file HTML report with the plots.

    from models.metrics import evaluate_detection, evaluate_classification, write_report
"""

from __future__ import annotations

__all__ = ["evaluate_detection", "evaluate_classification", "write_report", "load_coco_pair"]


def __getattr__(name):  # lazy: importing models.metrics stays cheap
    if name in ("evaluate_detection", "load_coco_pair"):
        from models.metrics import detection

        return getattr(detection, name)
    if name == "evaluate_classification":
        from models.metrics.classification import evaluate_classification

        return evaluate_classification
    if name == "write_report":
        from models.metrics.report import write_report

        return write_report
    raise AttributeError(name)
