"""`loupe import FOLDER FILE [--format F] [--dry-run]`: annotations into a folder's store, in one
transaction. The format is told from the file unless given. A file with problems changes nothing
and gets a report of each problem; --dry-run says what the import would do and writes nothing.
On a terminal a progress line (images and boxes checked, boxes written) is kept on stderr."""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    from desktop.core.exchange import IMPORT_FORMATS

    parser.add_argument("folder", help="the image folder whose annotations receive the import")
    parser.add_argument("file", help="the file to import (a folder for YOLO labels or VOC XML files)")
    parser.add_argument("--format", default="auto", choices=("auto", *IMPORT_FORMATS),
                        help="the file's format (default: told from the file)")
    parser.add_argument("--skip-bad", action="store_true",
                        help="import the good boxes and report the others (default: a problem stops the import)")
    parser.add_argument("--map", action="append", default=None, metavar="OLD=NEW",
                        help="store the file's label OLD as NEW (repeatable), e.g. --map Mass=Nodule/Mass "
                             "--map Nodule=Nodule/Mass to compare NIH's list with the chest X-ray EfficientDet")
    parser.add_argument("--map-file", help="label mapping file: a JSON object {OLD: NEW} or one OLD=NEW per line")
    parser.add_argument("--dry-run", action="store_true",
                        help="only say what the import would do (boxes, images, skipped rows, problems, "
                             "new and merged categories); write nothing")


def run(args) -> int:
    from desktop.commands.export import describe_store
    from desktop.core.exchange import import_annotations
    from desktop.core.exchange.authors_csv import parse_label_map, read_label_map
    from desktop.core.exchange.preview import FORMAT_NAMES, detect_format, preview_import
    from desktop.core.exchange.progress import terminal_progress
    from desktop.core.store import StoreReadOnlyError, open_store

    fmt = detect_format(args.file) if args.format == "auto" else args.format
    label_map = {**(read_label_map(args.map_file) if args.map_file else {}), **parse_label_map(args.map)}
    with open_store(args.folder) as store:
        print(describe_store(store), file=sys.stderr)
        if store.read_only:
            raise StoreReadOnlyError(f"{args.folder} is read-only, so its annotations ({store.path}) cannot "
                                     f"be changed; nothing was imported from {args.file}")
        if args.dry_run:
            preview = preview_import(store, args.file, fmt, label_map=label_map)
            print(f"{args.file} ({FORMAT_NAMES.get(fmt, fmt)}): would import {preview.text()}")
            for problem in preview.problems:
                print(f"  problem: {problem}")
            print("nothing was written (dry run)")
            return 0
        report = import_annotations(store, args.file, fmt, strict=not args.skip_bad, label_map=label_map,
                                    progress=terminal_progress(sys.stderr))
    print(report.summary())
    for note in report.notes:
        if note.startswith("labels mapped"):
            print(f"  {note}")
    for problem in report.problems:
        print(f"  left out: {problem}")
    return 0
