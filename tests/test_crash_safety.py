"""Nothing committed is lost: SIGKILL in the middle of a burst of edits, a locked database, a full
disk, a read-only database, and two windows writing to the same folder."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from desktop.core.store import open_store

BURST = textwrap.dedent("""
    import sys
    from desktop.core.store import open_store
    store = open_store(sys.argv[1])
    image = store.ensure_image("a.png", 4096, 4096)
    n = 0
    while True:
        n += 1
        box = store.add_box(image, "heart", n % 4000, n % 4000, 10, 10)
        store.update_box(box, w=11)
        print(box, flush=True)   # printed only after both transactions committed
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_burst_loses_nothing_committed(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", BURST, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    committed = []
    try:
        for line in proc.stdout:
            committed.append(int(line))
            if len(committed) >= 300:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    store = open_store(tmp_path)
    assert store.integrity_check() == "ok"
    on_disk = {b.id: b.w for b in store.boxes(store.image_id("a.png"))}
    assert set(committed) <= set(on_disk)
    assert all(on_disk[i] == 11 for i in committed)


def _disk_ids(store):
    conn = sqlite3.connect(store.path)
    try:
        return {r[0]: r[1] for r in conn.execute("SELECT id, x FROM boxes")}
    finally:
        conn.close()


def test_locked_database_keeps_edits_in_memory_and_saves_them_later(tmp_path):
    store = open_store(tmp_path, busy_timeout_ms=20)
    store.writer.delay = 0.001
    messages = []
    store.add_listener(messages.append)
    image = store.ensure_image("a.png", 100, 100)
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    b1 = store.add_box(image, "heart", 1, 1, 5, 5)
    store.update_box(b1, x=2)
    assert store.pending == 2
    assert str(store.path) in messages[-1] and "locked" in messages[-1] and "kept in memory" in messages[-1]
    other.execute("ROLLBACK")
    other.close()
    b2 = store.add_box(image, "heart", 3, 3, 5, 5)  # the next edit saves the waiting ones first, in order
    assert store.pending == 0
    # b1 was made while the edit waited: a provisional (negative) id, the real one once it landed
    assert b1 < 0 and store._rid(b1) > 0
    assert _disk_ids(store) == {store._rid(b1): 2.0, b2: 3.0}
    assert "saved now" in messages[-1]


def test_full_disk_and_read_only_database_keep_edits(tmp_path):
    store = open_store(tmp_path)
    messages = []
    store.add_listener(messages.append)
    image = store.ensure_image("a.png", 100, 100)
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is "full"
    boxes = [store.add_box(image, "heart", k, k, 5, 5) for k in range(400)]
    assert store.pending > 0 and "disk is full" in messages[-1]
    store.conn.execute("PRAGMA max_page_count = 1000000")
    assert store.flush()
    store.conn.execute("PRAGMA query_only = ON")  # the database turned read-only
    store.update_box(boxes[0], x=50)
    assert store.pending == 1 and "read-only" in messages[-1]
    store.conn.execute("PRAGMA query_only = OFF")
    store.close()  # closing saves what waits
    assert _disk_ids(store) == {store._rid(b): (50.0 if b == boxes[0] else float(k)) for k, b in enumerate(boxes)}


def test_two_windows_on_one_folder(tmp_path):
    a, b = open_store(tmp_path), open_store(tmp_path)
    image = a.ensure_image("a.png", 100, 100)
    assert b.ensure_image("a.png", 100, 100) == image
    made = {a: [], b: []}

    def work(store):
        for k in range(60):
            made[store].append(store.add_box(image, "heart", k, k, 5, 5))

    threads = [threading.Thread(target=work, args=(s,)) for s in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    real = {s: [s._rid(i) for i in made[s]] for s in (a, b)}
    assert len(set(real[a]) | set(real[b])) == 120
    assert a.integrity_check() == "ok"
    assert a.box_count() == b.box_count() == 120


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_many_times_loses_nothing_committed(tmp_path):
    """The long variant: ten kills at different points of the bursts, the store reopened after each."""
    committed = []
    for round_ in range(10):
        proc = subprocess.Popen([sys.executable, "-c", BURST, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        try:
            for line in proc.stdout:
                committed.append(int(line))
                if len(committed) >= 200 * (round_ + 1) + 37 * round_:
                    break
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        store = open_store(tmp_path)
        assert store.integrity_check() == "ok"
        on_disk = {b.id: b.w for b in store.boxes(store.image_id("a.png"))}
        store.close()
        assert set(committed) <= set(on_disk)
        assert all(on_disk[i] == 11 for i in committed)


def test_closing_on_a_full_disk_keeps_the_waiting_edits_in_a_recovery_file(tmp_path):
    """The old close() ignored a failed last flush: the waiting edits were lost without a word."""
    store = open_store(tmp_path)
    messages = []
    store.add_listener(messages.append)
    image = store.ensure_image("a.png", 100, 100)
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is "full"
    for k in range(300):
        store.add_box(image, "heart", k, k, 5, 5)
    waiting = store.pending
    assert waiting > 0
    message = store.close(wait=0.1)
    assert f"{waiting} edit(s) could not be saved" in message and "recovery" in message and message == messages[-1]
    again = open_store(tmp_path)  # a disk with room again: the next open puts them back
    assert again.box_count() == 300 and sorted(b.x for b in again.boxes(image)) == [float(k) for k in range(300)]
    again.close()
