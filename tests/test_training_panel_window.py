"""The training panel inside the REAL MainWindow (box editor, model panel and training panel installed
by desktop/ui/extensions.py): the Roboflow snapshot holds exactly the reviewed images and their boxes
(read back by pycocotools), the Train menu action starts a run whose curves reach the panel, and
"Use this model" switches the real model panel to the new card while the old model stays."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from e2e_helpers import build_preset_weights, make_images, open_window

pytestmark = pytest.mark.gui
CHILD = str(Path(__file__).with_name("training_child.py"))
BOXES = {0: [(4, 5, 20, 18, "rbc")], 1: [(10, 10, 12, 30, "wbc"), (30, 2, 8, 8, "rbc")],
         2: [(1, 1, 40, 40, "rbc")], 3: [(5, 5, 5, 5, "wbc")], 4: [(6, 6, 9, 9, "rbc")]}
REVIEWED = (0, 1, 2, 3)  # image 4 has a box but is not reviewed: it stays out of the snapshot


@pytest.fixture
def window(qtbot, tmp_path):
    folder = tmp_path / "films"
    paths = make_images(folder, n=6, size=64)
    win = open_window(qtbot, tmp_path, folder, tmp_path / "models", 6)
    assert hasattr(win, "training_panel") and hasattr(win, "box_editor")
    store = win.box_editor.store
    for i, p in enumerate(paths):
        image_id = store.ensure_image(p.name, 64, 64)
        for x, y, w, h, cat in BOXES.get(i, []):
            store.add_box(image_id, cat, x, y, w, h)
        if i in REVIEWED:
            store.set_review_status(image_id, "done")
    store.flush()
    return win, paths


def test_snapshot_holds_the_reviewed_images_and_their_boxes(window):
    from pycocotools.coco import COCO

    win, paths = window
    snap = win.training_panel.export_snapshot()
    seen = {}
    for split in ("train", "valid", "test"):
        coco = COCO(str(snap / split / "_annotations.coco.json"))
        for img in coco.dataset["images"]:
            assert (snap / split / img["file_name"]).is_file()
            anns = coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]]))
            boxes = sorted((tuple(round(v) for v in a["bbox"]), coco.cats[a["category_id"]]["name"]) for a in anns)
            seen[img["file_name"]] = boxes
    assert len(seen) == len(REVIEWED)
    expected = sorted(sorted(((x, y, w, h), c) for x, y, w, h, c in BOXES[i]) for i in REVIEWED)
    assert sorted(seen.values()) == expected
    # deterministic: a second snapshot splits the same way
    again = win.training_panel.export_snapshot()
    for split in ("train", "valid", "test"):
        a = json.loads((snap / split / "_annotations.coco.json").read_text())
        b = json.loads((again / split / "_annotations.coco.json").read_text())
        assert [i["file_name"] for i in a["images"]] == [i["file_name"] for i in b["images"]]


def test_train_action_curves_and_use_this_model(window, qtbot, tmp_path, monkeypatch):
    import desktop.ui.training_panel.panel as panel_mod

    win, _ = window
    panel = win.training_panel
    # the run: the stand-in child (real protocol, real stop flag) instead of minutes of training;
    # the command the panel built is kept to check it
    out = tmp_path / "run"
    out.mkdir()
    weights = build_preset_weights("oasis-resnet18", tmp_path / "models")
    before = weights.read_bytes()
    card = {"name": "oasis-finetuned", "architecture": "oasis-resnet18", "task": "classification",
            "class_names": ["healthy", "disease"], "weights": str(weights)}
    (out / "model.json").write_text(json.dumps(card))
    (out / "report.html").write_text("<html><body>ROC AUC table</body></html>")
    built = {}

    def fake_command(kind, data, model, out_dir, options=None, stop_file=None):
        built.update(kind=kind, data=data, model=model, options=options,
                     n_images=sum(len(json.loads((Path(data) / s / "_annotations.coco.json").read_text())["images"])
                                  for s in ("train", "valid", "test")))
        return [sys.executable, CHILD, "ok", str(out), str(stop_file)]

    monkeypatch.setattr(panel_mod, "training_command", fake_command)
    asked = []  # 4 reviewed images do not fill the split: the panel asks first
    monkeypatch.setattr(panel_mod, "ask", lambda *a, **k: asked.append(a[2]) or "yes")
    panel.base.setCurrentIndex(panel.base.findText("oasis-resnet18"))
    action = next(a for a in win.menu("Train").actions() if a.text().startswith("Train on reviewed"))
    with qtbot.waitSignal(panel.supervisor.finished, timeout=60000):
        action.trigger()
    qtbot.waitUntil(panel.use_button.isEnabled, timeout=5000)
    assert built["kind"] == "classifier" and built["model"] == "oasis-resnet18"
    assert len(asked) == 1 and "Only 4 images are marked reviewed" in asked[0]
    assert built["options"]["weights"] == str(weights)  # the base file from the window's models folder
    assert built["n_images"] == len(REVIEWED)
    assert not Path(built["data"]).exists()  # the snapshot folder is removed after the run
    assert [e for e, _ in panel.curves["val_loss"]] == [1, 2, 3] and "ROC AUC table" in panel.report.toPlainText()
    panel.use_button.click()
    mp = win.model_panel
    qtbot.waitUntil(lambda: mp.entry is not None and str(mp.entry.spec) == str(out / "model.json"), timeout=10000)
    assert weights.read_bytes() == before  # the old model's file stays as it was
    assert any(e.name == "oasis-resnet18" for e in mp.entries)  # and so does the preset in the picker


def test_nothing_reviewed_is_a_clear_message(qtbot, tmp_path):
    folder = tmp_path / "films"
    make_images(folder, n=2, size=32)
    win = open_window(qtbot, tmp_path, folder, tmp_path / "models", 2)
    assert win.training_panel.start_training() is None
    assert not win.training_panel.supervisor.is_running()
    text = " ".join(str(n) for n in win.notifications.history[-3:])
    assert "no reviewed images" in text
