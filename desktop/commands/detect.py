"""`loupe detect`: run a detector on images (or folders of them) and write COCO JSON.

    loupe detect IMAGES... --model heartformer --weights heartformer-v0.1.safetensors
                 [--threshold 0.3] [--classes a,b] [--device auto|cpu|cuda|mps] [--out dets.json]
                 [--store FOLDER]

Output: a COCO dataset whose `annotations` are the detections (COCO results entries: image_id,
category_id, bbox x y w h in pixels, score), with the image list (`images`: id, file_name, width,
height), `categories` (the model's class ids and names), and `errors` ({path: reason}) for files
that could not be read. Category ids are the model's own class ids.

With `--store FOLDER` the run is also recorded in FOLDER's annotation store as a run of the
window's Models dock records it (desktop/core/runs.py): the predictions (down to 0.05, for the
threshold slider) become the image's unreviewed boxes, and each image gets its uncertainty for the
review queue (decision 0130). The JSON keeps the detections at the threshold.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("images", nargs="+", help="image files or folders (PNG, JPEG, DICOM, ...)")
    add_model_arguments(parser)
    parser.add_argument("--threshold", type=float, default=None, help="score threshold (default: the card's)")
    parser.add_argument("--classes", help="comma-separated class names to keep")
    parser.add_argument("--out", help="write the JSON here (default: print it)")
    add_store_argument(parser)


def add_store_argument(parser) -> None:
    parser.add_argument("--store", metavar="FOLDER",
                        help="also record the run in FOLDER's annotation store (its images must lie inside "
                             "it): predictions and each image's uncertainty for the review queue, as the "
                             "window's Models dock does")


def open_run_store(folder, command: str):
    """FOLDER's store for `--store`; its note (read-only folder, copy) goes to stderr."""
    from desktop.core.store import open_store

    store = open_store(folder)
    if store.note:
        print(f"loupe {command}: {store.note}", file=sys.stderr)
    return store


def record_run(folder, model, items, command: str, threshold=None, mc_passes: int = 0) -> None:
    """Record (path, (width, height), value, samples) items as one run in FOLDER's store."""
    from desktop.core.runs import RunRecorder, record_paths

    store = open_run_store(folder, command)
    try:
        recorder = RunRecorder(store, model, threshold=threshold, origin="cli", mc_passes=mc_passes)
        scored = record_paths(store, recorder, items, lambda text: print(f"loupe {command}: {text}", file=sys.stderr))
        if recorder.run_id is None:
            print(f"loupe {command}: the run could not be recorded in {store.path}: {recorder.error}",
                  file=sys.stderr)
        else:
            print(f"loupe {command}: recorded run {recorder.run_id} of {model.name} in {store.path} "
                  f"({scored} image{'s' if scored != 1 else ''} scored)", file=sys.stderr)
    finally:
        store.close()


def add_model_arguments(parser) -> None:
    parser.add_argument("--model", required=True, help="preset name, model card JSON or weights file")
    parser.add_argument("--weights", help="weights file for a preset (default: the user's models folder)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")


def read_rgb(path):
    """RGB uint8 a model gets for any image Loupe reads: the file as the authors' reader reads it
    (8-bit PNG/JPEG through PIL), 16-bit and DICOM with the file's default display (decision 0093)."""
    from desktop.core.imaging.model_input import model_input

    return model_input(path)


def expand(inputs, errors: dict | None = None, verb: str = "detect") -> list[Path]:
    """Files as given; folders replaced by their images (natural order). Images in a folder whose
    names are not UTF-8 are left out, as the window leaves them out (decision 0118), and said: on
    stderr and in `errors` under the name with its bad bytes shown as \\xNN."""
    from desktop.core.folder import list_images

    out: list[Path] = []
    refused: list[bytes] = []
    for item in inputs:
        p = Path(item)
        out.extend(list_images(p, refused=refused) if p.is_dir() else [p])
    for raw in refused:
        name = raw.decode("utf-8", "backslashreplace")
        reason = "its name is not valid UTF-8, so Loupe cannot record it; rename the file"
        print(f"loupe {verb}: skipped {name}: {reason}", file=sys.stderr)
        if errors is not None:
            errors[name] = reason
    return out


def load_for(args, task: str):
    from models import load_model
    from models.errors import ModelSpecError

    model = load_model(args.model, weights=args.weights, device=args.device)
    if model.task != task:
        raise ModelSpecError(f"{args.model} is a {model.task} model; loupe {task_verb(task)} needs a "
                             f"{task} model")
    return model


def task_verb(task: str) -> str:
    return {"detection": "detect", "classification": "classify"}.get(task, task)


def write_json(data, out, what: str) -> None:
    text = json.dumps(data, indent=2)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n", encoding="utf-8")
        print(f"loupe {what}: wrote {out}", file=sys.stderr)
    else:
        print(text)


def coco_results(model, results, classes: set[str] | None, threshold) -> dict:
    images, annotations, errors = [], [], {}
    for image_id, r in enumerate(results, start=1):
        if not r.ok:
            errors[str(r.path)] = r.error
            print(f"loupe detect: skipped {r.path}: {r.error}", file=sys.stderr)
            continue
        h, w = r.size
        images.append({"id": image_id, "file_name": str(r.path), "width": int(w), "height": int(h)})
        dets = r.value.filter(0.0, classes) if classes else r.value
        for box, score, cid in zip(dets.xyxy.tolist(), dets.scores.tolist(), dets.class_ids.tolist()):
            x1, y1, x2, y2 = box
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": int(cid),
                                "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1),
                                "score": float(score), "iscrowd": 0})
    names = model.class_names
    return {"info": {"model": model.name, "architecture": model.card.architecture,
                     "threshold": model.card.default_threshold if threshold is None else threshold},
            "images": images, "categories": [{"id": i, "name": n} for i, n in enumerate(names)],
            "annotations": annotations, "errors": errors}


def run(args) -> int:
    from models.batch import run_batch

    model = load_for(args, "detection")
    refused: dict[str, str] = {}
    paths = expand(args.images, refused, "detect")
    classes = {c.strip() for c in args.classes.split(",")} if args.classes else None
    store = getattr(args, "store", None)
    if not store:
        results = list(run_batch(model, paths, read_rgb, threshold=args.threshold))
        coco = coco_results(model, results, classes, args.threshold)
        coco["errors"].update(refused)
        write_json(coco, args.out, "detect")
        return 0 if any(r.ok for r in results) or not results else 1
    from desktop.core.runs import detection_rows, storage_floor

    threshold = model.card.default_threshold if args.threshold is None else args.threshold
    results = list(run_batch(model, paths, read_rgb, threshold=storage_floor(threshold)))
    shown = [r if not r.ok else _at(r, threshold) for r in results]
    coco = coco_results(model, shown, classes, args.threshold)
    coco["errors"].update(refused)
    write_json(coco, args.out, "detect")
    record_run(store, model, [(r.path, (r.size[1], r.size[0]), detection_rows(r.value), None)
                              for r in results if r.ok], "detect", threshold=threshold)
    return 0 if any(r.ok for r in results) or not results else 1


def _at(result, threshold: float):
    """The same result with its detections cut at `threshold` (the JSON's view of a --store run)."""
    import dataclasses

    return dataclasses.replace(result, value=result.value.filter(threshold))
