"""`loupe import FOLDER FILE --format coco|nih-csv|yolo|voc`: annotations into a folder's store,
in one transaction. A file with problems changes nothing and gets a report of each problem."""

from __future__ import annotations

import sys


def add_arguments(parser) -> None:
    parser.add_argument("folder", help="the image folder whose annotations receive the import")
    parser.add_argument("file", help="the file to import (a folder for YOLO labels or VOC XML files)")
    parser.add_argument("--format", required=True, choices=("coco", "nih-csv", "yolo", "voc"))
    parser.add_argument("--skip-bad", action="store_true",
                        help="import the good boxes and report the others (default: a problem stops the import)")


def run(args) -> int:
    from desktop.commands.export import describe_store
    from desktop.core.exchange import import_annotations
    from desktop.core.store import StoreReadOnlyError, open_store

    with open_store(args.folder) as store:
        print(describe_store(store), file=sys.stderr)
        if store.read_only:
            raise StoreReadOnlyError(f"{args.folder} is read-only, so its annotations ({store.path}) cannot "
                                     f"be changed; nothing was imported from {args.file}")
        report = import_annotations(store, args.file, args.format, strict=not args.skip_bad)
    print(report.summary())
    for problem in report.problems:
        print(f"  left out: {problem}")
    return 0
