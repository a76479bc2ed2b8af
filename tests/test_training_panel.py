"""The training panel: presets prefilled with the seeds' defaults, a run through a real child with
live curves, the report shown, "Use this model", and a failure shown without touching the app."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from desktop.ui.training_panel.panel import TrainingPanel

pytestmark = pytest.mark.gui
CHILD = str(Path(__file__).with_name("training_child.py"))


class FakeWindow:
    def __init__(self):
        self.notes = []
        self.used = []
        self.model_panel = self

    def notify(self, text, details=None, level="info"):
        self.notes.append((text, details, level))

    def use_model(self, path):
        self.used.append(path)


def _select(panel, name):
    panel.base.setCurrentIndex(panel.base.findText(name))


def test_presets_prefill_the_seeds_defaults(qtbot):
    panel = TrainingPanel(FakeWindow())
    qtbot.addWidget(panel)
    _select(panel, "heartformer")
    assert (panel.epochs.value(), panel.batch.value(), panel.resolution.value()) == (30, 4, 640)
    assert panel.lr.value() == pytest.approx(1e-4)
    _select(panel, "qing")
    assert panel.lr.value() == pytest.approx(5e-6) and not panel.resolution.isEnabled()
    # The CPU warning comes after the first window, once torch has loaded on a thread (the window
    # keeps working meanwhile), which can take a while on a loaded machine.
    qtbot.waitUntil(lambda: "slow" in panel.device_note.text(), timeout=60000)


def test_curves_report_and_use_this_model(qtbot, tmp_path):
    win = FakeWindow()
    panel = TrainingPanel(win)
    qtbot.addWidget(panel)
    (tmp_path / "report.html").write_text("<html><body><h1>Fine-tuned</h1>mAP table</body></html>")
    panel.supervisor.start([sys.executable, CHILD, "ok", str(tmp_path), str(panel.supervisor.stop_file)])
    with qtbot.waitSignal(panel.supervisor.finished, timeout=60000):
        pass
    qtbot.waitUntil(lambda: panel.use_button.isEnabled(), timeout=5000)
    assert [p[0] for p in panel.curves["val_loss"]] == [1, 2, 3]
    assert panel.curves["metric"][-1] == (3, pytest.approx(0.3))
    assert "mAP table" in panel.report.toPlainText()
    with qtbot.waitSignal(panel.model_ready) as sig:
        panel.use_button.click()
    assert sig.args == [str(tmp_path / "model.json")] and win.used == [str(tmp_path / "model.json")]


def test_failure_is_shown_and_the_panel_recovers(qtbot, tmp_path):
    win = FakeWindow()
    panel = TrainingPanel(win)
    qtbot.addWidget(panel)
    panel.supervisor.start([sys.executable, CHILD, "crash", str(tmp_path), str(panel.supervisor.stop_file)])
    qtbot.waitUntil(lambda: any(n[2] == "error" for n in win.notes), timeout=60000)
    text, details, _ = next(n for n in win.notes if n[2] == "error")
    assert "out of memory" in text and "RuntimeError" in details
    assert panel.train_button.isEnabled() and not panel.use_button.isEnabled()
