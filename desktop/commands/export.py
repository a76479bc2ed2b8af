"""`loupe export FOLDER --format coco|roboflow|yolo|voc|corrections|coco-results|measurements --out DIR`."""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("folder", help="the image folder whose annotations to export")
    parser.add_argument("--format", required=True,
                        choices=("coco", "roboflow", "yolo", "voc", "corrections", "coco-results", "measurements"),
                        help="measurements: rulers, angles and regions as JSON or CSV (by --out's suffix; a "
                             "folder gets both), never mixed into the boxes of the other formats")
    parser.add_argument("--out", required=True, help="output folder (or .json file for coco/corrections; .json or .csv for measurements)")
    parser.add_argument("--only-reviewed", action="store_true", help="only images marked reviewed "
                        "(always on for roboflow unless --all-images)")
    parser.add_argument("--all-images", action="store_true", help="roboflow: include unreviewed images too")
    parser.add_argument("--include-predictions", action="store_true",
                        help="coco: also the model boxes nobody reviewed")
    parser.add_argument("--scores", action="store_true", help="coco: write each model box's score")
    parser.add_argument("--model", help="coco-results/corrections: only this model's boxes")
    parser.add_argument("--split", default="0.8,0.1,0.1", help="roboflow: train,valid,test fractions")
    parser.add_argument("--seed", type=int, default=0, help="roboflow: seed of the split")
    parser.add_argument("--window", help="roboflow: window CENTER,WIDTH for DICOM to PNG (default: the file's)")
    parser.add_argument("--keep-paths", action="store_true",
                        help="coco/voc/corrections/measurements: write each image's path relative to the folder (which may "
                             "name the patient) instead of a non-identifying name img<id>; the mapping of those "
                             "names is kept in the folder's .loupe/export-names.csv")


def describe_store(store) -> str:
    """The line the CLI prints to say which annotation store it uses."""
    kind = " (read-only)" if store.read_only else ""
    line = f"annotations: {store.path}{kind}"
    if store.note:
        line += f"\n  {store.note}"
    for message in store.recovered:
        line += f"\n  {message}"
    return line


def run(args) -> int:
    from desktop.core.exchange import export_annotations
    from desktop.core.exchange.errors import ExchangeError
    from desktop.core.exchange.naming import mapping_path
    from desktop.core.store import open_store

    options: dict = {}
    only_reviewed = args.only_reviewed
    if args.format == "roboflow":
        try:
            options["split"] = tuple(float(v) for v in args.split.split(","))
            if args.window:
                options["window"] = tuple(float(v) for v in args.window.split(","))
        except ValueError as exc:
            raise ExchangeError(f"--split/--window must be comma-separated numbers: {exc}") from exc
        options["seed"] = args.seed
        only_reviewed = not args.all_images
    if args.model:
        options["model"] = args.model
    warnings: list[str] = []
    with open_store(args.folder) as store:
        print(describe_store(store), file=sys.stderr)
        out = export_annotations(store, args.out, args.format, only_reviewed=only_reviewed,
                                 include_predictions=args.include_predictions, with_scores=args.scores,
                                 keep_paths=args.keep_paths, warnings=warnings, **options)
        names = None if args.keep_paths or args.format in ("coco-results", "yolo") else mapping_path(store)
    for line in warnings:
        print(line)
    print(f"wrote {out}")
    if names is not None and names.exists():
        print(f"images are named img<id>; their real paths are in {names} (--keep-paths writes the paths)")
    return 0
