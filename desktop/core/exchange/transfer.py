"""One entry point per direction: `import_annotations` and `export_annotations` by format name
(what `loupe import` / `loupe export` and the app's menus call)."""

from __future__ import annotations

from pathlib import Path

from desktop.core.exchange.errors import ExchangeError
from desktop.core.exchange.importer import ImageResolver, ImportReport, Parsed, Problem, apply, read_size
from desktop.core.exchange.naming import collect_problems as naming_problems
from desktop.core.exchange.progress import Created, ProgressFn, stage
from desktop.core.store import AnnotationStore

IMPORT_FORMATS = ("coco", "coco-results", "nih-csv", "authors-csv", "yolo", "voc")
EXPORT_FORMATS = ("coco", "coco-results", "roboflow", "yolo", "voc", "corrections", "measurements")


def import_annotations(store: AnnotationStore, path: str | Path, fmt: str, strict: bool = True,
                       folder: str | Path | None = None, label_map: dict[str, str] | None = None,
                       progress: ProgressFn | None = None) -> ImportReport:
    """Import `path` into the store, in one transaction. With strict (the default) any problem
    raises ImportProblems and nothing changes; otherwise the good boxes are imported and the report
    lists the rest. `label_map` ({label in the file: label to store}, see authors_csv) renames
    labels before anything is checked or written. `progress(done, total, stage)` is told how
    far it is (progress.py); when it raises, nothing is imported."""
    from desktop.core.exchange.authors_csv import map_labels, parse_authors_csv
    from desktop.core.exchange.coco_import import parse_coco, parse_nih_csv
    from desktop.core.exchange.yolo_voc import parse_voc, parse_yolo

    path, folder = Path(path), Path(folder or store.folder)
    if not path.exists():
        raise ExchangeError(f"{path}: file not found")
    if fmt == "coco-results":
        from desktop.core.exchange.predictions_import import import_predictions

        return import_predictions(store, path, strict=strict, progress=progress)
    report = ImportReport(source=str(path), format=fmt)
    stage(progress, f"reading {path.name}")
    if fmt == "coco":
        parsed = parse_coco(path)
    elif fmt == "nih-csv":
        parsed = parse_nih_csv(path)
    elif fmt == "authors-csv":
        parsed = parse_authors_csv(path)
    elif fmt == "voc":
        parsed = parse_voc(path)
    elif fmt == "yolo":
        resolver = ImageResolver(store, folder)

        def sizes_of(stem: str):
            rel = resolver.resolve(stem, by_stem=True)
            if rel is None:
                return None
            size = resolver.known[rel][1:] if rel in resolver.known else read_size(folder / rel)
            return (rel, size) if size else None

        parsed = parse_yolo(path, sizes_of)
    else:
        raise ExchangeError(f"unknown import format {fmt!r}; use one of {', '.join(IMPORT_FORMATS)}")
    return apply(store, folder, map_labels(parsed, label_map), report, strict=strict, progress=progress)


def export_annotations(store: AnnotationStore, out: str | Path, fmt: str, *, only_reviewed: bool = False,
                       include_predictions: bool = False, with_scores: bool = False,
                       progress: ProgressFn | None = None, **options) -> Path:
    """Write the export; `keep_paths=True` writes the images' relative paths into COCO, VOC and
    corrections files instead of non-identifying names (naming.py); `warnings` (a list) receives
    the export's warnings (burned-in text in exported pixels; a mapping of the private names that
    could not be written beside a read-only store). `progress(done, total, stage)`
    counts the images or boxes written (progress.py); when it raises (a cancel) or the export
    fails, the files it created are removed again (a single file is only ever written whole)."""
    out = Path(out)
    keep = bool(options.pop("keep_paths", False))
    warnings = options.pop("warnings", None)
    created = Created()
    stage(progress, "reading the annotations")
    with naming_problems(warnings):
        return _export(store, out, fmt, only_reviewed, include_predictions, with_scores, progress, keep, warnings,
                       created, options)


def _export(store, out, fmt, only_reviewed, include_predictions, with_scores, progress, keep, warnings, created,
            options) -> Path:
    from desktop.core.exchange.coco_export import export_coco, export_coco_results
    from desktop.core.exchange.corrections import export_corrections
    from desktop.core.exchange.roboflow import export_roboflow
    from desktop.core.exchange.yolo_voc import export_voc, export_yolo

    try:
        if fmt == "coco":
            return export_coco(store, out, only_reviewed=only_reviewed, include_predictions=include_predictions,
                               with_scores=with_scores, keep_paths=keep, progress=progress)
        if fmt == "coco-results":
            return export_coco_results(store, out, model=options.get("model"), progress=progress)
        if fmt == "roboflow":
            return export_roboflow(store, store.folder, out, only_reviewed=only_reviewed, warnings=warnings,
                                   progress=progress, created=created, **options)
        if fmt == "yolo":
            return export_yolo(store, out, only_reviewed=only_reviewed, progress=progress, created=created)
        if fmt == "voc":
            return export_voc(store, out, only_reviewed=only_reviewed, keep_paths=keep, progress=progress,
                              created=created)
        if fmt == "corrections":
            return export_corrections(store, out, model=options.get("model"), keep_paths=keep)
        if fmt == "measurements":
            from desktop.core.exchange.measurements_export import export_measurements

            return export_measurements(store, out, keep_paths=keep)
    except OSError as exc:  # a read-only or full output folder: a message, not a traceback
        from desktop.core.exchange.coco_export import write_reason

        created.undo()
        where = exc.filename or out
        raise ExchangeError(f"{where}: cannot write the {fmt} export: {write_reason(exc)}") from None
    except BaseException:
        created.undo()
        raise
    raise ExchangeError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")


__all__ = ["import_annotations", "export_annotations", "ImportReport", "Parsed", "Problem",
           "IMPORT_FORMATS", "EXPORT_FORMATS"]
