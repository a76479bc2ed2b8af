"""Non-identifying file names in exports, and the mapping back to the real files.

A PACS-style folder names files after the patient (`Doe_Janet_PID938271/IM0002`); an export that
wrote those paths into COCO, VOC or corrections files would carry the name and the ID wherever the
file goes. By default every export names an image `img<id>` (the store's image id, six digits, as
the Roboflow export always did) and the mapping from those names to the real paths is written to
`export-names.csv` beside the store (in `.loupe/`), never into the export. `keep_paths=True` (the
CLI's `--keep-paths`) writes the relative paths instead (decision 0119).

An import of such a file into the same folder finds its images through that mapping.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import io
import os
from pathlib import Path

MAPPING_FILE = "export-names.csv"
_HEADER = ["file_name", "image_id", "rel_path"]
# where `record_mapping` says that it could not write the mapping (set by `collect_problems`)
_PROBLEMS: contextvars.ContextVar[list | None] = contextvars.ContextVar("loupe_mapping_problems", default=None)


@contextlib.contextmanager
def collect_problems(into: list | None):
    """While inside, a mapping that cannot be written is said in `into` (a list of lines)."""
    token = _PROBLEMS.set(into)
    try:
        yield into
    finally:
        _PROBLEMS.reset(token)


def unmapped_message(path: Path, reason: str) -> str:
    return (f"warning: {path} could not be written ({reason}): this export names its images img<id>, and "
            "without that file nothing maps those names back to the images. Export again with the file "
            "names kept (Keep file names, --keep-paths), or from a writable copy of the folder (Edit a Copy…)")


def export_name(image_id: int, rel: str, suffix: str | None = None) -> str:
    """`img000042.png`: the id, and the file's own suffix (lower case, .jpeg as .jpg) unless the
    export writes the pixels in another format (`suffix`)."""
    if suffix is None:
        suffix = Path(rel).suffix.lower()
        suffix = ".jpg" if suffix == ".jpeg" else suffix
    return f"img{image_id:06d}{suffix}"


def export_names(images, keep_paths: bool = False) -> dict[int, str]:
    """image id -> the name an export writes, for rows (id, rel_path, ...)."""
    if keep_paths:
        return {row[0]: row[1] for row in images}
    return {row[0]: export_name(row[0], row[1]) for row in images}


def mapping_path(store) -> Path:
    return Path(store.path).parent / MAPPING_FILE


def read_mapping(store) -> dict[str, str]:
    """file_name -> rel_path of every name an export of this store has written."""
    path = mapping_path(store)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return {row["file_name"]: row["rel_path"] for row in csv.DictReader(f)
                    if row.get("file_name") and row.get("rel_path")}
    except (OSError, UnicodeDecodeError, csv.Error, KeyError):
        return {}


def record_mapping(store, names: dict[int, str], rels: dict[int, str]) -> Path | None:
    """Add `names` (image id -> exported name) to the mapping beside the store; returns its path,
    or None when the store's folder cannot be written (the export itself still stands)."""
    path = mapping_path(store)
    if getattr(store, "read_only", False):  # never a write beside a store opened read-only
        _say(unmapped_message(path, "the folder is read-only"))
        return None
    rows = {}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = {r["file_name"]: r for r in csv.DictReader(f) if r.get("file_name")}
    except (OSError, UnicodeDecodeError, csv.Error):
        pass
    for image_id, name in names.items():
        if name != rels.get(image_id):
            rows[name] = {"file_name": name, "image_id": str(image_id), "rel_path": rels[image_id]}
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_HEADER, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for name in sorted(rows):
        writer.writerow(rows[name])
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(buf.getvalue(), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        _say(unmapped_message(path, exc.strerror or str(exc)))
        return None
    return path


def _say(line: str) -> None:
    problems = _PROBLEMS.get()
    if problems is not None and line not in problems:
        problems.append(line)
