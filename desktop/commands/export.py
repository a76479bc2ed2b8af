"""`loupe export FOLDER --format coco|roboflow|yolo|voc|corrections|coco-results|measurements|teaching --out DIR`;
on a terminal a progress line (images or boxes written) is kept on stderr."""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("folder", help="the image folder whose annotations to export")
    parser.add_argument("--format", required=True,
                        choices=("coco", "roboflow", "yolo", "voc", "corrections", "coco-results", "measurements",
                                 "teaching"),
                        help="measurements: rulers, angles and regions as JSON or CSV (by --out's suffix; a "
                             "folder gets both), never mixed into the boxes of the other formats; teaching: a "
                             "teaching set that opens in any browser")
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
    parser.add_argument("--window", help="roboflow, teaching: window CENTER,WIDTH for DICOM to PNG (default: the "
                        "file's); teaching also takes lung, mediastinum, bone or brain")
    parser.add_argument("--keep-paths", action="store_true",
                        help="coco/voc/corrections/measurements: write each image's path relative to the folder (which may "
                             "name the patient) instead of a non-identifying name img<id>; the mapping of those "
                             "names is kept in the folder's .loupe/export-names.csv; teaching: list each "
                             "image's source path in manifest.json")
    teaching = parser.add_argument_group("teaching set (--format teaching: a folder with index.html that opens "
                                         "in any browser, no server, no network)")
    teaching.add_argument("--cases", help="the case ids to export, e.g. 1,4,7-9 (default: every case; every image "
                                          "when the folder has no cases)")
    teaching.add_argument("--zip", action="store_true", help="also write DIR.zip of the folder")
    teaching.add_argument("--leave-out-burned-in", action="store_true",
                          help="leave out the images whose pixels may show burned-in text (Burned In Annotation "
                               "YES, or ultrasound / secondary capture / OT)")
    teaching.add_argument("--title", default="Teaching set", help="the set's title on the page")
    teaching.add_argument("--max-side", type=int, default=2048,
                          help="films larger than this many pixels on their longer side are written scaled "
                               "down to it (default 2048; 0 keeps every pixel)")
    teaching.add_argument("--labels", help="the labels the learner marks with, e.g. Nodule,Mass,Effusion (default: "
                                           "those of the exported cases' boxes; others act as distractors)")
    teaching.add_argument("--no-quiz", action="store_true",
                          help="no quiz on the page (hide/reveal of the answers only)")


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
    from desktop.core.exchange.progress import terminal_progress
    from desktop.core.store import open_store

    if args.format == "teaching":
        return run_teaching(args)
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
                                 keep_paths=args.keep_paths, warnings=warnings,
                                 progress=terminal_progress(sys.stderr), **options)
        names = None if args.keep_paths or args.format in ("coco-results", "yolo") else mapping_path(store)
    for line in warnings:
        print(line)
    print(f"wrote {out}")
    if names is not None and names.exists():
        print(f"images are named img<id>; their real paths are in {names} (--keep-paths writes the paths)")
    return 0


def parse_cases(text: str | None) -> list[int] | None:
    """`--cases 1,4,7-9` -> [1, 4, 7, 8, 9]."""
    from desktop.core.exchange.errors import ExchangeError

    if not text:
        return None
    out: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = (int(v) for v in part.split("-", 1))
                out += list(range(lo, hi + 1))
            elif part:
                out.append(int(part))
    except ValueError:
        raise ExchangeError(f"--cases must be case ids like 1,4,7-9, not {text!r}") from None
    return list(dict.fromkeys(out))


def run_teaching(args) -> int:
    from desktop.core.exchange.progress import terminal_progress
    from desktop.core.exchange.teaching_set import burned_in_images, export_teaching_set
    from desktop.core.store import open_store

    case_ids = parse_cases(args.cases)
    with open_store(args.folder) as store:
        print(describe_store(store), file=sys.stderr)
        flagged = burned_in_images(store, case_ids)
        if flagged:
            what = ("left out (--leave-out-burned-in)" if args.leave_out_burned_in
                    else "exported anyway: check them, or add --leave-out-burned-in")
            print(f"{len(flagged)} image(s) may show the patient's name or ID in their pixels "
                  f"(burned-in text); {what}:")
            for b in flagged:
                print(f"  {b.line()}")
        result = export_teaching_set(store, args.out, case_ids=case_ids, window=args.window,
                                     leave_out_burned_in=args.leave_out_burned_in, keep_paths=args.keep_paths,
                                     zip_file=args.zip, title=args.title, quiz=not args.no_quiz,
                                     max_side=args.max_side or None, progress=terminal_progress(sys.stderr),
                                     labels=args.labels.split(",") if args.labels else None)
    for b in result.unreadable:
        print(f"left out: {b.line()}", file=sys.stderr)
    print(f"wrote {result.folder / 'index.html'} ({result.cases} case(s), {result.images} image(s); "
          f"open it in any browser)")
    if result.zip_path is not None:
        print(f"wrote {result.zip_path}")
    return 0
