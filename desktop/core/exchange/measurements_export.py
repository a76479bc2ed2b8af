"""`loupe export FOLDER --format measurements --out FILE.json|FILE.csv|DIR`: the store's rulers,
angles and regions of interest, apart from the boxes (never in a COCO file; decision 0135).

A .json target gets the JSON document, a .csv target one row per measurement, a folder both
(`measurements.json`, `measurements.csv`). Images are named `img<id>` like every export (decision
0119) unless `keep_paths`.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from desktop.core.exchange.coco_export import private_names, write_text_atomic
from desktop.core.store import AnnotationStore

FORMAT = "loupe-measurements"
CSV_COLUMNS = ("file_name", "measurement_id", "frame", "kind", "value", "unit", "note", "mean", "sd", "min",
               "max", "pixels", "area", "area_unit", "value_unit", "spacing_row_mm", "spacing_col_mm",
               "spacing_source", "points", "label")
KIND_NAMES = {"line": "distance", "angle": "angle", "ellipse": "ellipse ROI", "box": "box ROI"}


def measurement_rows(store: AnnotationStore, keep_paths: bool = False) -> tuple[list[dict], list[dict]]:
    """(images, measurements) as plain dicts, the images limited to those that have measurements."""
    items = list(store.all_measurements())
    ids = sorted({m.image_id for m in items})
    images = [r for r in store.conn.execute("SELECT id, rel_path, width, height FROM images ORDER BY id")
              if r[0] in set(ids)]
    names = private_names(store, images, keep_paths) if images else {}
    name_of = {r[0]: (names or {}).get(r[0], r[1]) for r in images}
    image_rows = [{"id": i, "file_name": name_of[i], "width": w, "height": h} for i, _rel, w, h in images]
    rows = []
    for m in items:
        res = m.result
        spacing = res.get("spacing") or [None, None]
        row = {"file_name": name_of.get(m.image_id), "image_id": m.image_id, "measurement_id": m.id,
               "frame": m.frame, "kind": m.kind, "points": [list(p) for p in m.points], "label": m.label,
               "text": res.get("text", ""), "spacing_row_mm": spacing[0], "spacing_col_mm": spacing[1],
               "spacing_source": res.get("spacing_source")}
        if m.kind in ("line", "angle"):
            row.update(value=res.get("value"), unit=res.get("unit"), note=res.get("note", ""))
        else:
            row.update(value=res.get("mean"), unit=res.get("value_unit", ""), note=res.get("note", ""),
                       mean=res.get("mean"), sd=res.get("sd"), min=res.get("min"), max=res.get("max"),
                       pixels=res.get("n"), area=res.get("area"), area_unit=res.get("area_unit"),
                       value_unit=res.get("value_unit", ""))
        rows.append(row)
    return image_rows, rows


def measurements_json(store: AnnotationStore, keep_paths: bool = False) -> str:
    images, rows = measurement_rows(store, keep_paths)
    doc = {"format": FORMAT, "version": 1,
           "about": "Distances (line) and angles in the units given; regions (ellipse, box) with mean, SD "
                    "(population), min and max of the modality values inside and their area. 'at the detector' "
                    "marks lengths from ImagerPixelSpacing; 'uncalibrated' marks pixels.",
           "images": images, "measurements": rows}
    return json.dumps(doc, indent=1, allow_nan=False)


def measurements_csv(store: AnnotationStore, keep_paths: bool = False) -> str:
    _images, rows = measurement_rows(store, keep_paths)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "points": json.dumps(row["points"]),
                         **{k: ("" if row.get(k) is None else row.get(k)) for k in CSV_COLUMNS if k != "points"}})
    return buf.getvalue()


def export_measurements(store: AnnotationStore, out: str | Path, keep_paths: bool = False) -> Path:
    """Write the export; returns the file written (the folder when both were)."""
    out = Path(out)
    if out.suffix.lower() == ".json":
        return write_text_atomic(out, measurements_json(store, keep_paths))
    if out.suffix.lower() == ".csv":
        return write_text_atomic(out, measurements_csv(store, keep_paths))
    write_text_atomic(out / "measurements.json", measurements_json(store, keep_paths))
    write_text_atomic(out / "measurements.csv", measurements_csv(store, keep_paths))
    return out
