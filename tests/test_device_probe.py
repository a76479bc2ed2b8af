"""The device probe runs in a child process (`loupe devices --json`), never importing torch in the
window's process (decision 0121): its answer fills the Models dock's device menu and the Training
panel's note; a child that fails or says nothing usable leaves the CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from model_panel_helpers import fake_device_probe  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_loupe_devices_json_lists_the_cpu_last_and_labels_every_device():
    out = subprocess.run([sys.executable, "-m", "desktop", "devices", "--json"], capture_output=True, text=True,
                         cwd=ROOT, timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert out.returncode == 0, out.stderr
    devices = json.loads(out.stdout.strip().splitlines()[-1])
    assert devices[-1] == ["cpu", "CPU"]
    assert all(isinstance(d, list) and len(d) == 2 and d[1] for d in devices)
    import torch  # the child's answer is torch's own

    assert sum(d[0].startswith("cuda:") for d in devices) == (torch.cuda.device_count()
                                                               if torch.cuda.is_available() else 0)


def test_the_probe_output_is_read_from_its_last_json_line():
    from desktop.ui.device_probe import parse_devices

    text = 'UserWarning: CUDA initialization: no driver\n[["cuda:0", "CUDA: A"], ["cpu", "CPU"]]\n'
    assert parse_devices(text) == [("cuda:0", "CUDA: A"), ("cpu", "CPU")]
    assert parse_devices("Traceback (most recent call last):\n  ...\nImportError: libtorch") == [("cpu", "CPU")]
    assert parse_devices("[1, 2, 3]") == [("cpu", "CPU")]


def test_a_frozen_app_asks_its_own_executable(monkeypatch):
    from desktop.ui import device_probe

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert device_probe.probe_command() == [sys.executable, "devices", "--json"]
    monkeypatch.delattr(sys, "frozen")
    assert device_probe.probe_command() == [sys.executable, "-m", "desktop", "devices", "--json"]


def test_both_panels_hear_one_child_while_the_event_loop_keeps_running(qtbot, monkeypatch):
    """The child takes a second (torch's import); meanwhile the GUI thread keeps serving a 10 ms
    timer, which the in-process import could not promise (it holds the GIL)."""
    from PySide6.QtCore import QProcess, QTimer

    from desktop.ui.training_panel.panel import TrainingPanel

    probe_module = fake_device_probe(monkeypatch, [("cuda:0", "CUDA: Test GPU"), ("cpu", "CPU")], delay_s=1.0)
    panel = TrainingPanel(types.SimpleNamespace(settings=None))
    qtbot.addWidget(panel)
    second = TrainingPanel(types.SimpleNamespace(settings=None))
    qtbot.addWidget(second)
    assert panel.device_note.text() == "Looking for a GPU…"
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    qtbot.waitUntil(lambda: "GPU found" in panel.device_note.text(), timeout=30000)
    timer.stop()
    assert second.device_note.text() == "GPU found: training runs on it."
    probe = probe_module.shared_probe()
    assert probe.devices == [("cuda:0", "CUDA: Test GPU"), ("cpu", "CPU")]
    assert len(ticks) > 20  # the loop ran all along (a blocked loop would tick a few times)
    # a panel made later gets the answer at once, without another child
    third = TrainingPanel(types.SimpleNamespace(settings=None))
    qtbot.addWidget(third)
    assert third.device_note.text() == "GPU found: training runs on it."
    qtbot.wait(2500)  # past the panels' start delays: still the one child
    assert len(probe.findChildren(QProcess)) == 1


def test_a_failing_child_leaves_the_cpu_and_says_why(qtbot, monkeypatch):
    from desktop.ui.training_panel.panel import TrainingPanel

    probe_module = fake_device_probe(monkeypatch, [("cuda:0", "CUDA: X")], code=3)
    monkeypatch.setattr(probe_module, "probe_command",
                        lambda: [sys.executable, "-c", "import sys; sys.stderr.write('no libtorch'); sys.exit(3)"])
    panel = TrainingPanel(types.SimpleNamespace(settings=None))
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: "No GPU found" in panel.device_note.text(), timeout=30000)
    probe = probe_module.shared_probe()
    assert probe.devices == [("cpu", "CPU")]
    assert "status 3" in probe.error and "no libtorch" in probe.error


def test_a_child_that_cannot_start_leaves_the_cpu(qtbot, monkeypatch, tmp_path):
    from desktop.ui.training_panel.panel import TrainingPanel

    probe_module = fake_device_probe(monkeypatch, [])
    monkeypatch.setattr(probe_module, "probe_command", lambda: [str(tmp_path / "no-such-program")])
    panel = TrainingPanel(types.SimpleNamespace(settings=None))
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: "No GPU found" in panel.device_note.text(), timeout=30000)
    assert "could not start" in probe_module.shared_probe().error
