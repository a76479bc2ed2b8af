"""Where a folder's store lives, and how an image file is recognised after a rename or move."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

STORE_DIR = ".loupe"
STORE_FILE = "annotations.db"
_HASH_CHUNK = 1 << 20  # the hash reads at most the first and last MiB (see decision 0021)


def folder_writable(folder: Path) -> bool:
    """True when `<folder>/.loupe` can be created and written (tries a real file: os.access lies
    on network shares and for root)."""
    target = folder / STORE_DIR
    try:
        target.mkdir(exist_ok=True)
        probe = target / f".probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def fallback_dir(folder: Path) -> Path:
    """The per-folder directory in the user's data dir, keyed by the folder's absolute path."""
    from platformdirs import user_data_dir

    base = Path(os.environ.get("LOUPE_DATA_DIR") or user_data_dir("Loupe", appauthor=False))
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    return base / "stores" / f"{folder.name or 'root'}-{key}"


COPY_FILE = "annotations-copy-of-read-only-folder.db"


def store_path(folder: Path) -> tuple[Path, str | None]:
    """Path of the folder's database and, when it is not inside the folder, a note saying why."""
    path, note, _read_only = locate(folder)
    return path, note


def locate(folder: Path) -> tuple[Path, str | None, bool]:
    """(database, note, read_only). A folder that cannot be written but already has a store opens
    that store read-only (its annotations are shown, decision 0114); one without a store gets a new
    store in the user's data directory."""
    own = folder / STORE_DIR / STORE_FILE
    if folder_writable(folder):
        return own, None, False
    if own.is_file():
        note = (f"{folder} is read-only: its annotations ({own}) are shown, but edits cannot be "
                f"saved there")
        return own, note, True
    where = fallback_dir(folder)
    where.mkdir(parents=True, exist_ok=True)
    (where / "folder.txt").write_text(str(folder.resolve()), encoding="utf-8")
    note = f"{folder} is not writable; its annotations are kept in {where / STORE_FILE}"
    return where / STORE_FILE, note, False


def sidecar_creatable(db_path: Path) -> bool:
    """Whether SQLite can have the -wal and -shm files of a WAL database beside `db_path` (they
    exist, or its folder can be written); when not, a read-only open needs `immutable=1`."""
    wal, shm = Path(f"{db_path}-wal"), Path(f"{db_path}-shm")
    if wal.exists() and shm.exists():
        return True
    try:
        probe = db_path.parent / f".probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def content_hash(path: Path) -> tuple[int, str] | None:
    """(size, hash) of a file, or None when it cannot be read. The hash covers the size and the
    first and last MiB, so it is cheap on large DICOMs and still tells images apart."""
    try:
        size = path.stat().st_size
        h = hashlib.blake2b(digest_size=16)
        h.update(str(size).encode())
        with open(path, "rb") as f:
            h.update(f.read(_HASH_CHUNK))
            if size > 2 * _HASH_CHUNK:
                f.seek(-_HASH_CHUNK, os.SEEK_END)
                h.update(f.read(_HASH_CHUNK))
            elif size > _HASH_CHUNK:
                h.update(f.read())
        return size, h.hexdigest()
    except OSError:
        return None
