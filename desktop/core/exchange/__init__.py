"""Import and export of annotations (no Qt): COCO, COCO results, Roboflow layout, NIH CSV, YOLO,
Pascal VOC, and the corrections made to a model's predictions."""

from desktop.core.exchange.coco_export import coco_dict, export_coco, export_coco_results
from desktop.core.exchange.errors import ExchangeError, ImportProblems
from desktop.core.exchange.roboflow import export_roboflow

__all__ = ["coco_dict", "export_coco", "export_coco_results", "export_roboflow", "ExchangeError",
           "ImportProblems"]
