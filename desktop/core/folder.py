"""Listing a folder's images: recursive, natural order, in batches so the first image shows at once.

Order: in each folder its images (natural sort: `img2` before `img10`), then its sub-folders in
natural order, depth first. Hidden entries and Loupe's own `.loupe/` folder are skipped. Each folder
is listed with one `os.scandir`, so the first batch of a 10,000-file folder arrives after one
directory read, long before the thumbnails or the sub-folders are looked at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from natsort import natsort_keygen, ns

from desktop.core.imaging.formats import RASTER_EXTENSIONS, SUPPORTED_EXTENSIONS, has_dicom_marker

_natural = natsort_keygen(alg=ns.IGNORECASE)
SKIPPED_FOLDERS = frozenset({".loupe", "__pycache__"})
# list.sort compares its keys in C without letting go of the GIL: 100,000 names held it for a
# quarter of a second, and the window's event loop waited (docs/decisions/0122-no-long-gil-holds-
# in-the-folder-scan.md). Longer lists are sorted in runs of this many and merged in Python,
# which lets other threads in.
SORT_RUN = 2000


def natural_sorted(names: list[str], reverse: bool = False) -> list[str]:
    """`sorted(names, key=natural order)`, stable, without one long hold of the GIL."""
    if len(names) <= SORT_RUN:
        return sorted(names, key=_natural, reverse=reverse)
    import heapq

    # the index keeps equal keys in their first order, as a stable sort does (both ways round)
    sign = -1 if reverse else 1
    keyed = [(_natural(n), sign * i, n) for i, n in enumerate(names)]
    runs = [sorted(keyed[k:k + SORT_RUN]) for k in range(0, len(keyed), SORT_RUN)]
    merged = [n for _key, _i, n in heapq.merge(*runs)]
    if reverse:
        merged.reverse()
    return merged


def _is_image(entry: os.DirEntry) -> bool:
    suffix = os.path.splitext(entry.name)[1].lower()
    if suffix in SUPPORTED_EXTENSIONS:
        return True
    return suffix == "" and has_dicom_marker(entry.path)


def undecodable(name: str) -> bool:
    """True for a name whose bytes are not UTF-8 (Python keeps them as surrogate escapes). Such a
    name cannot reach Qt or SQLite unchanged: Qt drops the bytes (`\xff\xfeimg.png` became
    `img.png`, sharing the real img.png's record), SQLite refuses it (decision 0118)."""
    try:
        name.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def scan_folder(root: str | os.PathLike, batch_size: int = 500, first_batch: int = 1,
                cancelled=lambda: False, refused: list | None = None, as_text: bool = False) -> Iterator[list]:
    """Yield lists of absolute image paths in display order: first a batch of `first_batch`
    (the first image, to show at once), then batches of up to `batch_size`. `as_text`: the
    paths as str (os.path.join: a tenth of the time of making 100,000 Path objects).

    `cancelled()` is polled between folders and batches; unreadable sub-folders are skipped.
    Files and folders whose names are not valid UTF-8 are left out and appended to `refused`.
    """
    root = Path(root).resolve()
    pending = [root]
    size = first_batch
    while pending and not cancelled():
        folder = pending.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            continue
        files, dirs = [], []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if undecodable(entry.name):
                if refused is not None:
                    refused.append(os.fsencode(entry.path))
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIPPED_FOLDERS:
                        dirs.append(entry.name)
                elif entry.is_file() and _is_image(entry):
                    files.append(entry.name)
            except OSError:
                continue
        files = natural_sorted(files)
        dirs = natural_sorted(dirs, reverse=True)  # popped from the end: natural order
        pending.extend(folder / d for d in dirs)
        make = partial(_as_text, str(folder)) if as_text else partial(_as_paths, folder)
        for start in range(0, len(files), size):
            if cancelled():
                return
            chunk = files[start:start + size]
            yield make(chunk)
            if size != batch_size:  # after the first batch, switch to full batches
                rest = files[start + size:]
                for s2 in range(0, len(rest), batch_size):
                    if cancelled():
                        return
                    yield make(rest[s2:s2 + batch_size])
                size = batch_size
                break


def _as_text(base: str, names: list[str]) -> list[str]:
    return [os.path.join(base, n) for n in names]


def _as_paths(folder: Path, names: list[str]) -> list[Path]:
    return [folder / n for n in names]


def list_images(root: str | os.PathLike, refused: list | None = None) -> list[Path]:
    """All images under `root` in display order (the batches of `scan_folder` joined); names that
    are not UTF-8 go to `refused` (as bytes) when it is given."""
    return [p for batch in scan_folder(root, batch_size=10_000, refused=refused) for p in batch]


__all__ = ["scan_folder", "list_images", "undecodable", "SKIPPED_FOLDERS", "RASTER_EXTENSIONS"]
