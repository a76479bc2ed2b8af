"""`loupe classify`: run a classifier on images (or folders) and write {file: {class: probability}}.

    loupe classify IMAGES... --model chexnet --weights model.pth.tar [--device auto] [--out probs.json]
    loupe classify SCANS... --model oasis-temporal --weights head.pt --backbone-weights resnet18-f37072fd.pth
                   [--pattern '(?P<patient>OAS2_\\d+)_MR(?P<date>\\d+)']

The temporal model sees each image together with the same patient's earlier images: patient and
date come from DICOM PatientID/StudyDate, or from the file name with --pattern (named groups
`patient` and `date`). Files that cannot be read are reported on stderr and left out.

With `--store FOLDER` the run is also recorded in FOLDER's annotation store, as a run of the
window's Models dock: each image's uncertainty for the review queue (decision 0130: 1 - margin of
the top two for one label, summed binary entropy for CheXNet's independent findings). With
`--mc-dropout N` (models with dropout, Qing's transformer) it is the entropy of the mean of N
passes with dropout on, as MONAI Label's epistemic scoring.
"""

from __future__ import annotations

import sys

from desktop.commands.detect import (
    add_model_arguments,
    add_store_argument,
    expand,
    load_for,
    read_rgb,
    record_run,
    write_json,
)


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
    add_store_argument(parser)
    parser.add_argument("--mc-dropout", type=int, default=0, metavar="N",
                        help="with --store: score each image by N passes with dropout on (models with "
                             "dropout, e.g. qing; N >= 2)")


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
    store, passes = getattr(args, "store", None), int(getattr(args, "mc_dropout", 0) or 0)
    _check_store_options(model, store, passes, getattr(args, "logits", False))
    samples: dict[str, list] = {}
    if passes:
        from desktop.core.runs import classify_with_passes

        probs, errors = {}, {}
        for r in run_batch(model, paths, read_rgb, fn=lambda rgb: classify_with_passes(model, rgb, passes), workers=1):
            if r.ok:
                probs[str(r.path)], samples[str(r.path)] = r.value
            else:
                errors[str(r.path)] = r.error
    elif hasattr(model, "classify_sequence"):
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
    if store:
        record_run(store, model, [(p, _size(p), v, samples.get(p)) for p, v in probs.items()], "classify",
                   mc_passes=passes)
    return 0 if probs or not paths else 1


def _check_store_options(model, store, passes: int, logits: bool) -> None:
    from models.errors import LoupeError

    if passes and not store:
        raise LoupeError("--mc-dropout scores the run for the review queue: give --store FOLDER too")
    if store and logits:
        raise LoupeError("--store records probabilities: leave out --logits")
    if passes:
        from models.uncertainty import has_dropout

        if passes < 2:
            raise LoupeError(f"--mc-dropout needs at least 2 passes, not {passes}")
        module = getattr(model, "torch_module", None)
        if hasattr(model, "classify_sequence") or module is None or not has_dropout(module):
            raise LoupeError(f"{model.name} has no dropout to sample (Monte Carlo dropout needs a model "
                             "with dropout, e.g. qing)")


def _size(path) -> tuple[int, int]:
    """(width, height) of the image, as the store records it (read again: run_batch's sizes are
    not kept by every path here)."""
    from desktop.core.imaging import read_image

    width, height = read_image(path).size
    return int(width), int(height)
