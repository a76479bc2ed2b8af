"""Import and export of annotations (no Qt): COCO, COCO results, Roboflow layout, NIH CSV, YOLO,
Pascal VOC, and the corrections made to a model's predictions."""

from desktop.core.exchange.coco_export import coco_dict, export_coco, export_coco_results
from desktop.core.exchange.corrections import corrections, export_corrections
from desktop.core.exchange.errors import ExchangeError, ImportProblems
from desktop.core.exchange.importer import ImportReport, Problem
from desktop.core.exchange.preview import ImportPreview, detect_format, preview_import
from desktop.core.exchange.roboflow import export_roboflow
from desktop.core.exchange.transfer import (
           EXPORT_FORMATS,
           IMPORT_FORMATS,
           export_annotations,
           import_annotations,
)
from desktop.core.exchange.yolo_voc import export_voc, export_yolo

__all__ = ["coco_dict", "export_coco", "export_coco_results", "export_roboflow", "export_yolo", "export_voc",
           "corrections", "export_corrections", "import_annotations", "export_annotations", "ImportReport",
           "Problem", "ImportPreview", "detect_format", "preview_import", "ExchangeError", "ImportProblems", "IMPORT_FORMATS", "EXPORT_FORMATS"]
