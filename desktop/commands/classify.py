"""`loupe classify`: run a classifier on images (or folders) and write {file: {class: probability}}.

    loupe classify IMAGES... --model chexnet --weights model.pth.tar [--device auto] [--out probs.json]
    loupe classify SCANS... --model oasis-temporal --weights head.pt --backbone-weights resnet18-f37072fd.pth
                   [--pattern '(?P<patient>OAS2_\\d+)_MR(?P<date>\\d+)']

The temporal model sees each image together with the same patient's earlier images: patient and
date come from DICOM PatientID/StudyDate, or from the file name with --pattern (named groups
`patient` and `date`). Files that cannot be read are reported on stderr and left out.
"""

from __future__ import annotations

import sys

from desktop.commands.detect import add_model_arguments, expand, load_for, read_rgb, write_json


def add_arguments(parser) -> None:
    parser.add_argument("images", nargs="+", help="image files or folders (PNG, JPEG, DICOM, ...)")
    add_model_arguments(parser)
    parser.add_argument("--backbone-weights",
                        help="temporal model: torchvision's ImageNet backbone file (resnet18-f37072fd.pth)")
    parser.add_argument("--pattern", help="temporal model: regex with (?P<patient>...) and (?P<date>...)")
    parser.add_argument("--logits", action="store_true",
                        help="write each image's raw logits instead of probabilities (for loupe eval "
                             "--protocol authors)")
    parser.add_argument("--out", help="write the JSON here (default: print it)")


def patient_and_date(path, pattern: str | None) -> tuple[str, str]:
    from desktop.core.sequences import patient_and_date as read

    return read(path, pattern)


def classify_sequences(model, paths, pattern, logits: bool = False) -> tuple[dict, dict]:
    """The temporal model over each patient's images (desktop.core.sequences, as the model panel)."""
    from desktop.core.sequences import classify_in_sequence

    probs, errors = {}, {}
    for path, value, error in classify_in_sequence(model, paths, pattern, read=read_rgb, logits=logits):
        if error is None:
            probs[path] = value
        else:
            errors[path] = error
    return probs, errors


def run(args) -> int:
    from models import load_model
    from models.batch import run_batch

    if args.backbone_weights:
        model = load_model(args.model, weights=args.weights, device=args.device,
                           backbone_weights=args.backbone_weights)
    else:
        model = load_for(args, "classification")
    refused: dict[str, str] = {}
    paths = expand(args.images, refused, "classify")
    if hasattr(model, "classify_sequence"):
        probs, errors = classify_sequences(model, paths, args.pattern, getattr(args, "logits", False))
    elif getattr(args, "logits", False):
        from models.errors import LoupeError

        if not hasattr(model, "logits"):
            raise LoupeError(f"{model.name} gives no raw logits")
        probs, errors = {}, {}
        for r in run_batch(model, paths, read_rgb, fn=model.logits, workers=1):
            if r.ok:
                probs[str(r.path)] = r.value
            else:
                errors[str(r.path)] = r.error
    else:
        probs, errors = {}, {}
        for r in run_batch(model, paths, read_rgb):
            if r.ok:
                probs[str(r.path)] = r.value
            else:
                errors[str(r.path)] = r.error
    for path, msg in errors.items():
        print(f"loupe classify: skipped {path}: {msg}", file=sys.stderr)
    write_json(probs, args.out, "classify")
    return 0 if probs or not paths else 1
