"""The annotation store of one image folder: a SQLite database in WAL mode, one transaction per edit.

Images are known by their path relative to the folder, their size and a content hash: when a file
is found again under another name, `ensure_image` moves its record (and its annotations) there.
Boxes and categories live in the mixins `boxes.py` and `categories.py`.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from desktop.core.store.boxes import BoxesMixin
from desktop.core.store.categories import CategoriesMixin
from desktop.core.store.category_state import CategoryStateMixin
from desktop.core.store.errors import StoreError
from desktop.core.store.location import content_hash, store_path
from desktop.core.store.records import ImageRecord
from desktop.core.store.schema import REVIEW_STATUSES, migrate
from desktop.core.store.writer import Writer

_IMAGE_COLUMNS = ("id, rel_path, width, height, file_size, content_hash, patient_key, review_status, "
                  "caption")
# ChestX-ray14 names files <patient>_<follow-up>.png: the patient is known from the name.
_NIH_NAME = re.compile(r"^(\d{8})_\d{3}")


def open_store(folder: str | Path, busy_timeout_ms: int = 2000) -> AnnotationStore:
    """Open (creating when needed) the store of `folder`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StoreError(f"{folder}: not a folder; annotations are kept per image folder")
    path, note = store_path(folder)
    return AnnotationStore(path, folder=folder, note=note, busy_timeout_ms=busy_timeout_ms)


class AnnotationStore(CategoriesMixin, CategoryStateMixin, BoxesMixin):
    def __init__(self, db_path: str | Path, folder: str | Path | None = None, note: str | None = None,
                 busy_timeout_ms: int = 2000):
        self.path = Path(db_path)
        self.folder = Path(folder) if folder is not None else self.path.parent.parent
        self.note = note  # set when the store is not inside the folder (read-only folder)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False,
                                   timeout=busy_timeout_ms / 1000)
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            # NORMAL in WAL: a committed transaction survives a crash of the process (SIGKILL);
            # only a power cut can lose the last commits. See decision 0020.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn, str(self.path))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the annotation store: {exc}") from exc
        self.conn = conn
        self.journal_mode = mode
        self.writer = Writer(conn, str(self.path))
        self.id_remap: dict[int, int] = {}
        self._max_box_id = 0

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        self.writer.flush()
        self.conn.close()

    def __enter__(self) -> AnnotationStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def pending(self) -> int:
        """How many edits wait in memory to be saved (0 when everything is on disk)."""
        return len(self.writer.pending)

    def flush(self) -> bool:
        return self.writer.flush()

    def add_listener(self, callback) -> None:
        """`callback(message)` is called when a write fails (and when waiting edits are saved)."""
        self.writer.listeners.append(callback)

    @contextlib.contextmanager
    def batch(self, queue: bool = False) -> Iterator[AnnotationStore]:
        """Several edits as ONE transaction: all of them are saved, or none.

        queue=False (imports): the transaction is open during the block, so reads inside it see
        the edits; a database that cannot be written raises StoreWriteError at once.
        queue=True (the editor's bulk commands): the edits are collected and written at the end
        of the block like a single edit: retried, and kept in memory when the disk refuses."""
        if queue:
            self.writer.begin_queued()
            end = self.writer.end_queued
        else:
            self.writer.begin()
            end = self.writer.end
        ok = False
        try:
            yield self
            ok = True
        finally:
            end(ok)

    def integrity_check(self) -> str:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]

    # -- images ----------------------------------------------------------------------------
    def image_id(self, rel_path: str) -> int | None:
        row = self.conn.execute("SELECT id FROM images WHERE rel_path = ?", (_norm(rel_path),)).fetchone()
        return row[0] if row else None

    def image(self, image_id: int) -> ImageRecord:
        row = self.conn.execute(f"SELECT {_IMAGE_COLUMNS} FROM images WHERE id = ?", (image_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no image with id {image_id}")
        return ImageRecord(*row)

    def images(self) -> list[ImageRecord]:
        return [ImageRecord(*r) for r in self.conn.execute(f"SELECT {_IMAGE_COLUMNS} FROM images ORDER BY id")]

    def image_count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM images").fetchone()[0]

    def ensure_image(self, rel_path: str, width: int, height: int, patient_key: str | None = None) -> int:
        """The id of the image at `rel_path`, adding it when new. A new path whose content matches
        an image whose file is gone takes over that image's record (a rename or move)."""
        rel = _norm(rel_path)
        row = self.conn.execute("SELECT id, content_hash, width, height FROM images WHERE rel_path = ?",
                                (rel,)).fetchone()
        if row is not None and (row[2], row[3]) == (int(width), int(height)) and (
                row[1] is not None or not (self.folder / rel).exists()):
            return row[0]
        found = content_hash(self.folder / rel)
        size, digest = found if found else (None, None)
        if patient_key is None:
            patient_key = _patient_from_name(rel)
        now = time.time()

        def op(conn: sqlite3.Connection) -> int:
            current = conn.execute("SELECT id FROM images WHERE rel_path = ?", (rel,)).fetchone()
            if current is not None:
                conn.execute("UPDATE images SET width=?, height=?, file_size=COALESCE(?, file_size), "
                             "content_hash=COALESCE(?, content_hash) WHERE id=?",
                             (int(width), int(height), size, digest, current[0]))
                return current[0]
            if digest is not None:
                for old_id, old_rel in conn.execute(
                        "SELECT id, rel_path FROM images WHERE content_hash = ? AND file_size = ?",
                        (digest, size)).fetchall():
                    if not (self.folder / old_rel).exists():
                        conn.execute("UPDATE images SET rel_path=?, modified=? WHERE id=?", (rel, now, old_id))
                        return old_id
            cur = conn.execute(
                "INSERT INTO images(rel_path, width, height, file_size, content_hash, patient_key, modified) "
                "VALUES (?,?,?,?,?,?,?)", (rel, int(width), int(height), size, digest, patient_key, now))
            return cur.lastrowid

        return self.writer.write(op, f"image {rel}", queue=False)

    def bulk_ensure_images(self, images) -> dict[str, int]:
        """Add many images at once: (rel_path, width, height) each; returns rel_path -> id for
        those given. Content hashes are filled later by ensure_image (imports stay fast)."""
        images = [(_norm(r), int(w), int(h)) for r, w, h in images]
        if not images:  # an import onto known images: no need to read every image row
            return {}
        now = time.time()

        def op(conn: sqlite3.Connection) -> dict[str, int]:
            conn.executemany("INSERT OR IGNORE INTO images(rel_path, width, height, patient_key, modified) "
                             "VALUES (?,?,?,?,?)", [(r, w, h, _patient_from_name(r), now) for r, w, h in images])
            wanted = {r for r, _w, _h in images}
            return {rel: i for i, rel in conn.execute("SELECT id, rel_path FROM images") if rel in wanted}

        return self.writer.write(op, f"{len(images)} image(s)", queue=False)

    def set_patient_key(self, image_id: int, patient_key: str | None) -> None:
        self._update_image(image_id, "patient_key", patient_key, "patient of image")

    # -- image-level data --------------------------------------------------------------------
    def set_review_status(self, image_id: int, status: str) -> None:
        if status not in REVIEW_STATUSES:
            raise StoreError(f"review status must be one of {', '.join(REVIEW_STATUSES)}, not {status!r}")
        self._update_image(image_id, "review_status", status, "review status")

    def review_status(self, image_id: int) -> str:
        return self.image(image_id).review_status

    def set_caption(self, image_id: int, text: str) -> None:
        self._update_image(image_id, "caption", text or "", "caption")

    def caption(self, image_id: int) -> str:
        return self.image(image_id).caption

    def set_image_labels(self, image_id: int, labels) -> None:
        """Replace the image's classification labels: {name: probability} or a list of names."""
        items = (list(labels.items()) if isinstance(labels, dict)
                 else [(str(n), None) for n in labels])

        def op(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM image_labels WHERE image_id = ?", (image_id,))
            conn.executemany("INSERT INTO image_labels(image_id, name, probability) VALUES (?,?,?)",
                             [(image_id, str(n), None if p is None else float(p)) for n, p in items])

        self.writer.write(op, "image labels")

    def image_labels(self, image_id: int) -> dict[str, float | None]:
        return dict(self.conn.execute(
            "SELECT name, probability FROM image_labels WHERE image_id = ? ORDER BY rowid", (image_id,)))

    def _update_image(self, image_id: int, column: str, value, what: str) -> None:
        now = time.time()
        self.writer.write(lambda conn: conn.execute(
            f"UPDATE images SET {column} = ?, modified = ? WHERE id = ?", (value, now, image_id)), what)


def _patient_from_name(rel: str) -> str | None:
    m = _NIH_NAME.match(Path(rel).name)
    return m.group(1) if m else None


def _norm(rel_path: str | Path) -> str:
    return Path(rel_path).as_posix()
