"""End to end with the real window and the Heartformer preset (RF-DETR Nano, seeded random weights
saved as the published safetensors): run on all images, see predicted boxes, accept one, move one,
delete one, export COCO and read it back with pycocotools; the threshold slider filters live."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("rfdetr")

from e2e_helpers import build_preset_weights, load_preset, make_images, open_window, ticks_while, wait_job  # noqa: E402

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    build_preset_weights("heartformer", folder)
    return folder


def visible_predictions(editor):
    return [i for i in editor.items.values() if i.isVisible() and i.box.is_prediction]


def test_detector_run_correct_export(qtbot, tmp_path, models_dir):
    from pycocotools.coco import COCO

    from desktop.core.exchange import export_coco

    make_images(tmp_path / "films", n=3, size=64, bad=(1,))
    win = open_window(qtbot, tmp_path, tmp_path / "films", models_dir, 3)
    panel, editor = win.model_panel, win.box_editor
    model = load_preset(qtbot, win, "heartformer")
    assert model.task == "detection" and panel.controls.visible_controls() >= {"threshold", "class_filter"}
    panel.controls.threshold.setValue(1)  # random weights score low: show every stored prediction
    wait_job(qtbot, panel.run("all"))
    # the broken file was skipped and listed; the two good ones got predictions
    assert panel.failures.count() == 1 and panel.failures.item(0).text().startswith("film01.png")
    assert "Done: 2 images, 1 skipped" in panel.progress_label.text()
    store = editor.store
    rel = win.current_path().rsplit("/", 1)[-1]
    iid = store.image_id(rel)
    stored = store.boxes(iid)
    want = model.detect(win.current_rgb(), threshold=0.01)
    assert len(stored) == len(want) > 0
    assert sorted(round(b.score, 5) for b in stored) == sorted(round(float(s), 5) for s in want.scores)
    shown = visible_predictions(editor)
    assert len(shown) == len(stored)

    # the threshold slider hides low-scoring predictions without running the model again
    cut = int(max(b.score for b in stored) * 100)  # a percent at or under the best score
    panel.controls.threshold.setValue(cut)
    n_kept = sum(b.score >= cut / 100 for b in stored)
    assert 1 <= len(visible_predictions(editor)) == n_kept < len(stored)
    panel.controls.threshold.setValue(1)

    # accept one, move one, delete one, through the editor
    items = sorted(visible_predictions(editor), key=lambda i: -i.box.score)
    a, m, d = items[0].box_id, items[1].box_id, items[2].box_id
    editor._select([a])
    store.accept_predictions(iid, [a])
    editor.reload()
    before = store.box(m)
    editor._select([m])
    editor.nudge(3, 2)
    editor._select([d])
    editor.delete_selected()
    store.flush()
    assert store.box(a).state == "accepted"
    moved = store.box(m)
    assert (moved.x, moved.y) == pytest.approx((before.x + 3, before.y + 2), abs=1e-3) and moved.state == "modified"
    assert d not in {b.id for b in store.boxes(iid)}

    out = export_coco(store, tmp_path / "export", keep_paths=True)
    coco = COCO(str(out))
    img = [i for i in coco.dataset["images"] if i["file_name"] == rel][0]
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]]))
    # people's decisions are exported: the accepted and the moved box, not the deleted one
    bboxes = sorted(tuple(round(v, 3) for v in a_["bbox"]) for a_ in anns)
    want_boxes = sorted(tuple(round(v, 3) for v in (b.x, b.y, b.w, b.h)) for b in (store.box(a), moved))
    assert bboxes == want_boxes
    names = {c["id"]: c["name"] for c in json.loads(out.read_text())["categories"]}
    assert {names[a_["category_id"]] for a_ in anns} <= set(model.class_names)

    # re-running replaces only the unreviewed predictions: the accepted and moved boxes stay
    panel.skip_done.setChecked(False)
    wait_job(qtbot, panel.run("this"))
    after = {b.id: b for b in store.boxes(iid)}
    assert a in after and m in after and after[a].state == "accepted"
    win.jobs.shutdown()


def test_detector_gradcam_of_the_selected_box(qtbot, tmp_path, models_dir):
    make_images(tmp_path / "films", n=1, size=64)
    win = open_window(qtbot, tmp_path, tmp_path / "films", models_dir, 1)
    panel, editor = win.model_panel, win.box_editor
    load_preset(qtbot, win, "heartformer")
    panel.controls.threshold.setValue(1)
    wait_job(qtbot, panel.run("this"))
    methods = [panel.controls.method.itemText(i) for i in range(panel.controls.method.count())]
    assert methods == ["gradcam", "eigencam"]
    panel.controls.method.setCurrentText("gradcam")
    best = max(visible_predictions(editor), key=lambda i: i.box.score)
    editor._select([best.box_id])
    job = panel.saliency.explain()
    ticks, _ = ticks_while(qtbot, job)
    assert job.outcome.error is None, win.notifications.history[-1]
    assert ticks >= 1  # the GUI thread handled events while the map computed
    overlay = panel.saliency.overlay
    assert overlay.isVisible() and overlay.scene() is win.canvas.scene()
    assert panel.saliency.result.heat.shape == win.current_rgb().shape[:2]
    assert panel.saliency.result.heat.max() == pytest.approx(1.0)
    win.jobs.shutdown()
