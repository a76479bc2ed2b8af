"""One transaction per edit, with retries and an in-memory queue when the disk refuses.

Every write is a function `op(conn)` run inside BEGIN IMMEDIATE ... COMMIT. If the write fails
(locked, read-only, disk full, I/O error) the edit is kept in `pending` with a record of what it
does (`record`, plain JSON, so it can go to a recovery file), listeners get a message naming the
database and the reason, and the queue is retried in order. Nothing is dropped silently.

Two ways to retry (decision 0110):
- synchronous (the CLI, scripts): SQLite's busy timeout and short sleeps, then the queue is retried
  before the next write and on `flush()`;
- in the background (the window, `start_background`): the calling thread tries once with a short
  busy timeout and never sleeps; a waiting edit is retried by a thread with its own connection, so
  a lock held by another program never freezes the window.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop.core.store.errors import StoreError, StoreReadOnlyError, StoreWriteError

Op = Callable[[sqlite3.Connection], Any]

_TRANSIENT = ("locked", "busy")
_REASONS = (
    ("readonly", "the database or its folder is read-only"),
    ("read-only", "the database or its folder is read-only"),
    ("full", "the disk is full"),
    ("locked", "the database is locked by another program"),
    ("busy", "the database is locked by another program"),
    ("disk i/o", "the disk reported an I/O error"),
    ("unable to open", "the database file cannot be opened"),
)
_DB_ERRORS = (sqlite3.OperationalError, sqlite3.DatabaseError, OSError)


def reason_of(exc: BaseException) -> str:
    text = str(exc).lower()
    for needle, reason in _REASONS:
        if needle in text:
            return reason
    return str(exc)


@dataclass
class Pending:
    what: str
    op: Op
    record: dict | None


class Writer:
    def __init__(self, conn: sqlite3.Connection, db_path: str, retries: int = 3, delay: float = 0.05):
        self.conn = conn
        self.db_path = db_path
        self.retries = retries
        self.delay = delay
        self.pending: list[Pending] = []
        self.listeners: list[Callable[[str], None]] = []
        self.last_error: str | None = None
        self.read_only: str | None = None  # the message every write gets on a read-only store
        self.on_commit: Callable[[list], None] = lambda staged: None
        self.background = None  # a background.Retrier once start_background ran
        self.foreground_attempts = 0  # commits tried on the calling thread (tests count them)
        self._lock = threading.RLock()
        self._local = threading.local()  # ids an op allocated, applied once its COMMIT succeeded
        self._depth = 0  # >0 inside an immediate batch: ops join the open transaction
        self._collected: list[list[Pending]] = []  # open queued batches: ops wait for the end

    # -- the public entry ------------------------------------------------------------------
    def write(self, op: Op, what: str, queue: bool = True, record: dict | None = None,
              ordered: bool = True) -> Any:
        """Run `op` in its own transaction. On a lasting failure: queue it (when `queue`) and
        tell listeners, then return None; or raise StoreWriteError (when not `queue`).
        `ordered=False`: the write does not depend on the waiting edits (a new image row), so it
        is tried even while they wait."""
        if self.read_only:
            raise StoreReadOnlyError(self.read_only)
        if self._depth:
            return op(self.conn)
        if self._collected:
            self._collected[-1].append(Pending(what, op, record))
            return None
        if self.pending and ordered:
            if self.background is None:
                self.flush()
            if self.pending:
                return self._defer(op, what, queue, self.last_error or "earlier edits are still waiting", record)
        try:
            return self._commit(self.conn, op, self.retries if self.background is None else 0)
        except _DB_ERRORS as exc:
            return self._defer(op, what, queue, reason_of(exc), record)

    def flush(self) -> bool:
        """Retry the queued edits in order; True when the queue is empty afterwards. With a
        background thread this only wakes it (see `wait_saved`)."""
        if self.background is not None:
            self.background.kick()
            return not self.pending
        while self.pending:
            if not self._commit_first(self.conn, self.retries):
                return False
        self._saved_now()
        return True

    def wait_saved(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the waiting edits to be saved; True when none is left."""
        end = time.monotonic() + timeout
        self.flush()
        while self.pending and time.monotonic() < end:
            time.sleep(0.01)
            if self.background is None:
                self.flush()
        return not self.pending

    def take_pending(self) -> list[Pending]:
        """Remove and return the waiting edits (to write them to a recovery file, or to discard
        them on the user's explicit choice). The background thread is stopped first."""
        if self.background is not None:
            self.background.stop()
            self.background = None
        with self._lock:
            taken, self.pending = self.pending, []
        self.last_error = None
        return taken

    # -- batches: several edits in one transaction (bulk commands, imports) ---------------------
    def begin(self) -> None:
        if self.read_only:
            raise StoreReadOnlyError(self.read_only)
        if self._depth == 0:
            if not self.flush():
                raise StoreWriteError(f"{self.db_path}: cannot write: {len(self.pending)} earlier edit(s) "
                                      f"still wait to be saved ({self.last_error})", len(self.pending))
            self._begin_with_retry()
        self._depth += 1

    def end(self, ok: bool) -> None:
        self._depth -= 1
        if self._depth == 0:
            if ok:
                try:
                    self.conn.execute("COMMIT")
                except sqlite3.Error as exc:  # the disk filled at commit: say so, leave nothing open
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    self._staged().clear()
                    raise StoreWriteError(f"{self.db_path}: cannot save: {reason_of(exc)}") from exc
                self._apply_staged()
            else:
                # SQLite has already rolled back after some errors (disk full, I/O error): a second
                # ROLLBACK would raise "no transaction is active" and hide the real reason
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                self._staged().clear()

    def begin_queued(self) -> None:
        """Start collecting edits that are then written as ONE transaction by `end_queued`, with
        the same retry/queue guarantees as a single edit (the editor's bulk commands)."""
        self._collected.append([])

    def end_queued(self, ok: bool) -> None:
        ops = self._collected.pop()
        if not ok or not ops:
            return
        if self._collected:  # nested: join the outer batch
            self._collected[-1].extend(ops)
            return

        def all_of(conn: sqlite3.Connection) -> None:
            for item in ops:
                item.op(conn)

        records = [p.record for p in ops]
        record = None if None in records else (records[0] if len(records) == 1
                                               else {"edit": "batch", "items": records})
        main = [p.what for p in ops if p.what != "review status"] or [ops[0].what]
        what = main[0] if len(main) == 1 else f"{len(main)} changes made together"
        self.write(all_of, what, record=record)

    # -- ids allocated inside a transaction ---------------------------------------------------
    def stage(self, handle: int, real: int) -> None:
        """An op allocated `real` for the provisional `handle`; it counts once COMMIT succeeded."""
        self._staged().append((handle, real))

    def _staged(self) -> list:
        if not hasattr(self._local, "staged"):
            self._local.staged = []
        return self._local.staged

    def _apply_staged(self) -> None:
        staged, self._local.staged = self._staged(), []
        if staged:
            self.on_commit(staged)

    # -- internals ---------------------------------------------------------------------------
    def _begin_with_retry(self) -> None:
        for attempt in range(self.retries + 1):
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if attempt == self.retries or not any(t in str(exc).lower() for t in _TRANSIENT):
                    raise StoreWriteError(f"{self.db_path}: cannot write: {reason_of(exc)}") from exc
                time.sleep(self.delay * (attempt + 1))

    def _commit(self, conn: sqlite3.Connection, op: Op, retries: int) -> Any:
        for attempt in range(retries + 1):
            if conn is self.conn:
                self.foreground_attempts += 1
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = op(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    self._staged().clear()
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                self._apply_staged()
                return result
            except sqlite3.OperationalError as exc:
                transient = any(t in str(exc).lower() for t in _TRANSIENT)
                if attempt == retries or not transient:
                    raise
                time.sleep(self.delay * (attempt + 1))
        raise AssertionError("unreachable")

    def _commit_first(self, conn: sqlite3.Connection, retries: int) -> bool:
        """Write the first waiting edit; False (and `last_error` set) when the disk refused. An
        edit that can never apply (its box is gone) is dropped with a message, not retried."""
        with self._lock:
            if not self.pending:
                return True
            item = self.pending[0]
        try:
            self._commit(conn, item.op, retries)
        except _DB_ERRORS as exc:
            self.last_error = reason_of(exc)
            return False
        except StoreError as exc:
            self._tell(f"{self.db_path}: could not save {item.what}: {exc}; this edit was not applied")
        with self._lock:
            if self.pending and self.pending[0] is item:
                self.pending.pop(0)
        return True

    def _saved_now(self) -> None:
        if self.last_error is not None and not self.pending:
            self.last_error = None
            self._tell(f"{self.db_path}: the waiting edits are saved now")

    def _defer(self, op: Op, what: str, queue: bool, reason: str, record: dict | None) -> None:
        self.last_error = reason
        if not queue:
            raise StoreWriteError(f"{self.db_path}: could not save {what}: {reason}")
        with self._lock:
            self.pending.append(Pending(what, op, record))
            n = len(self.pending)
        message = (f"{self.db_path}: could not save {what}: {reason}. "
                   f"{n} edit(s) kept in memory and retried; nothing is lost "
                   f"while Loupe stays open")
        if self.background is not None:
            self.background.kick()
        self._tell(message)
        return None

    def _tell(self, message: str) -> None:
        for listener in list(self.listeners):
            try:
                listener(message)
            except RuntimeError:  # its window is gone (a Qt object deleted): nobody to tell
                self.listeners.remove(listener)
