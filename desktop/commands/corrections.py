"""`loupe corrections FOLDER [--csv F] [--png F] [--model M]`: the corrections dashboard without a
window. How much each model's predictions in FOLDER's annotations were accepted, moved,
relabelled or deleted, and the boxes people added, per model, run and class, with the mean IoU
of moved boxes (desktop/core/exchange/correction_stats.py, decision 0132). The CSV holds the
numbers (one row per model, per run and per class: the `level` column); the PNG is drawn by the
same code as the window's Models ▸ Corrections Dashboard…, for the model given (default: the
first). Without --csv or --png it prints a summary per model.
"""

from __future__ import annotations

import os
import sys


def add_arguments(parser) -> None:
    parser.add_argument("folder", help="the image folder whose annotations to count")
    parser.add_argument("--csv", help="write the numbers here (CSV)")
    parser.add_argument("--png", help="write the dashboard's plots here (PNG)")
    parser.add_argument("--model", help="the model the per-class and per-run plots show (default: the first)")
    parser.add_argument("--size", default="1200x800", help="PNG size in pixels, WIDTHxHEIGHT (default 1200x800)")


def _size(text: str) -> tuple[int, int]:
    from models.errors import LoupeError

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise LoupeError(f"--size {text!r}: give WIDTHxHEIGHT in pixels, e.g. 1200x800") from None
    if not (320 <= w <= 8000 and 240 <= h <= 8000):
        raise LoupeError(f"--size {text!r}: between 320x240 and 8000x8000")
    return w, h


def run(args) -> int:
    from desktop.core.exchange.correction_stats import EMPTY_HINT, correction_stats, write_csv
    from desktop.core.store import open_store
    from models.errors import LoupeError

    size = _size(args.size)
    with open_store(args.folder) as store:
        if store.note:
            print(f"loupe corrections: {store.note}", file=sys.stderr)
        stats = correction_stats(store)
    if args.model and args.model not in stats.models:
        known = ", ".join(stats.models) or "none"
        raise LoupeError(f"--model {args.model!r}: no predictions of that model in {args.folder} (models: {known})")
    if stats.empty:
        print(f"loupe corrections: {EMPTY_HINT}", file=sys.stderr)
    if args.csv:
        print(f"loupe corrections: wrote {write_csv(stats, args.csv)}", file=sys.stderr)
    if args.png:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # drawing needs no display
        from PySide6.QtWidgets import QApplication

        # fonts need an application; a QApplication (not only a QGuiApplication) so that a caller in
        # the same process (a test, a notebook) can still make widgets afterwards
        app = QApplication.instance() or QApplication(["loupe"])  # noqa: F841
        from desktop.ui.review.dashboard_chart import save_png

        save_png(stats, args.model, args.png, size)
        print(f"loupe corrections: wrote {args.png}", file=sys.stderr)
    if not (args.csv or args.png):
        for model in stats.models:
            t = stats.total(model)
            rate = "" if t.corrected_rate is None else f" ({t.corrected_rate:.0%})"
            print(f"{model}: {t.predictions} predictions, {t.reviewed} reviewed, {t.corrected} corrected{rate}: "
                  f"{t.accepted} accepted, {t.moved} moved, {t.relabelled} relabelled, {t.deleted} deleted, "
                  f"{t.added} added")
    return 0
