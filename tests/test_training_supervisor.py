"""The supervisor with real child processes: progress, curves, finish, cancel (polite and forced),
a crash and a hard kill reported with the child's log."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from desktop.jobs.training import TrainingSupervisor, training_command

pytestmark = pytest.mark.gui
CHILD = str(Path(__file__).with_name("training_child.py"))


def _run(qtbot, mode, tmp_path, grace_s=10.0, cancel_after_steps=None, timeout=60000):
    sup = TrainingSupervisor(grace_s=grace_s)
    got = {"steps": [], "epochs": [], "finished": None, "failed": None, "cancelled": None}
    sup.progress.connect(lambda ev: got["steps"].append(ev))
    sup.epoch.connect(lambda ev: got["epochs"].append(ev))
    sup.finished.connect(lambda ev: got.__setitem__("finished", ev))
    sup.failed.connect(lambda msg, tail: got.__setitem__("failed", (msg, tail)))
    sup.cancelled.connect(lambda out: got.__setitem__("cancelled", out))
    if cancel_after_steps:
        def maybe_cancel(ev):
            if len(got["steps"]) == cancel_after_steps:
                sup.cancel()
        sup.progress.connect(maybe_cancel)
    sup.start([sys.executable, CHILD, mode, str(tmp_path), str(sup.stop_file)])
    qtbot.waitUntil(lambda: any(got[k] is not None for k in ("finished", "failed", "cancelled")), timeout=timeout)
    sup.wait()
    return sup, got


def test_progress_curves_and_finish(qtbot, tmp_path):
    sup, got = _run(qtbot, "ok", tmp_path)
    assert got["finished"]["metrics"] == {"map50": 0.3}
    assert [e["epoch"] for e in got["epochs"]] == [1, 2, 3]
    assert [e["val_loss"] for e in got["epochs"]] == pytest.approx([1.2, 0.6, 0.4])
    assert len(got["steps"]) == 12 and got["failed"] is None
    assert "library noise" in "\n".join(sup._tail)  # stdout noise went to stderr, not the protocol


def test_cancel_stops_after_the_current_step(qtbot, tmp_path):
    sup, got = _run(qtbot, "slow", tmp_path, cancel_after_steps=2)
    assert got["cancelled"] == str(tmp_path)
    assert len(got["steps"]) <= 3 and got["finished"] is None and got["failed"] is None
    assert not sup.stop_file.exists()


def test_child_that_ignores_cancel_is_killed(qtbot, tmp_path):
    t0 = time.monotonic()
    sup, got = _run(qtbot, "ignore-stop", tmp_path, grace_s=1.0, cancel_after_steps=1)
    assert got["cancelled"] is not None and got["finished"] is None
    assert time.monotonic() - t0 < 20 and sup.proc.returncode < 0


def test_crash_is_reported_with_the_log(qtbot, tmp_path):
    _, got = _run(qtbot, "crash", tmp_path)
    msg, tail = got["failed"]
    assert "out of memory" in msg
    assert "Traceback" in tail and "RuntimeError" in tail


def test_hard_kill_is_reported(qtbot, tmp_path):
    _, got = _run(qtbot, "abort", tmp_path)
    msg, tail = got["failed"]
    assert "SIGKILL" in msg and "about to die hard" in tail


def test_training_command_runs_the_same_executable(tmp_path):
    cmd = training_command("detector", "data", "heartformer", "out", {"epochs": 3, "no_ema": True},
                           stop_file="s")
    assert cmd[:3] == [sys.executable, "-m", "desktop"]
    assert cmd[3:5] == ["train", "detector"] and "--progress" in cmd and "jsonl" in cmd
    assert cmd[cmd.index("--epochs") + 1] == "3" and "--no-ema" in cmd and "--stop-file" in cmd


def test_cancel_asked_on_every_step_still_stops_politely(qtbot, tmp_path):
    """A second Cancel while the child is stopping must not send the second signal that ends it at
    once: the child still finishes its step and reports "cancelled"."""
    sup = TrainingSupervisor(grace_s=30.0)
    got = {}
    sup.progress.connect(lambda ev: sup.cancel())
    sup.cancelled.connect(lambda out: got.update(cancelled=out))
    sup.failed.connect(lambda m, t: got.update(failed=m))
    sup.start([sys.executable, CHILD, "slow", str(tmp_path), str(sup.stop_file)])
    qtbot.waitUntil(lambda: bool(got), timeout=60000)
    sup.wait()
    assert got == {"cancelled": str(tmp_path)} and sup.proc.returncode == 3
