"""Import of a COCO results file (a model's predictions): a JSON list of
`{"image_id", "category_id", "bbox": [x, y, w, h], "score"}`.

Ids are this folder's own, as Loupe's COCO export writes them (image and category ids are the
store's; decision 0024), so a results file made against such an export comes back onto the same
images. The boxes become unreviewed predictions of the model named after the file (or `model`),
replacing that model's earlier unreviewed predictions on those images, all in ONE transaction.
"""

from __future__ import annotations

import json
from pathlib import Path

from desktop.core.exchange.errors import ImportProblems
from desktop.core.exchange.importer import ImportReport, Problem, check_box
from desktop.core.exchange.progress import ProgressFn, counted, stage
from desktop.core.store import AnnotationStore

_NUM = (int, float)


def import_predictions(store: AnnotationStore, path: str | Path, strict: bool = True,
                       model: str | None = None, progress: ProgressFn | None = None) -> ImportReport:
    """`progress` (progress.py) counts the results checked, then the images written; when it
    raises, the transaction is rolled back."""
    path = Path(path)
    stage(progress, f"reading {path.name}")
    src = str(path)
    report = ImportReport(source=src, format="coco-results")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        report.problems.append(Problem(src, f"line {exc.lineno}, column {exc.colno}", f"bad JSON: {exc.msg}"))
        data = None
    except (OSError, UnicodeDecodeError) as exc:
        report.problems.append(Problem(src, "file", f"cannot read: {exc}"))
        data = None
    except RecursionError:
        report.problems.append(Problem(src, "file", "not a COCO results file: its JSON is nested too deeply "
                                                    "to read (thousands of levels of [ or {)"))
        data = None
    if data is not None and not isinstance(data, list):
        report.problems.append(Problem(src, "top level", "not a COCO results file: it must be a JSON list of "
                                                         "{image_id, category_id, bbox, score}"))
        data = None
    images = {i: (rel, w, h) for i, rel, w, h in store.conn.execute("SELECT id, rel_path, width, height FROM images")}
    cats = {c.id: c.name for c in store.categories()}
    per_image: dict[int, list] = {}
    data = data or []
    for n, item in enumerate(counted(data, len(data), progress, "boxes checked")):
        where = f"result #{n}"
        if not isinstance(item, dict):
            report.problems.append(Problem(src, where, "not an object"))
            continue
        bbox, score = item.get("bbox"), item.get("score", 1.0)
        image_id, cat = item.get("image_id"), item.get("category_id")
        if not (type(bbox) is list and len(bbox) == 4 and all(type(v) in _NUM for v in bbox)):
            report.problems.append(Problem(src, where, f"bbox must be [x, y, w, h] numbers, not {bbox!r}"))
            continue
        if type(score) not in _NUM:
            report.problems.append(Problem(src, where, f"score must be a number, not {score!r}"))
            continue
        if type(image_id) is not int or image_id not in images:
            report.problems.append(Problem(src, where, f"unknown image id {image_id!r}: ids are this folder's "
                                                       "own, as its COCO export writes them"))
            continue
        if type(cat) is not int or cat not in cats:
            report.problems.append(Problem(src, where, f"unknown category id {cat!r}"))
            continue
        rel, w, h = images[image_id]
        reason = check_box(*map(float, bbox), (w, h))
        if reason:
            report.problems.append(Problem(src, where, f"{reason} (image {rel})"))
            continue
        per_image.setdefault(image_id, []).append((cats[cat], *map(float, bbox), float(score)))
    if report.problems and strict:
        raise ImportProblems(report)
    if not per_image:
        report.notes.append("nothing to import")
        return report
    name = model or path.stem.removesuffix(".coco").removesuffix(".results") or "imported"
    with store.batch():
        for image_id, rows in counted(per_image.items(), len(per_image), progress, "images written", every=50):
            store.replace_predictions(image_id, name, rows)
    report.boxes_imported = sum(len(r) for r in per_image.values())
    report.images_touched = len(per_image)
    report.notes.append(f"as unreviewed predictions of the model {name!r}")
    return report
