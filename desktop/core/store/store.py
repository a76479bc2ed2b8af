"""The annotation store of one image folder: a SQLite database in WAL mode, one transaction per edit.

Images are known by their path relative to the folder, their size and a content hash: when a file
is found again under another name, `ensure_image` moves its record (and its annotations) there.
Boxes, categories and model runs live in the mixins `boxes.py`, `categories.py` and `runs.py`.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from desktop.core.store import location
from desktop.core.store.background import Retrier
from desktop.core.store.boxes import BoxesMixin
from desktop.core.store.categories import CategoriesMixin
from desktop.core.store.category_state import CategoryStateMixin
from desktop.core.store.errors import StoreError, StoreReadOnlyError, StoreWriteError
from desktop.core.store.instances import Instance, Registration, others
from desktop.core.store.location import COPY_FILE, STORE_DIR, STORE_FILE, content_hash, fallback_dir
from desktop.core.store.measurements import MeasurementsMixin
from desktop.core.store.records import ImageRecord
from desktop.core.store.recovery import find_recovery, replay_file, write_recovery
from desktop.core.store.runs import RunsMixin
from desktop.core.store.schema import REVIEW_STATUSES, check_version, migrate
from desktop.core.store.writer import Writer

_IMAGE_COLUMNS = ("id, rel_path, width, height, file_size, content_hash, patient_key, review_status, "
                  "caption")
# ChestX-ray14 names files <patient>_<follow-up>.png: the patient is known from the name.
_NIH_NAME = re.compile(r"^(\d{8})_\d{3}")


def open_store(folder: str | Path, busy_timeout_ms: int = 2000) -> AnnotationStore:
    """Open (creating when needed) the store of `folder`. A folder that cannot be written but has
    a store opens it read-only (`store.read_only`); `store.note` says so."""
    folder = Path(folder)
    if not folder.is_dir():
        raise StoreError(f"{folder}: not a folder; annotations are kept per image folder")
    path, note, read_only = location.locate(folder)
    return AnnotationStore(path, folder=folder, note=note, busy_timeout_ms=busy_timeout_ms, read_only=read_only)


def working_copy_exists(folder: str | Path) -> bool:
    """True once Edit a Copy was chosen for this read-only folder (the copy is the memory of it)."""
    return (fallback_dir(Path(folder)) / COPY_FILE).is_file()


def open_working_copy(folder: str | Path, busy_timeout_ms: int = 2000) -> AnnotationStore:
    """For a read-only folder: a writable copy of its store in the user's data directory, named as
    a copy (made once; later opens reuse it, so edits made in it are kept)."""
    folder = Path(folder)
    own = folder / STORE_DIR / STORE_FILE
    target = fallback_dir(folder) / COPY_FILE
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        (target.parent / "folder.txt").write_text(str(folder.resolve()), encoding="utf-8")
        source = AnnotationStore(own, folder=folder, read_only=True)
        tmp = target.with_name(target.name + ".tmp")
        dest = sqlite3.connect(str(tmp))
        try:
            source.conn.backup(dest)
        finally:
            dest.close()
            source.close()
        os.replace(tmp, target)
    note = (f"{folder} is read-only: edits go to a copy of its annotations in {target}, not to the "
            f"folder's own {own}")
    return AnnotationStore(target, folder=folder, note=note, busy_timeout_ms=busy_timeout_ms)


class AnnotationStore(CategoriesMixin, CategoryStateMixin, BoxesMixin, MeasurementsMixin, RunsMixin):
    def __init__(self, db_path: str | Path, folder: str | Path | None = None, note: str | None = None,
                 busy_timeout_ms: int = 2000, read_only: bool = False):
        self.path = Path(db_path)
        self.folder = Path(folder) if folder is not None else self.path.parent.parent
        self.note = note  # set when the store is not the folder's own writable one
        self.read_only = bool(read_only)
        self.immutable = False
        self.is_working_copy = self.path.name == COPY_FILE  # a read-only folder's annotations, copied
        self.busy_timeout_ms = busy_timeout_ms
        self.recovered: list[str] = []  # messages about recovery files replayed on open
        try:
            if self.read_only:
                conn = self._connect_read_only()
                check_version(conn, str(self.path))
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            else:
                conn = self._connect(busy_timeout_ms)
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                migrate(conn, str(self.path))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the annotation store: {exc}") from exc
        self.conn = conn
        self.journal_mode = mode
        self.writer = Writer(conn, str(self.path))
        self.writer.on_commit = self._landed
        if self.read_only:
            self.writer.read_only = (f"{self.path} is read-only (the folder {self.folder} cannot be "
                                     f"written): edits cannot be saved there, and nothing was changed")
        self.id_remap: dict[int, int] = {}  # provisional handle (negative) -> real id, once landed
        self._handles_lock = threading.Lock()
        self._last_handle = 0
        self._registration: Registration | None = None
        self._data_version = self._read_data_version()
        self._replay_recovery()

    def _connect(self, busy_timeout_ms: int) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False,
                               timeout=busy_timeout_ms / 1000)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        # NORMAL in WAL: a committed transaction survives a crash of the process (SIGKILL);
        # only a power cut can lose the last commits. See decision 0020.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _connect_read_only(self) -> sqlite3.Connection:
        """mode=ro; immutable=1 when SQLite could not even have its -wal/-shm files (decision 0114)."""
        if not self.path.is_file():
            raise StoreError(f"{self.path}: no annotation store there")
        base = "file:" + urllib.parse.quote(str(self.path.resolve())) + "?mode=ro"
        tries = [False, True] if location.sidecar_creatable(self.path) else [True]
        for immutable in tries:
            conn = sqlite3.connect(base + ("&immutable=1" if immutable else ""), uri=True, isolation_level=None,
                                   check_same_thread=False, timeout=self.busy_timeout_ms / 1000)
            try:
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                conn.close()
                if immutable:
                    raise
                continue
            self.immutable = immutable
            wal = Path(f"{self.path}-wal")
            if immutable and wal.exists() and wal.stat().st_size > 0:
                self.note = (self.note or "") + (f"; its last edits (in {wal.name}) cannot be read "
                                                 "without write access")
            return conn
        raise AssertionError("unreachable")

    # -- lifecycle -------------------------------------------------------------------------
    def start_background(self, foreground_timeout_ms: int = 30, background_timeout_ms: int = 1000) -> None:
        """The window's mode: a write on the calling thread waits at most `foreground_timeout_ms`
        for another program's lock; a waiting edit is saved by a background thread. Also
        announces this window to other Loupe windows on the folder (decision 0113)."""
        if self.read_only or self.writer.background is not None:
            return
        self.conn.execute(f"PRAGMA busy_timeout = {int(foreground_timeout_ms)}")
        self._registration = Registration(self.path)
        self.writer.background = Retrier(self.writer, lambda: self._connect(background_timeout_ms),
                                         tick=self._registration.beat)

    def other_instances(self) -> list[Instance]:
        """Other Loupe windows that have this store open now."""
        if self._registration is not None:
            return self._registration.others()
        return others(self.path.parent / "instances")

    def changed_on_disk(self) -> bool:
        """True once after another connection (window, program, this store's saving thread)
        committed a change (SQLite's PRAGMA data_version)."""
        version = self._read_data_version()
        changed, self._data_version = version != self._data_version, version
        return changed

    def _read_data_version(self) -> int:
        try:
            return self.conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.DatabaseError:
            return self._data_version

    def close(self, wait: float = 2.0) -> str | None:
        """Save what waits (up to `wait` s). Edits that still cannot be saved go to a recovery file
        beside the store, replayed on the next open; returns the message saying so (None when
        everything was saved)."""
        message = None
        if self.writer.pending and not self.writer.wait_saved(wait):
            message = self._to_recovery()
        if self.writer.background is not None:
            self.writer.background.stop()
            self.writer.background = None
        if self._registration is not None:
            self._registration.close()
        self.conn.close()
        return message

    def __enter__(self) -> AnnotationStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def pending(self) -> int:
        """How many edits wait in memory to be saved (0 when everything is on disk)."""
        return len(self.writer.pending)

    @property
    def pending_reason(self) -> str | None:
        return self.writer.last_error if self.writer.pending else None

    def flush(self) -> bool:
        return self.writer.flush()

    def wait_saved(self, timeout: float) -> bool:
        return self.writer.wait_saved(timeout)

    def save_recovery(self) -> Path:
        """Write the waiting edits to a recovery file beside the store (the data directory when that
        fails) and forget them here; they are put back on the next open. Raises StoreWriteError
        when no file could be written (then the edits stay waiting)."""
        reason = self.writer.last_error
        taken = self.writer.take_pending()
        records = [p.record for p in taken if p.record is not None]
        try:
            return write_recovery(self.path, records, reason, fallback_dir(self.folder))
        except StoreWriteError:
            self.writer.pending[:0] = taken  # nothing written: keep them waiting
            raise

    def discard_pending(self) -> int:
        """Forget the waiting edits, on the user's explicit choice; returns how many."""
        n = len(self.writer.take_pending())
        self.writer._tell(f"{self.path}: {n} unsaved edit(s) were discarded")
        return n

    def _to_recovery(self) -> str:
        n = self.pending
        try:
            path = self.save_recovery()
        except StoreWriteError as exc:
            message = f"{self.path}: {n} edit(s) could not be saved and are lost: {exc}"
        else:
            message = (f"{n} edit(s) could not be saved into {self.path}; they were written to {path} "
                       f"and are put back the next time this folder is opened")
        self.writer._tell(message)
        return message

    def _replay_recovery(self) -> None:
        files = find_recovery(self.path, fallback_dir(self.folder))
        if files and self.read_only:
            self.recovered.append(f"{len(files)} recovery file(s) of unsaved edits wait beside {self.path}; "
                                  "they are put back once the folder can be written")
            return
        for path in files:
            claimed = path.with_name(f"{path.name}.replaying-{os.getpid()}")
            try:
                os.replace(path, claimed)  # two windows opening at once: only one replays a file
            except OSError:
                continue
            message = replay_file(self, claimed, original=path)
            self.recovered.append(message)

    def add_listener(self, callback) -> None:
        """`callback(message)` is called when a write fails (and when waiting edits are saved).
        With a background thread it may be called from that thread."""
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
        if self.read_only:  # nothing may be written: the record as it is, or none
            if row is not None:
                return row[0]
            raise StoreReadOnlyError(self.writer.read_only)
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

        return self.writer.write(op, f"image {rel}", queue=False, ordered=False)

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

        self.writer.write(op, "image labels", record={"edit": "image_labels", "image_id": int(image_id),
                                                      "labels": [[str(n), p] for n, p in items]})

    def image_labels(self, image_id: int) -> dict[str, float | None]:
        return dict(self.conn.execute(
            "SELECT name, probability FROM image_labels WHERE image_id = ? ORDER BY rowid", (image_id,)))

    def _update_image(self, image_id: int, column: str, value, what: str) -> None:
        now = time.time()
        self.writer.write(lambda conn: conn.execute(
            f"UPDATE images SET {column} = ?, modified = ? WHERE id = ?", (value, now, image_id)), what,
            record={"edit": "image", "image_id": int(image_id), "column": column, "value": value})


def _patient_from_name(rel: str) -> str | None:
    m = _NIH_NAME.match(Path(rel).name)
    return m.group(1) if m else None


def _norm(rel_path: str | Path) -> str:
    rel = Path(rel_path).as_posix()
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:  # SQLite would say "surrogates not allowed" (decision 0118)
        raise StoreError(f"{rel_path!r}: the file name is not valid UTF-8 text; rename the file") from None
    return rel
