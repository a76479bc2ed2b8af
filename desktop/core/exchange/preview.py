"""Before an import writes anything: which format a file is, and what importing it would do.

`detect_format(path)` tells the format from the file itself (a JSON list is COCO results, a JSON
object with images/annotations is COCO, a CSV whose header starts with "Image Index" is NIH's box
list, one starting ",Image Index" is the EfficientDet authors' CSV, XML is Pascal VOC, .txt label files beside a classes file are YOLO).

`preview_import(store, path, fmt)` runs the REAL import (the same code as `loupe import` and
File > Import annotations…) inside a transaction that is rolled back, so its counts are exactly
what the import will do: boxes, images, rows skipped, problems, and which categories are new and
which merge into the folder's existing ones. Nothing is written to disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.exchange.errors import ExchangeError
from desktop.core.exchange.importer import ImportReport
from desktop.core.store import AnnotationStore

FORMAT_NAMES = {
    "coco": "COCO (annotations)",
    "coco-results": "COCO results (predictions)",
    "nih-csv": "NIH ChestX-ray14 BBox_List_2017.csv",
    "authors-csv": "EfficientDet authors' CSV",
    "yolo": "YOLO (txt + classes)",
    "voc": "Pascal VOC (XML)",
}
_CLASS_FILES = ("classes.txt", "obj.names", "classes.names")


def _first_char(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1].decode("latin-1")


def detect_format(path: str | Path) -> str:
    """The import format of `path` (see the module docstring), or ExchangeError saying why not."""
    from desktop.core.exchange.transfer import IMPORT_FORMATS

    path = Path(path)
    if not path.exists():
        raise ExchangeError(f"{path}: file not found")
    if path.is_dir():
        if any(path.glob("*.xml")):
            return "voc"
        if any(path.glob("*.txt")) and any((path / n).is_file() for n in _CLASS_FILES):
            return "yolo"
        raise ExchangeError(f"{path}: a folder to import must hold Pascal VOC .xml files, or YOLO .txt "
                            f"label files with a classes file ({', '.join(_CLASS_FILES)})")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            first = _first_char(path)
            if first == "[":
                return "coco-results"
            if first == "{":
                return "coco"
            raise ExchangeError(f"{path}: not a COCO file (it does not start with a JSON object or list)")
        if suffix == ".xml":
            return "voc"
        if suffix == ".txt":
            return "yolo"
        if suffix == ".csv":
            with open(path, encoding="utf-8-sig", errors="replace") as f:
                header = f.readline().strip()
            if header.startswith("Image Index"):
                return "nih-csv"
            if header.startswith(",Image Index") and "authors-csv" in IMPORT_FORMATS:
                return "authors-csv"
            raise ExchangeError(f"{path}: a CSV this app does not know (header {header[:60]!r}); NIH's box list "
                                "starts with 'Image Index,Finding Label,Bbox [x,y,w,h]'")
    except OSError as exc:
        raise ExchangeError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    raise ExchangeError(f"{path}: cannot tell its format from the name; choose the format")


@dataclass
class ImportPreview:
    report: ImportReport
    categories_new: list[str] = field(default_factory=list)
    categories_merged: list[str] = field(default_factory=list)

    @property
    def problems(self):
        return self.report.problems

    def text(self) -> str:
        """'984 boxes on 4 images; 980 rows skip (unknown image: not in this folder); ...'."""
        r = self.report
        parts = [f"{r.boxes_imported} box(es) on {r.images_touched} image(s)"]
        if r.skipped:
            parts.append(f"{r.skipped} row(s) skip (unknown image: not in this folder)")
        if r.problems:
            parts.append(f"{len(r.problems)} problem(s) (listed below)")
        cats = []
        if self.categories_new:
            cats.append("new: " + ", ".join(self.categories_new))
        if self.categories_merged:
            cats.append("merged into existing: " + ", ".join(self.categories_merged))
        if cats:
            parts.append("categories " + "; ".join(cats))
        return "; ".join(parts)


class _Rollback(Exception):
    pass


def preview_import(store: AnnotationStore, path: str | Path, fmt: str | None = None,
                   label_map: dict[str, str] | None = None, progress=None) -> ImportPreview:
    """What importing `path` would do (see the module docstring); nothing is written. `progress`
    as for import_annotations (progress.py)."""
    from desktop.core.exchange.transfer import import_annotations

    fmt = fmt or detect_format(path)
    if progress is not None:  # the boxes are written only to be rolled back: say "counted"
        told = progress

        def progress(done, total, stage):
            told(done, total, "boxes counted" if stage == "boxes written" else stage)
    conn = store.conn
    before = {c.name for c in store.categories()}
    top = conn.execute("SELECT COALESCE(MAX(id), 0) FROM boxes").fetchone()[0]
    result: dict = {}
    try:
        with store.batch():  # the import's own batch joins this one; the whole is rolled back
            result["report"] = import_annotations(store, path, fmt, strict=False, label_map=label_map,
                                                  progress=progress)
            used = [n for (n,) in conn.execute(
                "SELECT DISTINCT c.name FROM boxes b JOIN categories c ON c.id = b.category_id "
                "WHERE b.id > ? ORDER BY c.name", (top,))]
            result["used"] = used
            raise _Rollback
    except _Rollback:
        pass
    used = result["used"]
    return ImportPreview(result["report"], categories_new=[n for n in used if n not in before],
                         categories_merged=[n for n in used if n in before])
