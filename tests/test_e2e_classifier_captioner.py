"""End to end with the real window: a classifier (OASIS ResNet-18 preset) shows sorted bars and
writes the image label; the ROCO captioner's text is shown, edited and saved; Grad-CAM's overlay
appears over the image while the window keeps answering. Weights: seeded random, published format."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from e2e_helpers import (  # noqa: E402
    build_preset_weights,
    load_preset,
    make_images,
    open_window,
    ticks_while,
    wait_job,
)

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    build_preset_weights("oasis-resnet18", folder)
    build_preset_weights("roco-captioner", folder)
    return folder


@pytest.fixture
def window(qtbot, tmp_path, models_dir):
    make_images(tmp_path / "films", n=3, size=64)
    win = open_window(qtbot, tmp_path, tmp_path / "films", models_dir, 3)
    yield win
    win.jobs.shutdown()


def store_or_skip(win):
    editor = getattr(win, "box_editor", None)
    if editor is None or getattr(editor, "store", None) is None:
        pytest.skip("the box editor (which opens the annotation store) is not installed")
    return editor.store


def test_classifier_bars_are_sorted_and_become_the_image_label(qtbot, window):
    win = window
    panel = win.model_panel
    model = load_preset(qtbot, win, "oasis-resnet18")
    assert panel.bars.isVisibleTo(panel) and not panel.caption.isVisibleTo(panel)
    assert panel.controls.visible_controls() == {"saliency_method"}
    wait_job(qtbot, panel.run("all"))
    assert "Done: 3 images" in panel.progress_label.text()
    want = model.classify(win.current_rgb())
    shown = panel.bars.shown()
    assert [name for name, _ in shown] == sorted(want, key=want.get, reverse=True)
    assert [pct for _, pct in shown] == pytest.approx([round(want[n] * 1000) / 10 for n, _ in shown])
    assert sum(pct for _, pct in shown) == pytest.approx(100, abs=0.2)  # softmax: one class per image
    store = store_or_skip(win)
    panel.bars.button.click()
    rel = win.current_path().rsplit("/", 1)[-1]
    labels = store.image_labels(store.image_id(rel))
    assert list(labels) == [shown[0][0]]


def test_gradcam_overlay_appears_and_window_stays_responsive(qtbot, window):
    win = window
    panel = win.model_panel
    load_preset(qtbot, win, "oasis-resnet18")
    try:
        from models.saliency import explain  # noqa: F401
    except ImportError:
        pytest.skip("models.saliency.explain has not landed")
    panel.controls.method.setCurrentText("gradcam")
    job = panel.saliency.explain()
    ticks, _stall = ticks_while(qtbot, job)
    assert job.outcome.error is None, win.notifications.history[-1]
    overlay = panel.saliency.overlay
    assert overlay.scene() is win.canvas.scene() and overlay.isVisible()
    assert overlay.zValue() > win.canvas.image_item.zValue()
    h, w = win.current_rgb().shape[:2]
    assert (overlay.pixmap().width(), overlay.pixmap().height()) == (w, h)
    assert panel.saliency.result.heat.max() == pytest.approx(1.0)
    # the GUI thread kept handling events while Grad-CAM ran (a frozen loop handles none); the
    # longest stall is measured by tests/benchmarks/bench_responsiveness.py on a quiet machine
    assert ticks >= 3


def test_captioner_text_is_shown_edited_and_saved(qtbot, window):
    win = window
    panel = win.model_panel
    model = load_preset(qtbot, win, "roco-captioner")
    assert panel.caption.isVisibleTo(panel) and not panel.bars.isVisibleTo(panel)
    assert panel.controls.visible_controls() == {"beam_size", "max_length"}
    panel.controls.max_length.setValue(8)
    wait_job(qtbot, panel.run("this"))
    want = model.caption(win.current_rgb(), max_len=8, beam_size=1)
    assert panel.caption.text() == want
    store = store_or_skip(win)
    panel.caption.edit.setPlainText(want + " Teaching note: look at the heart first.")
    panel.caption.save.click()
    rel = win.current_path().rsplit("/", 1)[-1]
    assert store.caption(store.image_id(rel)).endswith("look at the heart first.")


def test_folder_run_batches_a_classifier_and_gives_its_per_image_probabilities(qtbot, tmp_path, models_dir,
                                                                              monkeypatch):
    """A folder run of a single-view classifier goes through run_batch's batched path (several
    images per forward) and every image gets what `classify` gives it alone."""
    from desktop.ui.model_panel import inference
    from models.classification.common import TorchClassifier

    make_images(tmp_path / "nine", n=9, size=96)
    win = open_window(qtbot, tmp_path, tmp_path / "nine", models_dir, 9)
    panel = win.model_panel
    load_preset(qtbot, win, "oasis-resnet18")
    batches = []
    real = TorchClassifier.classify_prepared
    monkeypatch.setattr(TorchClassifier, "classify_prepared",
                        lambda self, tensors: batches.append(len(tensors)) or real(self, tensors))
    job = panel.run("all")
    wait_job(qtbot, job)
    assert sorted(batches, reverse=True) == [inference.CLASSIFY_BATCH] * (9 // inference.CLASSIFY_BATCH) + (
        [9 % inference.CLASSIFY_BATCH] if 9 % inference.CLASSIFY_BATCH else [])
    model = panel.model
    for path in win.image_paths():
        got = panel.runs.results[(model.name, path)].value
        rgb = win.current_rgb() if path == win.current_path() else inference.read_rgb(path)
        want = model.classify(rgb)
        assert got.keys() == want.keys()
        np.testing.assert_allclose(list(got.values()), list(want.values()), atol=1e-5)
    win.jobs.shutdown()


def test_cancel_in_the_middle_of_a_run(qtbot, tmp_path, models_dir):
    make_images(tmp_path / "many", n=12, size=64)
    win = open_window(qtbot, tmp_path, tmp_path / "many", models_dir, 12)
    panel = win.model_panel
    load_preset(qtbot, win, "oasis-resnet18")
    job = panel.run("all")
    qtbot.waitUntil(lambda: job.last_progress is not None and job.last_progress.done >= 2, timeout=60000)
    panel.cancel_button.click()
    wait_job(qtbot, job)
    assert job.outcome.cancelled
    done = job.last_progress.done
    assert done < 12 and "Cancelled after" in panel.progress_label.text()
    win.jobs.shutdown()
    np.testing.assert_equal(panel.cancel_button.isEnabled(), False)


@pytest.mark.slow
def test_qing_attention_map_over_the_film(qtbot, tmp_path, models_dir):
    build_preset_weights("qing", models_dir)
    make_images(tmp_path / "films", n=1, size=64)
    win = open_window(qtbot, tmp_path, tmp_path / "films", models_dir, 1)
    panel = win.model_panel
    model = load_preset(qtbot, win, "qing")
    methods = [panel.controls.method.itemText(i) for i in range(panel.controls.method.count())]
    assert methods[0] == "attention"
    panel.controls.method.setCurrentText("attention")
    job = panel.saliency.explain()
    ticks, _ = ticks_while(qtbot, job)
    assert job.outcome.error is None, win.notifications.history[-1]
    from desktop.ui.model_panel.inference import normalise, resize_heat

    want = normalise(resize_heat(model.attention_map(win.current_rgb()), (64, 64)))
    np.testing.assert_allclose(panel.saliency.result.heat, want, atol=1e-5)
    assert panel.saliency.overlay.isVisible()
    win.jobs.shutdown()


def test_folder_run_of_the_captioner_decodes_in_batches_with_the_per_image_captions(qtbot, tmp_path, models_dir,
                                                                                  monkeypatch):
    """A folder run of the captioner shares each decode between CAPTION_BATCH images, and every
    image gets the caption it gets alone."""
    from desktop.ui.model_panel import inference
    from models.captioning.captioner import CaptionModel

    make_images(tmp_path / "six", n=6, size=64)
    win = open_window(qtbot, tmp_path, tmp_path / "six", models_dir, 6)
    panel = win.model_panel
    load_preset(qtbot, win, "roco-captioner")
    panel.controls.max_length.setValue(6)
    batches = []
    real = CaptionModel.caption_prepared
    monkeypatch.setattr(CaptionModel, "caption_prepared",
                        lambda self, tensors, **kw: batches.append(len(tensors)) or real(self, tensors, **kw))
    wait_job(qtbot, panel.run("all"))
    assert sorted(batches, reverse=True) == [inference.CAPTION_BATCH, 6 - inference.CAPTION_BATCH]
    model = panel.model
    for path in win.image_paths():
        rgb = win.current_rgb() if path == win.current_path() else inference.read_rgb(path)
        assert panel.runs.results[(model.name, path)].value == model.caption(rgb, max_len=6, beam_size=1)
    win.jobs.shutdown()
