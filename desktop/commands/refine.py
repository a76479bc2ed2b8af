"""`loupe refine FOLDER --model medsam [--weights DIR] [--detector PRESET [--detector-weights F]]`:
what the box editor's "Refine all in the folder" does, without a window. Every model box nobody
reviewed yet (dashed in the editor) is snapped to the extent of its mask from a segment-anything
model (box prompt); with --detector, the detector runs on every image first, its predictions are
stored (replacing its earlier unreviewed ones, as a run in the window does) and those are refined.
Each refined box records the model (`refined_by`; the corrections export counts it). The work is
desktop.core.refine.refine_folder, the same as the window's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("folder", help="the image folder whose boxes to refine")
    parser.add_argument("--model", default="medsam", help="medsam, sam-vit-base, slimsam or sam2.1-tiny (default medsam)")
    parser.add_argument("--weights", help="the model's weights folder (default: its folder in the models folder)")
    parser.add_argument("--detector", help="run this detector first and refine its predictions")
    parser.add_argument("--detector-weights", help="the detector's weights file")
    parser.add_argument("--threshold", type=float, default=0.05, help="the detector's score floor (default 0.05)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:1, mps or auto (default)")


class _Context:
    """A job context for the command line (no cancel; progress on stderr when it is a terminal)."""

    def cancelled(self) -> bool:
        return False

    def progress(self, done: int, total: int, message: str = "") -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{done} / {total} {message[:40]:<40}")
            sys.stderr.flush()


def run(args) -> int:
    from desktop.core.folder import list_images
    from desktop.core.refine import refine_folder
    from desktop.core.store import open_store
    from models import load_model
    from models.errors import LoupeError

    seg = load_model(args.model, weights=args.weights, device=args.device)
    if seg.task != "segmentation":
        raise LoupeError(f"{args.model} is a {seg.task} model; --model needs a segment-anything model "
                         "(medsam, sam-vit-base, slimsam, sam2.1-tiny)")
    detector = None
    if args.detector:
        detector = load_model(args.detector, weights=args.detector_weights, device=args.device)
        if detector.task != "detection":
            raise LoupeError(f"--detector {args.detector} is a {detector.task} model, not a detector")
    folder = Path(args.folder)
    with open_store(folder) as store:
        if store.read_only:
            raise LoupeError(f"{folder} is read-only: refined boxes could not be saved")
        ids = {r.rel_path: r.id for r in store.images()}
        boxes: dict[int, list] = {}
        for b in store.all_boxes():
            if b.is_prediction and not b.locked:
                boxes.setdefault(b.image_id, []).append((b.id, b.rect))
        paths = [str(p) for p in list_images(folder)]
        rel = {p: Path(os.path.relpath(p, folder)).as_posix() for p in paths}
        if detector is not None:
            work = [(p, []) for p in paths]
        else:
            work = [(p, boxes[ids[rel[p]]]) for p in paths if ids.get(rel[p]) in boxes]
        if not work:
            print("loupe refine: no model boxes to refine (run a detector first, or pass --detector)", file=sys.stderr)
            return 0
        detect = None
        if detector is not None:
            from desktop.core.refine import detection_rows

            detect = lambda m, rgb: detection_rows(m.detect(rgb, threshold=args.threshold))  # noqa: E731
        refined = failed = 0
        for item in refine_folder(seg, work, detector=detector, detect=detect)(_Context()):
            if item.error:
                failed += 1
                print(f"loupe refine: {item.path}: {item.error}", file=sys.stderr)
                continue
            image_id = store.ensure_image(rel.get(item.path, Path(item.path).name), *item.size)
            found = item.refined
            if detector is not None:
                new = store.replace_predictions(image_id, detector.name, item.detections)
                found = {new[k]: r for k, r in item.refined_detections.items()}
            with store.batch():
                for box_id, (x, y, w, h) in found.items():
                    store.update_box(box_id, x=x, y=y, w=w, h=h, refined_by=seg.name)
            refined += len(found)
        if sys.stderr.isatty():
            sys.stderr.write("\n")
    print(f"refined {refined} box(es) on {len(work) - failed} image(s) with {seg.name}"
          + (f"; {failed} image(s) could not be read" if failed else ""))
    return 1 if failed and not refined else 0
