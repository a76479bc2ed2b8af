"""Being stopped by the system (SIGTERM at shutdown, SIGHUP when the terminal closes) keeps the
edits that wait in memory: they go to a recovery file and come back on the next open. Before,
Python's default action ended the process at once and those edits were lost (decision 0150)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.core.store import open_store
from tests.editor_helpers import image_folder
from tests.store_window_helpers import _env, hold_write_lock

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_keeps_the_waiting_edits_in_a_recovery_file(tmp_path, sig):
    folder = image_folder(tmp_path / "imgs")
    child = subprocess.Popen([sys.executable, "-m", "tests.termination_child", str(folder), str(tmp_path / "s.ini")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=_env(), cwd=str(Path(__file__).parent.parent))
    try:
        assert child.stdout.readline().strip() == "open"
        locker = hold_write_lock(folder / ".loupe" / "annotations.db")
        try:
            child.stdin.write("\n")
            child.stdin.flush()
            assert child.stdout.readline().strip() == "waiting 2"
            child.send_signal(sig)
            out, err = child.communicate(timeout=30)
        finally:
            locker.release()
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, err
    assert f"exited 0 after [{int(sig)}]" in out
    assert f"{signal.Signals(sig).name} received" in err
    recovery = list((folder / ".loupe").glob("annotations.recovery-*.json"))
    assert len(recovery) == 1, err
    store = open_store(folder)  # the next open puts them back
    try:
        rows = store.conn.execute("SELECT x, y FROM boxes WHERE deleted = 0 ORDER BY x").fetchall()
        boxes = [tuple(r) for r in rows]
        assert boxes == [(10.0, 10.0), (40.0, 40.0)]
    finally:
        store.close()
