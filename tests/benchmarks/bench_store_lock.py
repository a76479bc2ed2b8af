"""How long an edit holds the calling (GUI) thread while another program holds the write lock.

Prints, from the same run: the window's mode (one short try, then the background thread) beside
the baseline, the synchronous mode the window used before (SQLite's 2 s busy timeout and three
retries, still what the CLI uses), and the floor, an edit with no lock held. Then the time from
releasing the lock until every waiting edit is on disk.

    .venv/bin/python tests/benchmarks/bench_store_lock.py
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from desktop.core.store import open_store  # noqa: E402

EDITS = 20


def _edits(store, image, n):
    times = []
    for k in range(n):
        start = time.perf_counter()
        store.add_box(image, "heart", k, k, 5, 5)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(tmp)
        store.start_background()
        image = store.ensure_image("a.png", 100, 100)
        floor = _edits(store, image, EDITS)
        lock = sqlite3.connect(store.path, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        window = _edits(store, image, EDITS)
        released = time.perf_counter()
        lock.execute("ROLLBACK")
        store.wait_saved(30)
        drained = (time.perf_counter() - released) * 1000
        store.close()

        sync = open_store(tmp)
        lock.execute("BEGIN EXCLUSIVE")
        before = _edits(sync, image, 1)  # the old window: one edit is enough to see it
        lock.execute("ROLLBACK")
        sync.close()
        lock.close()

    def row(name, ms):
        print(f"{name:<46} median {statistics.median(ms):8.1f} ms   max {max(ms):8.1f} ms   ({len(ms)} edits)")

    print("GUI-thread time per edit while another program holds the write lock")
    row("floor: no lock held", floor)
    row("window mode (short try, background saving)", window)
    row("baseline: synchronous retries (old window)", before)
    print(f"{'all waiting edits on disk after the release':<46} {drained:8.1f} ms")


if __name__ == "__main__":
    main()
