"""The model panel against the window's seams (a stand-in window over the real annotation store) and
fake models with known outputs: what is shown, what is stored, cancel, resume, bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("PySide6")


from model_panel_helpers import (  # noqa: E402
    FakeWindow,
    fake_device_probe,
    fake_load_model,
    make_folder,
    write_fake_cards,
)
from PySide6.QtCore import Qt  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture
def env(qtbot, tmp_path, monkeypatch):
    import models

    models_dir = tmp_path / "models"
    cards = write_fake_cards(models_dir)
    monkeypatch.setenv("LOUPE_MODELS_DIR", str(models_dir))
    from PySide6.QtCore import QSettings

    QSettings().remove("models/folder")
    built = {}
    monkeypatch.setattr(models, "load_model", fake_load_model(built))
    paths = make_folder(tmp_path / "images", n=4)
    win = FakeWindow()
    qtbot.addWidget(win)
    win.open_folder(tmp_path / "images")
    from desktop.ui.model_panel import install

    panel = install(win)
    yield win, panel, cards, built, paths
    win.jobs.shutdown()


def load(qtbot, panel, spec):
    job = panel.select(str(spec))
    if job is not None:  # the first load imports torch: seconds on a loaded machine
        qtbot.waitSignal(job.finished, timeout=60000).wait()
    assert panel.model is not None and panel.model.name == panel.entry.name


def run(qtbot, panel, scope):
    job = panel.run(scope)
    assert job is not None
    qtbot.waitSignal(job.finished, timeout=10000).wait()
    return job


def test_detector_run_on_all_stores_predictions_and_filters_live(qtbot, env):
    win, panel, cards, built, paths = env
    load(qtbot, panel, cards["fake-detector"])
    assert panel.controls.visible_controls() == {"threshold", "class_filter", "saliency_method"}
    assert panel.controls.threshold_value() == pytest.approx(0.3)  # the card's default
    run(qtbot, panel, "all")
    store = win.box_editor.store
    for p in paths:
        iid = store.image_id(p.rsplit("/", 1)[-1])
        boxes = store.boxes(iid)
        assert sorted((b.category, b.score, b.source, b.state) for b in boxes) == [
            ("lesion", pytest.approx(0.9), "model", "unreviewed"),
            ("nodule", pytest.approx(0.2), "model", "unreviewed")]  # kept below 0.3: the slider decides
    assert win.box_editor.reloads >= 1
    assert "Done: 4 images" in panel.progress_label.text()
    panel.controls.threshold.setValue(80)
    assert win.box_editor.filters[-1] == (pytest.approx(0.8), None)
    panel.controls.set_class_checked("nodule", False)
    assert win.box_editor.filters[-1] == (pytest.approx(0.8), {"lesion"})
    assert len(built["fake-detector"].calls) == 4  # filtering never ran the model again


def test_rerun_replaces_only_unreviewed_predictions(qtbot, env):
    win, panel, cards, built, paths = env
    load(qtbot, panel, cards["fake-detector"])
    run(qtbot, panel, "this")
    store = win.box_editor.store
    iid = store.image_id("img000.png")
    lesion = [b for b in store.boxes(iid) if b.category == "lesion"][0]
    store.accept_predictions(iid, [lesion.id])
    run(qtbot, panel, "this")  # "this image" never skips
    states = sorted((b.category, b.state) for b in store.boxes(iid))
    assert states == [("lesion", "accepted"), ("lesion", "unreviewed"), ("nodule", "unreviewed")]


def test_bad_file_is_skipped_listed_and_run_resumes(qtbot, env, tmp_path):
    win, panel, cards, built, paths = env
    (tmp_path / "images" / "img001.png").write_bytes(b"not a png at all")
    load(qtbot, panel, cards["fake-detector"])
    model = built["fake-detector"]
    run(qtbot, panel, "all")
    assert panel.failures.count() == 1 and panel.failures.item(0).text().startswith("img001.png: ")
    assert any("skipped" in n[0] and "img001.png" in (n[1] or "") for n in win.notes)
    assert len(model.calls) == 3
    # a second run over all resumes: only the failed image is tried again
    run(qtbot, panel, "all")
    assert len(model.calls) == 3 and panel.failures.count() == 1


def test_cancel_stops_within_one_image_and_resume_does_the_rest(qtbot, env, tmp_path):
    win, panel, cards, built, paths = env
    make_folder(tmp_path / "images", n=30)
    win.open_folder(tmp_path / "images")
    load(qtbot, panel, cards["fake-detector"])
    model = built["fake-detector"]
    model.delay = 0.02
    job = panel.run("all")
    qtbot.waitUntil(lambda: len(model.calls) >= 3, timeout=5000)
    panel.cancel_button.click()
    qtbot.waitSignal(job.finished, timeout=5000).wait()
    ran = len(model.calls)
    assert job.outcome.cancelled and ran < 30
    assert "Cancelled after" in panel.progress_label.text()
    run(qtbot, panel, "all")
    assert len(model.calls) - ran in (30 - ran, 30 - ran + 1)  # at most the one in flight repeats
    assert len(model.calls) <= 31


def test_classifier_bars_sorted_and_used_as_label(qtbot, env):
    win, panel, cards, built, paths = env
    load(qtbot, panel, cards["fake-classifier"])
    assert panel.bars.isVisibleTo(panel) and not panel.caption.isVisibleTo(panel)
    run(qtbot, panel, "this")
    assert panel.bars.shown() == [("Cardiomegaly", 70.0), ("Mass", 55.0), ("Effusion", 10.0)]
    panel.bars.button.click()
    store = win.box_editor.store
    assert store.image_labels(store.image_id("img000.png")) == {"Cardiomegaly": 0.7, "Mass": 0.55}


def test_captioner_text_shown_edited_and_saved(qtbot, env):
    win, panel, cards, built, paths = env
    load(qtbot, panel, cards["fake-captioner"])
    assert panel.controls.visible_controls() == {"beam_size", "max_length"}
    panel.controls.beam.setValue(3)
    panel.controls.max_length.setValue(40)
    run(qtbot, panel, "this")
    assert built["fake-captioner"].args == [(40, 3)]
    assert panel.caption.text() == "chest film 56x48"
    panel.caption.edit.setPlainText("Teaching note: normal heart size.")
    panel.caption.save.click()
    store = win.box_editor.store
    assert store.caption(store.image_id("img000.png")) == "Teaching note: normal heart size."


def test_saliency_overlay_above_image_without_blocking(qtbot, env, monkeypatch):
    import threading

    win, panel, cards, built, paths = env
    load(qtbot, panel, cards["fake-classifier"])
    gate = threading.Event()

    def explain(model, rgb, method, target=None, box=None):
        gate.wait(5)
        yy, xx = np.mgrid[0:rgb.shape[0], 0:rgb.shape[1]]
        return (xx / xx.max()).astype(np.float32)

    import sys
    import types

    monkeypatch.setitem(sys.modules, "models.saliency", types.SimpleNamespace(explain=explain))
    panel.controls.method.setCurrentText("gradcam")
    job = panel.saliency.explain()
    # the window keeps processing events while the map computes
    qtbot.wait(50)
    assert job.state in ("queued", "running") and panel.busy.isVisibleTo(panel)
    gate.set()
    qtbot.waitSignal(job.finished, timeout=5000).wait()
    overlay = panel.saliency.overlay
    assert overlay.scene() is win.canvas.scene() and overlay.isVisible()
    assert overlay.zValue() > win.canvas.image_item.zValue()
    assert overlay.pixmap().width() == 56 and overlay.pixmap().height() == 48
    img = overlay.pixmap().toImage()
    assert img.pixelColor(0, 20).blue() > img.pixelColor(0, 20).red()  # cold left (jet: blue)
    assert img.pixelColor(55, 20).red() > img.pixelColor(55, 20).blue()  # hot right
    panel.saliency.opacity.setValue(20)
    assert overlay.opacity() == pytest.approx(0.2)
    panel.saliency.view_mode.setCurrentIndex(1)  # side by side
    assert overlay.pos().x() > 56
    panel.toggle_annotations()  # H
    assert not overlay.isVisible() and win.box_editor.visible is False
    panel.toggle_annotations()
    assert overlay.isVisible() and win.box_editor.visible is True


def test_missing_weights_says_which_file_and_where(qtbot, env, tmp_path):
    win, panel, cards, built, paths = env
    (tmp_path / "models" / "fake-captioner.safetensors").unlink()
    panel.refresh_models()
    panel.select("fake-captioner")
    text = panel.info.text()
    assert "fake-captioner.safetensors" in text and str(tmp_path / "models") in text
    assert panel.model is None and "fake-captioner" not in built


def test_loaded_models_are_reused(qtbot, env):
    win, panel, cards, built, paths = env
    load(qtbot, panel, cards["fake-detector"])
    first = panel.model
    load(qtbot, panel, cards["fake-classifier"])
    assert panel.select(str(cards["fake-detector"])) is None  # from the cache: no load job
    assert panel.model is first


def test_dropped_weights_get_a_card_and_load(qtbot, env, tmp_path, monkeypatch):
    from models import registry
    from models.base import ModelCard

    win, panel, cards, built, paths = env
    weights = tmp_path / "elsewhere" / "my-detector.safetensors"
    weights.parent.mkdir()
    weights.write_bytes(b"dummy")
    recognised = ModelCard(name="my-detector", architecture="fake-detector", task="detection",
                           class_names=["lesion", "nodule"], weights=str(weights),
                           extra={"card_dir": "/not/saved"})
    monkeypatch.setattr(registry, "card_for_weights", lambda path: recognised)
    from desktop.ui.model_panel import add_weights

    job = add_weights(panel, weights)
    qtbot.waitSignal(job.finished, timeout=5000).wait()
    card_path = tmp_path / "models" / "my-detector.json"
    card = json.loads(card_path.read_text())
    assert card["weights"] == str(weights.resolve()) and card["task"] == "detection"
    assert card["extra"] == {}
    qtbot.waitUntil(lambda: panel.model is not None and panel.entry.spec == str(card_path), timeout=5000)
    assert win.notes[-1][0].startswith("Added my-detector.safetensors")


def test_ctrl_enter_runs_on_this_image(qtbot, env):
    from PySide6.QtGui import QShortcut

    win, panel, cards, built, paths = env
    load(qtbot, panel, cards["fake-detector"])
    (shortcut,) = [s for s in win.findChildren(QShortcut) if s.key().toString() == "Ctrl+Return"]
    shortcut.activated.emit()  # offscreen windows never become active, so no key event reaches it
    qtbot.waitUntil(lambda: len(built["fake-detector"].calls) == 1, timeout=5000)
    assert built["fake-detector"].calls == [(48, 56, 3)]


def test_presets_listed_with_what_they_are_and_missing_weights(tmp_path):
    from desktop.ui.model_panel.catalog import list_models

    entries = {e.name: e for e in list_models(tmp_path)}
    heart = entries["heartformer"]
    assert heart.origin == "preset" and heart.task == "detection" and not heart.weights_present
    assert "heart_xray" in heart.describe() and "RF-DETR" in heart.describe()
    text = heart.missing_text(tmp_path)
    assert "heartformer-v0.1.safetensors" in text and str(tmp_path) in text and "Hugging Face" in text
    (tmp_path / "heartformer-v0.1.safetensors").write_bytes(b"x")
    assert {e.name: e for e in list_models(tmp_path)}["heartformer"].weights_present


def test_attention_map_offered_and_shown_image_aligned(qtbot, env):
    win, panel, cards, built, paths = env
    load(qtbot, panel, cards["fake-classifier"])
    methods = [panel.controls.method.itemText(i) for i in range(panel.controls.method.count())]
    assert methods[0] == "attention" and "gradcam" in methods
    panel.controls.method.setCurrentText("attention")
    job = panel.saliency.explain()
    qtbot.waitSignal(job.finished, timeout=5000).wait()
    heat = panel.saliency.result.heat
    assert heat.shape == (48, 56)  # the 7x7 map resized onto the image
    assert heat[0, 0] == pytest.approx(1.0) and heat[-1, -1] == pytest.approx(0.0)
    assert panel.saliency.overlay.isVisible()
    # moving to another image drops the map of the previous one
    win.show_image(paths[1])
    assert not panel.saliency.overlay.isVisible()


def test_detector_saliency_explains_the_selected_box(qtbot, env, monkeypatch):
    import sys
    import types

    win, panel, cards, built, paths = env
    load(qtbot, panel, cards["fake-detector"])
    calls = []

    def explain(model, rgb, method, target=None, box=None, **opts):
        calls.append((method, box, opts))
        return np.ones(rgb.shape[:2], np.float32)

    monkeypatch.setitem(sys.modules, "models.saliency", types.SimpleNamespace(explain=explain))
    panel.saliency.explain()  # nothing selected: says what to do, computes nothing
    assert "Select a box first" in win.notes[-1][0] and calls == []
    # the fake's second detection is (1, 1)-(10, 12): the editor's box nearly there maps to index 1
    win.box_editor.selected = types.SimpleNamespace(rect=(1.5, 1.0, 8.0, 11.0))
    panel.controls.method.setCurrentText("gradcam")
    job = panel.saliency.explain()
    qtbot.waitSignal(job.finished, timeout=5000).wait()
    assert calls == [("gradcam", 1, {"threshold": 0.01})]


def test_changing_device_moves_the_loaded_model(qtbot, tmp_path, monkeypatch):
    import models

    cards = write_fake_cards(tmp_path / "models")
    monkeypatch.setenv("LOUPE_MODELS_DIR", str(tmp_path / "models"))
    fake_device_probe(monkeypatch, [("cpu", "CPU"), ("cuda:0", "CUDA: Test GPU")])
    built = {}
    monkeypatch.setattr(models, "load_model", fake_load_model(built))
    make_folder(tmp_path / "images", n=1)
    win = FakeWindow()
    qtbot.addWidget(win)
    win.open_folder(tmp_path / "images")
    from desktop.ui.model_panel import install

    panel = install(win)
    # Opening the panel never imports torch: Automatic and CPU at once, the GPUs once the probe answers.
    qtbot.waitUntil(lambda: panel.device.count() == 3, timeout=5000)
    assert [panel.device.itemText(i) for i in range(panel.device.count())] == [
        "Automatic (CPU)", "CPU", "CUDA: Test GPU"]
    assert panel.device_id() == "cpu"  # automatic = the best device found, listed first
    load(qtbot, panel, cards["fake-detector"])
    model = panel.model
    panel.device.setCurrentIndex(2)
    job = panel.load_job
    assert job is not None and job.device == "cuda:0"  # queued on the GPU, not the CPU
    qtbot.waitSignal(job.finished, timeout=5000).wait()
    assert model.moves == ["cuda:0"] and panel.model is model  # moved, not loaded again
    assert "ready on CUDA: Test GPU" in panel.status.text()
    win.jobs.shutdown()


def test_dropping_files_on_the_window_only_takes_weights(qtbot, env, tmp_path, monkeypatch):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    import desktop.ui.model_panel as mp

    win, panel, cards, built, paths = env
    added = []
    monkeypatch.setattr(mp, "add_weights", lambda p, w: added.append(w))

    def drop(*files):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(f)) for f in files])
        event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier)
        return win._weights_drop.eventFilter(win, event)

    assert drop(tmp_path / "a.safetensors", tmp_path / "b.pth") is True
    assert [p.name for p in added] == ["a.safetensors", "b.pth"]
    assert drop(tmp_path / "images") is False  # a folder goes on to the viewer
    assert drop(tmp_path / "x.png", tmp_path / "c.pt") is False


def test_unreviewed_and_selected_scopes(qtbot, env):
    win, panel, cards, built, paths = env
    load(qtbot, panel, cards["fake-detector"])
    store = win.box_editor.store
    iid = store.ensure_image("img001.png", 56, 48)
    store.set_review_status(iid, "done")
    panel.skip_done.setChecked(False)
    run(qtbot, panel, "unreviewed")
    assert len(built["fake-detector"].calls) == 3
    assert store.boxes(iid) == []  # the reviewed image was left alone
    win._selected = [paths[1], paths[3]]
    run(qtbot, panel, "selected")
    assert len(built["fake-detector"].calls) == 5 and len(store.boxes(iid)) == 2
