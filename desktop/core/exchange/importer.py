"""What every importer shares: parsed boxes are checked (unknown image, box outside the image,
negative size, unknown category) and then written in ONE transaction, or not at all.

A parser turns its file into `Parsed`: boxes keyed by an image's file name (or relative path), the
sizes the file declares, and the problems it found while reading. `apply` resolves each image
against the store and the folder, checks every box, and writes only when there is no problem
(or, with strict=False, writes the good boxes and reports the rest).
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from desktop.core.exchange.errors import ExchangeError, ImportProblems
from desktop.core.exchange.paths import label_problem, not_utf8, outside_folder, path_problem
from desktop.core.exchange.progress import ProgressFn, chunks, counted
from desktop.core.store import AnnotationStore

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".dcm", ".dicom"}
TOLERANCE = 1.0  # pixels a box may stick out of its image (rounding in other tools) before it is a problem


@dataclass
class Problem:
    file: str
    where: str  # "line 12", "annotation 7", "image foo.png"
    reason: str

    def __str__(self) -> str:
        text = f"{self.file}, {self.where}: {self.reason}"
        return text if not not_utf8(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass
class ImportReport:
    source: str
    format: str
    problems: list[Problem] = field(default_factory=list)
    boxes_imported: int = 0
    images_touched: int = 0
    skipped: int = 0  # rows for images that are simply not in this folder (NIH CSV covers a whole dataset)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"{self.source}: imported {self.boxes_imported} box(es) on {self.images_touched} image(s)"
                f" from {self.format}")
        if self.skipped:
            text += f"; {self.skipped} row(s) for images not in this folder were skipped"
        if self.problems:
            text += f"; {len(self.problems)} problem(s) left out"
        return text


class ParsedBox(NamedTuple):
    """One box as a file gives it. A parser may append plain tuples in this field order (the COCO
    parser does: 100,000 named objects cost more than the rest of the checks)."""

    image: str  # file name or path relative to the folder, as the file writes it
    category: str
    x: float
    y: float
    w: float
    h: float
    where: object  # where in the file, for the report (a str, or what `Parsed.place` turns into one)
    file: str = ""  # the file it came from, when an import reads several


@dataclass
class Parsed:
    boxes: list[ParsedBox] = field(default_factory=list)
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # image -> (width, height) declared
    images: list[str] = field(default_factory=list)  # images the file lists (also those without boxes)
    problems: list[Problem] = field(default_factory=list)
    skip_unknown_images: bool = False  # count rows of images absent from the folder as skipped
    place: Callable[[object], str] | None = None  # a box's `where` as text, when the parser keeps it short
    notes: list[str] = field(default_factory=list)  # what the parser read around (passed to the report)

    def where_text(self, where) -> str:
        return self.place(where) if self.place is not None else str(where)


class ImageResolver:
    """Finds the image a file names: by relative path, by the name an export of this store gave it
    (naming.py), then by file name, in the store then the folder."""

    def __init__(self, store: AnnotationStore, folder: Path):
        self.folder = folder
        self.known = {rel: (i, w, h) for i, rel, w, h in store.conn.execute(
            "SELECT id, rel_path, width, height FROM images")}
        self.by_name: dict[str, str] = {}
        self.by_stem: dict[str, str] = {}
        for rel in self.known:  # stored paths are POSIX: the name is after the last slash
            self.by_name.setdefault(rel.rsplit("/", 1)[-1], rel)
        self._scanned = False
        from desktop.core.exchange.naming import read_mapping

        # the non-identifying names this store's exports wrote (img000042.png -> its real path)
        self.exported = {name: rel for name, rel in read_mapping(store).items() if rel in self.known}

    def _scan(self) -> None:
        self._scanned = True
        for root, dirs, files in os.walk(self.folder):
            dirs[:] = [d for d in dirs if not d.startswith(".") and not not_utf8(d)]
            for name in files:
                if Path(name).suffix.lower() in IMAGE_SUFFIXES and not not_utf8(name):
                    rel = Path(os.path.relpath(os.path.join(root, name), self.folder)).as_posix()
                    self.by_name.setdefault(name, rel)
                    self.by_stem.setdefault(Path(name).stem, rel)

    def resolve(self, image: str, by_stem: bool = False) -> str | None:
        if path_problem(image):  # outside the folder, or not storable: never matched (apply says why)
            return None
        image = image.replace("\\", "/")
        if image in self.known:
            return image
        if image in self.exported:
            return self.exported[image]
        name = Path(image).name
        if name in self.by_name:
            return self.by_name[name]
        if not self._scanned:
            self._scan()
            if (self.folder / image).is_file():
                return image
            if name in self.by_name:
                return self.by_name[name]
        return self.by_stem.get(Path(image).stem) if by_stem else None


def read_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file's header, without decoding pixels."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            return im.size
    except Exception:
        pass
    try:
        import pydicom

        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["Rows", "Columns"])
        return int(ds.Columns), int(ds.Rows)
    except Exception:
        return None


def apply(store: AnnotationStore, folder: Path, parsed: Parsed, report: ImportReport,
          strict: bool = True, resolve_by_stem: bool = False, progress: ProgressFn | None = None) -> ImportReport:
    """`progress(done, total, stage)` (progress.py) counts the images and boxes checked, then the
    boxes written; when it raises (a cancel), the transaction is rolled back and nothing is kept."""
    resolver = ImageResolver(store, folder)
    problems = list(parsed.problems)
    rows: list[tuple[str, str, float, float, float, float]] = []
    new_images: dict[str, tuple[int, int]] = {}
    sizes: dict[str, tuple[int, int]] = {}

    def size_of(rel: str, declared: tuple[int, int] | None) -> tuple[int, int] | None:
        if rel in sizes:
            return sizes[rel]
        if rel in resolver.known:
            got = resolver.known[rel][1:]
        else:
            got = declared or read_size(folder / rel)
            if got is not None:
                new_images[rel] = got
        if got is not None:
            sizes[rel] = got
        return got

    refused: dict[str, str] = {}  # image as the file names it -> why it is refused

    def refuse(image: str, rel: str | None) -> bool:
        """True (and the problem reported once) when `image` must not be used."""
        if image in refused:
            return True
        reason = path_problem(image) or (outside_folder(folder, rel) if rel is not None else None)
        if reason is None:
            return False
        refused[image] = reason
        problems.append(Problem(report.source, f"image {image!r}", reason))
        return True

    for image in counted(parsed.images, len(parsed.images), progress, "images checked"):
        rel = resolver.resolve(image, resolve_by_stem)
        if refuse(image, rel):
            continue
        if rel is None:
            if not parsed.skip_unknown_images:
                problems.append(Problem(report.source, f"image {image}", "unknown image: not in this folder"))
            continue
        size_of(rel, parsed.sizes.get(image))
    # each image is resolved once; a box that passes the inline test needs no call (NaN fails it)
    resolved: dict[str, tuple | None] = {}
    listed = set(parsed.images)
    low = -TOLERANCE
    append = rows.append
    for image, category, x, y, w, h, where, file in counted(parsed.boxes, len(parsed.boxes), progress,
                                                            "boxes checked"):
        target = resolved.get(image, False)
        if target is False:
            rel = resolver.resolve(image, resolve_by_stem)
            if refuse(image, rel):
                rel = None
            size = None if rel is None else size_of(rel, parsed.sizes.get(image))
            # (rel, size, right and bottom limits); no size: limits no box meets, so check_box says why
            target = resolved[image] = None if rel is None else (
                rel, size, *((size[0] + TOLERANCE, size[1] + TOLERANCE) if size else (low - 1, low - 1)))
        if target is None:
            if image in refused:
                continue
            if parsed.skip_unknown_images:
                report.skipped += 1
            elif image not in listed:
                problems.append(Problem(file or report.source, parsed.where_text(where),
                                        f"unknown image {image!r}: not in this folder"))
            continue
        try:
            ok = w > 0 and h > 0 and x >= low and y >= low and x + w <= target[2] and y + h <= target[3]
        except TypeError:
            ok = False
        if ok:
            append((target[0], category, x, y, w, h))
            continue
        reason = check_box(x, y, w, h, target[1])
        if reason:
            problems.append(Problem(file or report.source, parsed.where_text(where), f"{reason} (image {image})"))
            continue
        append((target[0], category, x, y, w, h))
    bad_labels = _label_problems(parsed, rows, report)
    if bad_labels:
        problems.extend(bad_labels.values())
        rows = [r for r in rows if r[1] not in bad_labels]
    report.problems = problems
    report.notes.extend(parsed.notes)
    if problems and strict:
        raise ImportProblems(report)
    if not rows and not new_images:
        report.notes.append("nothing to import")
        return report
    import sqlite3

    from desktop.core.store.errors import StoreError
    from desktop.core.store.writer import reason_of

    try:
        with _foreign_keys_off(store), store.batch():
            ids = store.bulk_ensure_images([(rel, w, h) for rel, (w, h) in new_images.items()])
            ids.update({rel: v[0] for rel, v in resolver.known.items()})
            cats = {name: store.ensure_category(name) for name in dict.fromkeys([r[1] for r in rows])}
            written = 0
            if progress is not None:
                progress(0, len(rows), "boxes written")
            for part in chunks(rows):  # in the one transaction: a cancel between parts keeps none
                store.bulk_add_boxes([(ids[rel], cats[c], x, y, w, h) for rel, c, x, y, w, h in part])
                written += len(part)
                if progress is not None:
                    progress(written, len(rows), "boxes written")
    except (sqlite3.Error, StoreError) as exc:  # the disk is full, the store is locked or read-only
        reason = reason_of(exc) if isinstance(exc, sqlite3.Error) else str(exc)
        raise ExchangeError(f"{report.source}: nothing was imported: {store.path}: {reason}") from exc
    report.boxes_imported = len(rows)
    report.images_touched = len({r[0] for r in rows} | set(new_images))
    return report


def _label_problems(parsed: Parsed, rows: list, report: ImportReport) -> dict[str, Problem]:
    """label -> the problem with it (a control character, bytes that are not text), once each,
    placed at the first box that uses it."""
    bad: dict[str, Problem] = {}
    names = dict.fromkeys(r[1] for r in rows)
    if all(n.isprintable() for n in names):  # the usual case: nothing to look up per box
        return bad
    for name in names:
        reason = label_problem(name)
        if reason:
            first = next((b for b in parsed.boxes if b[1] == name), None)
            where = parsed.where_text(first[6]) if first is not None else "labels"
            file = (first[7] if first is not None else "") or report.source
            bad[name] = Problem(file, where, reason)
    return bad


@contextlib.contextmanager
def _foreign_keys_off(store: AnnotationStore):
    """The boxes' image and category ids come from this store inside the import's own transaction
    (images are never removed), so SQLite's per-row foreign-key lookups only cost time (decision
    0027). The pragma cannot change inside a transaction: then the checks simply stay on."""
    conn = store.conn
    off = not conn.in_transaction and conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    if off:
        conn.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        if off:
            conn.execute("PRAGMA foreign_keys = ON")


def check_box(x: float, y: float, w: float, h: float, size: tuple[int, int] | None) -> str | None:
    try:
        finite = math.isfinite(x) and math.isfinite(y) and math.isfinite(w) and math.isfinite(h)
    except TypeError:
        finite = False
    if not finite:
        return f"box {[x, y, w, h]} is not four finite numbers"
    if w <= 0 or h <= 0:
        return f"negative or zero size: width {w}, height {h}"
    if size is None:
        return "image size unknown (the file cannot be read)"
    width, height = size
    if x < -TOLERANCE or y < -TOLERANCE or x + w > width + TOLERANCE or y + h > height + TOLERANCE:
        return f"box outside the image: [{x}, {y}, {w}, {h}] on {width}x{height}"
    return None
