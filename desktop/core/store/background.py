"""The thread that saves waiting edits while the window stays responsive (no Qt).

It has its own SQLite connection with a long busy timeout, so waiting for another program's lock
happens here and never on the window's thread. Edits are written in the order they were made;
between failed attempts it backs off (50 ms doubling to 1 s), and `kick()` wakes it at once.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

BACKOFF_START, BACKOFF_MAX = 0.05, 1.0


class Retrier:
    def __init__(self, writer, connect: Callable[[], sqlite3.Connection], tick: Callable[[], None] | None = None,
                 tick_every: float = 5.0):
        self.writer = writer
        self._connect = connect
        self._tick, self._tick_every = tick, tick_every
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"loupe-store-writer {writer.db_path}", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        self._wake.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        conn = self._connect()
        backoff = BACKOFF_START
        try:
            while not self._stopped.is_set():
                self._wake.wait(backoff if self.writer.pending else self._tick_every)
                self._wake.clear()
                if self._stopped.is_set():
                    break
                if self._tick is not None:
                    try:
                        self._tick()
                    except Exception:  # a heartbeat that fails must not stop the saving
                        pass
                while self.writer.pending and not self._stopped.is_set():
                    if not self.writer._commit_first(conn, 0):
                        backoff = min(backoff * 2, BACKOFF_MAX)
                        break
                    backoff = BACKOFF_START
                if not self.writer.pending:
                    self.writer._saved_now()
        finally:
            conn.close()
