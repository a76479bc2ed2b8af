"""Training guardrails in the real window: a random start or too few reviewed images is asked
first (a real QMessageBox), a preset that cannot train without its file says so in the app's words
with Get weights…, the estimate waits until it means something, the child's log is in the panel,
Cancel says "stopping…" at once and the child (and its group) is gone within 5 s, and the snapshot
folder is removed after every end."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from e2e_helpers import build_preset_weights, make_images, open_window
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

import desktop.ui.training_panel.panel as panel_mod
from desktop.ui.training_panel import guards

pytestmark = pytest.mark.gui
CHILD = str(Path(__file__).with_name("training_child.py"))


def _window(qtbot, tmp_path, n_images=6, reviewed=6):
    folder = tmp_path / "films"
    paths = make_images(folder, n=n_images, size=32)
    win = open_window(qtbot, tmp_path, folder, tmp_path / "models", n_images)
    store = win.box_editor.store
    for i, p in enumerate(paths):
        image_id = store.ensure_image(p.name, 32, 32)
        store.add_box(image_id, "rbc", 2, 2, 10, 10)
        if i < reviewed:
            store.set_review_status(image_id, "done")
    store.flush()
    return win


def _select(panel, name):
    panel.base.setCurrentIndex(panel.base.findText(name))


def _stand_in(monkeypatch, mode, out, built):
    def fake_command(kind, data, model, out_dir, options=None, stop_file=None):
        built.update(kind=kind, data=data, model=model, options=options)
        return [sys.executable, CHILD, mode, str(out), str(stop_file)]

    monkeypatch.setattr(panel_mod, "training_command", fake_command)


def _answer_next_box(button_text, seen):
    """Click `button_text` in the next modal QMessageBox and record its text."""
    def click():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, click)
            return
        seen.append(box.text())
        next(b for b in box.buttons() if b.text() == button_text).click()
    QTimer.singleShot(50, click)


def test_random_start_is_asked_in_a_real_message_box(qtbot, tmp_path, monkeypatch):
    win = _window(qtbot, tmp_path, n_images=24, reviewed=24)
    panel = win.training_panel
    _select(panel, "rfdetr-nano")  # no rf-detr-nano.pth in the models folder
    built = {}
    _stand_in(monkeypatch, "ok", tmp_path / "run", built)
    seen = []
    _answer_next_box("Cancel", seen)
    assert panel.start_training() is None
    assert not panel.supervisor.is_running() and built == {}
    assert "random weights" in seen[0] and "thousands of reviewed images" in seen[0]
    assert "rf-detr-nano.pth" in seen[0] and "--" not in seen[0]
    _answer_next_box("Train from random weights", seen)
    with qtbot.waitSignal(panel.supervisor.finished, timeout=60000):
        assert panel.start_training() is not None
    assert "weights" not in built["options"]  # nothing to pass: the child starts from random weights
    assert not Path(built["data"]).exists()  # the snapshot is gone after the run


def test_a_model_that_needs_its_file_is_refused_in_the_apps_words(qtbot, tmp_path, monkeypatch):
    win = _window(qtbot, tmp_path)
    panel = win.training_panel
    _select(panel, "chexnet")
    asked = []
    win.get_weights = asked.append  # the seam the Get weights… dialog fills
    told = []
    monkeypatch.setattr(panel_mod, "tell", lambda parent, title, text, extra=None: told.append((text, extra))
                        or "extra")
    assert panel.start_training() is None and not panel.supervisor.is_running()
    text, extra = told[0]
    assert extra == "Get weights…" and "model.pth.tar" in text and "models folder" in text
    assert "--" not in text
    assert asked == ["chexnet"]


def test_too_few_reviewed_images_is_asked_with_the_split_it_gets(qtbot, tmp_path, monkeypatch):
    from desktop.core.exchange.roboflow import SPLITS

    win = _window(qtbot, tmp_path, n_images=6, reviewed=4)
    panel = win.training_panel
    build_preset_weights("oasis-resnet18", tmp_path / "models")
    _select(panel, "oasis-resnet18")
    built, questions = {}, []
    _stand_in(monkeypatch, "ok", tmp_path / "run", built)
    monkeypatch.setattr(panel_mod, "ask", lambda parent, title, text, yes, extra=None: questions.append(text)
                        or "no")
    assert panel.start_training() is None and built == {}
    assert questions and "Only 4 images are marked reviewed" in questions[0]
    # the numbers it tells are the split the export really makes
    snap = panel.export_snapshot()
    import json

    real = {s: len(json.loads((snap / s / "_annotations.coco.json").read_text())["images"]) for s in SPLITS}
    assert f"{real['train']} for training, {real['valid']} for validation and {real['test']} for the test" \
        in questions[0]


def test_estimate_log_and_the_snapshot_removed_after_a_failure(qtbot, tmp_path, monkeypatch):
    win = _window(qtbot, tmp_path, n_images=24, reviewed=24)
    panel = win.training_panel
    build_preset_weights("oasis-resnet18", tmp_path / "models")
    _select(panel, "oasis-resnet18")
    built, statuses = {}, []
    _stand_in(monkeypatch, "crash", tmp_path / "run", built)
    panel.supervisor.progress.connect(lambda ev: statuses.append(panel.status.text()))
    with qtbot.waitSignal(panel.supervisor.failed, timeout=60000):
        panel.start_training()
    assert built["options"]["weights"] == str(tmp_path / "models" / "oasis_resnet18_checkpoint.pt")
    assert statuses and all("min left" not in s for s in statuses)  # 1 s "eta" after 5 steps: not shown
    assert "estimating time left" in statuses[0]
    qtbot.waitUntil(lambda: "RuntimeError" in panel.log.toPlainText(), timeout=5000)  # stderr, in the panel
    assert "library noise on stdout" in panel.log.toPlainText()
    assert panel.tabs.currentWidget() is panel.log
    assert not Path(built["data"]).exists()


def test_eta_text_waits_for_enough_steps_and_seconds():
    assert guards.eta_text(34000.0, 2, 5.0) == " · estimating time left…"
    assert guards.eta_text(34000.0, 50, 5.0) == " · estimating time left…"
    assert guards.eta_text(34000.0, 50, 60.0) == " · about 9.4 h left"
    assert guards.eta_text(600.0, 50, 60.0) == " · about 10 min left"
    assert guards.eta_text(None, 50, 60.0) == ""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


@pytest.mark.skipif(os.name == "nt", reason="process groups and /proc")
def test_cancel_says_stopping_at_once_and_the_child_is_gone_within_5_s(qtbot, tmp_path, monkeypatch):
    win = _window(qtbot, tmp_path, n_images=24, reviewed=24)
    panel = win.training_panel
    build_preset_weights("oasis-resnet18", tmp_path / "models")
    _select(panel, "oasis-resnet18")
    built = {}
    out = tmp_path / "models" / "oasis-resnet18-finetuned"
    _stand_in(monkeypatch, "hang", out, built)
    panel.start_training()
    qtbot.waitUntil(lambda: "grandchild" in panel.log.toPlainText(), timeout=30000)
    grandchild = int(panel.log.toPlainText().split("grandchild ")[1].split()[0])
    proc = panel.supervisor.proc
    t0 = time.monotonic()
    panel.cancel_button.click()
    assert panel.status.text() == "stopping…" and not panel.cancel_button.isEnabled()  # before any event
    with qtbot.waitSignal(panel.supervisor.cancelled, timeout=5000):
        pass
    assert proc.poll() is not None and time.monotonic() - t0 < 5.0
    qtbot.waitUntil(lambda: _gone(grandchild), timeout=2000)  # the whole process group
    assert panel.status.text() == "cancelled" and panel.train_button.isEnabled()
    assert not Path(built["data"]).exists()
    # the unfinished run's folder (no model card) is not left in the models folder
    assert not out.exists() and "removed the unfinished output folder" in panel.log.toPlainText()
    assert (tmp_path / "models" / "oasis_resnet18_checkpoint.pt").is_file()  # the base weights stay


def test_the_cli_flag_in_a_childs_message_is_said_in_the_apps_words(tmp_path, monkeypatch):
    """The message chexnet training ended with ("pass it with --weights"), from the registry itself."""
    from models.errors import WeightsError
    from models.registry import preset_card, resolve_spec

    monkeypatch.setenv("LOUPE_MODELS_DIR", str(tmp_path))
    with pytest.raises(WeightsError) as err:
        resolve_spec(preset_card("chexnet"))
    assert "--weights" in str(err.value)
    text = guards.app_terms(f"training failed: {err.value}")
    assert "--" not in text and "Get weights…" in text and "model.pth.tar" in text
    assert guards.app_terms("`loupe train detector` needs a detector; see --resolution") == \
        "training a detector needs a detector; see Resolution"


def test_train_without_an_open_folder_says_what_to_do_first(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from desktop.ui.main_window import MainWindow

    win = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    panel = win.training_panel
    assert panel.start_training() is None and not panel.supervisor.is_running()
    assert panel.questions == []  # no question about weights before there is anything to train on
    assert "Open a folder" in win.notifications.history[-1][1]
