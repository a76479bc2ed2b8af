"""One transaction per edit, with retries and an in-memory queue when the disk refuses.

Every write is a function `op(conn)` run inside BEGIN IMMEDIATE ... COMMIT. A locked database is
retried (SQLite's busy timeout, then a few short sleeps). If the write still fails (locked, read-only,
disk full, I/O error) the edit is kept in `pending`, listeners get a message naming the database
and the reason, and the queue is retried, in order, before the next write or on `flush()`.
Nothing is dropped silently.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from desktop.core.store.errors import StoreWriteError

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


def reason_of(exc: BaseException) -> str:
    text = str(exc).lower()
    for needle, reason in _REASONS:
        if needle in text:
            return reason
    return str(exc)


class Writer:
    def __init__(self, conn: sqlite3.Connection, db_path: str, retries: int = 3, delay: float = 0.05):
        self.conn = conn
        self.db_path = db_path
        self.retries = retries
        self.delay = delay
        self.pending: list[tuple[str, Op]] = []
        self.listeners: list[Callable[[str], None]] = []
        self.last_error: str | None = None
        self._depth = 0  # >0 inside an immediate batch: ops join the open transaction
        self._collected: list[list[tuple[str, Op]]] = []  # open queued batches: ops wait for the end

    # -- the public entry ------------------------------------------------------------------
    def write(self, op: Op, what: str, queue: bool = True) -> Any:
        """Run `op` in its own transaction. On a lasting failure: queue it (when `queue`) and
        tell listeners, then return None; or raise StoreWriteError (when not `queue`)."""
        if self._depth:
            return op(self.conn)
        if self._collected:
            self._collected[-1].append((what, op))
            return None
        if self.pending and not self.flush():
            return self._defer(op, what, queue, self.last_error or "earlier edits are still waiting")
        try:
            return self._commit(op)
        except (sqlite3.OperationalError, sqlite3.DatabaseError, OSError) as exc:
            return self._defer(op, what, queue, reason_of(exc))

    def flush(self) -> bool:
        """Retry the queued edits in order; True when the queue is empty afterwards."""
        while self.pending:
            what, op = self.pending[0]
            try:
                self._commit(op)
            except (sqlite3.OperationalError, sqlite3.DatabaseError, OSError) as exc:
                self.last_error = reason_of(exc)
                return False
            self.pending.pop(0)
        if self.last_error is not None:
            self.last_error = None
            self._tell(f"{self.db_path}: the waiting edits are saved now")
        return True

    # -- batches: several edits in one transaction (bulk commands, imports) ---------------------
    def begin(self) -> None:
        if self._depth == 0:
            self.flush()
            self._begin_with_retry()
        self._depth += 1

    def end(self, ok: bool) -> None:
        self._depth -= 1
        if self._depth != 0:
            return
        if not ok:
            # SQLite has already rolled back after some errors (disk full, I/O error): a second
            # ROLLBACK would raise "no transaction is active" and hide the real reason
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            return
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise StoreWriteError(f"{self.db_path}: cannot save: {reason_of(exc)}") from exc

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
            for _what, op in ops:
                op(conn)

        self.write(all_of, ops[0][0] if len(ops) == 1 else f"{len(ops)} edits")

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

    def _commit(self, op: Op) -> Any:
        for attempt in range(self.retries + 1):
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    result = op(self.conn)
                    self.conn.execute("COMMIT")
                    return result
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                transient = any(t in str(exc).lower() for t in _TRANSIENT)
                if attempt == self.retries or not transient:
                    raise
                time.sleep(self.delay * (attempt + 1))
        raise AssertionError("unreachable")

    def _defer(self, op: Op, what: str, queue: bool, reason: str) -> None:
        self.last_error = reason
        if not queue:
            raise StoreWriteError(f"{self.db_path}: could not save {what}: {reason}")
        self.pending.append((what, op))
        message = (f"{self.db_path}: could not save {what}: {reason}. "
                   f"{len(self.pending)} edit(s) kept in memory and retried; nothing is lost "
                   f"while Loupe stays open")
        self._tell(message)
        return None

    def _tell(self, message: str) -> None:
        for listener in list(self.listeners):
            listener(message)
