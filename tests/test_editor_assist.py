"""Assisted annotation in the real window (issue 16 part 2), with tiny random segment-anything folders:
a click's box is the box of the engine's own mask for the clicked points, Shift+click excludes,
Enter keeps and Esc drops, F snaps a rough box, Refine all on the image and on the folder, undo puts
back the exact box, provenance is stored and counted by the corrections export, the embedding of a
revisited image comes from the cache, and a bad folder gives a clear message and no crash."""

from __future__ import annotations

import json
import shutil

import pytest
from editor_helpers import disk_boxes, drag_scene, image_folder, make_editor_window, open_folder
from PySide6.QtCore import Qt

from desktop.core.exchange.corrections import corrections
from desktop.core.imaging.model_input import model_input
from desktop.core.refine import rect_of
from models.segmentation import box_from_mask

pytestmark = pytest.mark.gui
WAIT = 30000


@pytest.fixture(scope="module")
def sam_folder(tmp_path_factory):
    from models.segmentation.tiny import write_tiny_folder

    # seed 3 at this size gives masks that do not cover the whole test image for some prompts
    return write_tiny_folder(tmp_path_factory.mktemp("assist") / "sam", "sam", "sam", image_size=64, seed=3, hidden=16)


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch):
    return make_editor_window(qtbot, tmp_path, monkeypatch)


def _start(qtbot, win, tmp_path, sam_folder, n=3):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=n))
    assist = editor.assist
    assist.panel.picker.setCurrentIndex(assist.panel.picker.findData("sam-vit-base"))
    assist.panel.choose_folder(str(sam_folder))
    qtbot.waitUntil(lambda: assist.engine.model is not None, timeout=WAIT)
    qtbot.keyClick(win.canvas, Qt.Key_S)  # assist mode
    assert assist.active and assist.panel.mode_button.isChecked()
    qtbot.waitUntil(lambda: assist.engine.embedding(editor.image_path) is not None, timeout=WAIT)
    return editor, assist


def _reference(model, path, points=None, box=None):
    """The engine's mask for the prompt, on the file as models read it, and its box (x, y, w, h)."""
    emb = model.embed(model_input(path))
    mask, _score = model.segment(emb, points=points, box=box)
    return rect_of(box_from_mask(mask))


def _click(qtbot, assist, canvas, x, y, modifiers=Qt.NoModifier):
    seq = assist.engine._seq
    drag_scene(canvas, (x, y), (x, y), steps=1, modifiers=modifiers)
    qtbot.waitUntil(lambda: assist.result is not None and assist.result.seq > seq, timeout=WAIT)


def test_click_shift_click_enter_and_esc(qtbot, win, tmp_path, sam_folder):
    editor, assist = _start(qtbot, win, tmp_path, sam_folder)
    store, canvas, model = editor.store, win.canvas, assist.engine.model
    store.set_label_set(["nodule", "effusion"])
    editor.current_category = "effusion"

    _click(qtbot, assist, canvas, 150, 120)
    (px, py, label), = assist.points
    assert (px, py, label) == pytest.approx((150, 120, 1), abs=1.0)
    first = _reference(model, editor.image_path, points=assist.points)
    assert assist.result.rect == first
    assert assist.preview.mask_item is not None and assist.preview.box_item.isVisible()
    # the preview covers the image pixels the decoder's mask covers, clipped to the image
    w, h = editor.image_size()
    ew, eh = assist.result.extent
    shown = assist.preview.mask_item.sceneBoundingRect()
    assert (shown.width(), shown.height()) == pytest.approx((ew, eh)) and ew >= w and eh >= h
    assert assist.preview.mask_clip.rect().getRect() == (0, 0, w, h)

    _click(qtbot, assist, canvas, 20, 20, Qt.ShiftModifier)  # exclude a point: the prompt has both
    assert [p[2] for p in assist.points] == [1, 0]
    both = _reference(model, editor.image_path, points=assist.points)
    assert assist.result.rect == both and both != first

    qtbot.keyClick(canvas, Qt.Key_Return)  # keeps the box (not "accept all predictions")
    (row,) = disk_boxes(store)
    assert row[1] == "effusion" and row[2:6] == pytest.approx(both) and row[6] == "drawn"
    assert store.box(row[0]).refined_by == "sam-vit-base"
    assert not assist.points and assist.preview.mask_item is None
    assert editor.undo_stack.undoText() == "Add effusion box from SAM ViT-B"

    _click(qtbot, assist, canvas, 60, 50)
    qtbot.keyClick(canvas, Qt.Key_Escape)  # drops it: nothing added
    assert len(disk_boxes(store)) == 1 and assist.preview.mask_item is None and not assist.points
    editor.undo_stack.undo()
    assert disk_boxes(store) == []


def test_f_snaps_a_rough_box_undo_restores_it_exactly(qtbot, win, tmp_path, sam_folder):
    editor, assist = _start(qtbot, win, tmp_path, sam_folder)
    store = editor.store
    editor.add_box((60.25, 50.5, 60.0, 61.75), "nodule")  # a rough box, drawn and selected
    (bid,) = [b.id for b in store.boxes(editor.image_id)]
    before = store.box(bid)
    want = _reference(assist.engine.model, editor.image_path, box=(60.25, 50.5, 120.25, 112.25))
    assert want != before.rect
    steps = editor.undo_stack.count()
    qtbot.keyClick(win.canvas, Qt.Key_F)
    qtbot.waitUntil(lambda: store.box(bid).rect != before.rect, timeout=WAIT)
    after = store.box(bid)
    assert after.rect == pytest.approx(want) and after.refined_by == "sam-vit-base"
    assert editor.undo_stack.count() == steps + 1 and editor.undo_stack.undoText() == "Refine 1 box with SAM ViT-B"
    editor.undo_stack.undo()
    back = store.box(bid)
    assert (back.rect, back.state, back.refined_by, back.category) == (before.rect, before.state, None, "nodule")
    editor.undo_stack.redo()
    assert store.box(bid).rect == pytest.approx(want)


def test_refine_all_on_the_image_is_one_step_and_is_counted(qtbot, win, tmp_path, sam_folder):
    editor, assist = _start(qtbot, win, tmp_path, sam_folder)
    store = editor.store
    planted = [("nodule", 10.0, 12.0, 40.0, 30.0, 0.9), ("nodule", 90.0, 70.0, 50.0, 45.0, 0.8),
               ("mass", 120.0, 20.0, 30.0, 30.0, 0.7)]
    ids = store.replace_predictions(editor.image_id, "rfdetr-nano", planted)
    editor.add_box((5, 100, 30, 30), "nodule")  # a person's box: Refine all leaves it alone
    editor.reload()
    person = next(b for b in store.boxes(editor.image_id) if b.source == "person")
    steps = editor.undo_stack.count()
    qtbot.keyClick(win.canvas, Qt.Key_F, Qt.ShiftModifier)
    qtbot.waitUntil(lambda: all(store.box(i).refined_by for i in ids), timeout=WAIT)
    emb_model = assist.engine.model
    for i, (_c, x, y, w, h, _s) in zip(ids, planted):
        assert store.box(i).rect == pytest.approx(_reference(emb_model, editor.image_path, box=(x, y, x + w, y + h)))
        assert store.box(i).state == "modified"
    assert store.box(person.id).rect == person.rect and store.box(person.id).refined_by is None
    assert editor.undo_stack.count() == steps + 1
    report = corrections(store)
    assert report["counts"]["refined"] == 3 and report["refined_by"] == {"sam-vit-base": 3}
    refined = [c for c in report["corrections"] if "refined" in c["kinds"]]
    assert {c["box_id"] for c in refined} == set(ids) and all(c["refined_by"] == "sam-vit-base" for c in refined)
    editor.undo_stack.undo()
    assert [(store.box(i).rect, store.box(i).state, store.box(i).refined_by) for i in ids] == \
        [((x, y, w, h), "unreviewed", None) for _c, x, y, w, h, _s in planted]
    assert corrections(store)["counts"]["refined"] == 0


def test_refine_all_in_the_folder_is_a_job_and_leaves_the_screen_alone(qtbot, win, tmp_path, sam_folder):
    editor, assist = _start(qtbot, win, tmp_path, sam_folder)
    store = editor.store
    paths = win.image_paths()
    shown = editor.image_path
    planted = {}
    for p in paths[1:]:
        rel = p.rsplit("/", 1)[-1]
        iid = store.ensure_image(rel, 200, 160)
        planted[p] = store.replace_predictions(iid, "rfdetr-nano", [("nodule", 30.0, 40.0, 50.0, 60.0, 0.9)])
    job = assist.panel.run.start()
    assert job is not None and assist.panel.progress.isVisible() and assist.panel.cancel_button.isVisible()
    qtbot.waitUntil(lambda: assist.panel.run.job is None, timeout=WAIT)
    assert editor.image_path == shown  # the results did not move the window to another image
    for p, (bid,) in planted.items():
        assert store.box(bid).refined_by == "sam-vit-base"
        assert store.box(bid).rect == pytest.approx(_reference(assist.engine.model, p, box=(30, 40, 80, 100)))
    assert "Refined 2 boxes" in assist.panel.state_label.text()


def test_the_next_image_is_embedded_ahead_and_a_revisit_hits_the_cache(qtbot, win, tmp_path, sam_folder):
    editor, assist = _start(qtbot, win, tmp_path, sam_folder)
    engine = assist.engine
    first, second = win.image_paths()[:2]
    qtbot.waitUntil(lambda: engine.embedding(second) is not None, timeout=WAIT)  # computed ahead
    computed = engine.embeds_computed
    assert computed == 2
    win.show_image(second)
    qtbot.waitUntil(lambda: engine.embedding(win.image_paths()[2]) is not None, timeout=WAIT)
    assert engine.embeds_computed == 3  # the third one, ahead; the second came from before
    hits = engine.cache.hits
    win.show_image(first)
    assert engine.embedding(first) is not None and engine.cache.hits > hits
    engine.wait()
    assert engine.embeds_computed == 3  # nothing computed again
    _click(qtbot, assist, win.canvas, 100, 80)  # answers at once from the cached embedding
    assert assist.result.rect == _reference(engine.model, first, points=assist.points)


def test_a_bad_or_missing_model_folder_says_why_and_nothing_breaks(qtbot, win, tmp_path, sam_folder):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=2))
    assist = editor.assist
    panel = assist.panel
    wrong = shutil.copytree(sam_folder, tmp_path / "wrong")
    config = json.loads((wrong / "config.json").read_text())
    config["model_type"] = "vit"
    (wrong / "config.json").write_text(json.dumps(config))
    panel.picker.setCurrentIndex(panel.picker.findData("medsam"))
    panel.choose_folder(str(wrong))
    qtbot.waitUntil(lambda: assist.engine.state == "error", timeout=WAIT)
    text = panel.state_label.text()
    assert "config.json is for a vit model" in text and "not for medsam" in text
    (wrong / "config.json").unlink()
    panel.load()
    qtbot.waitUntil(lambda: "config.json is missing" in panel.state_label.text(), timeout=WAIT)
    panel.choose_folder(str(tmp_path / "nowhere"))
    assert "nowhere not found" in panel.state_label.text() and "Get weights" in panel.state_label.text()
    qtbot.keyClick(win.canvas, Qt.Key_S)
    drag_scene(win.canvas, (50, 50), (50, 50), steps=1)  # a click with no model: said, not raised
    assert assist.result is None and not assist.points
    assert "Choose a segmentation model" in win.notifications.history[-1][1]


def test_assist_keys_are_in_the_shortcuts_sheet_and_collide_with_nothing(qtbot, tmp_path):
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QAction, QKeySequence, QShortcut

    from desktop.ui.main_window import MainWindow
    from desktop.ui.viewer.help_dialogs import shortcut_rows

    full = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))  # every extension
    qtbot.addWidget(full)
    keys: dict[str, list[str]] = {}
    for action in full.findChildren(QAction):
        for k in action.shortcuts():
            keys.setdefault(k.toString(), []).append(action.text())
    for sc in full.findChildren(QShortcut):
        keys.setdefault(sc.key().toString(), []).append(sc.whatsThis())
    for key, name in (("S", "&Assist Mode"), ("F", "&Refine Selected Box"), ("Shift+F", "Refine &All Model Boxes on Image")):
        assert keys[key] == [name], (key, keys[key])
    rows = {(r[0], r[1]) for r in shortcut_rows(full)}
    assert ("Assist Mode", QKeySequence("S").toString(QKeySequence.NativeText)) in rows
    assert ("Assist mode: exclude a point from the mask", "Shift+Click") in rows
    assert ("Assist mode: keep the mask's box", "Enter") in rows


def test_f_without_assist_mode_loads_the_chosen_model_then_refines(qtbot, win, tmp_path, sam_folder):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs", n=2))
    assist = editor.assist
    assist.panel.picker.setCurrentIndex(assist.panel.picker.findData("slimsam"))
    win.settings.setValue("assist/folder/slimsam", str(sam_folder))  # chosen before, not loaded yet
    editor.add_box((40.0, 30.0, 70.0, 60.0), "nodule")
    (bid,) = [b.id for b in editor.store.boxes(editor.image_id)]
    assert assist.engine.model is None and not assist.active
    qtbot.keyClick(win.canvas, Qt.Key_F)
    qtbot.waitUntil(lambda: editor.store.box(bid).refined_by == "slimsam", timeout=WAIT)
    want = _reference(assist.engine.model, editor.image_path, box=(40, 30, 110, 90))
    assert editor.store.box(bid).rect == pytest.approx(want)


def test_cancel_stops_the_folder_run_and_says_what_was_done(qtbot, win, tmp_path, sam_folder):
    editor, assist = _start(qtbot, win, tmp_path, sam_folder, n=4)
    store = editor.store
    planted = []
    for p in win.image_paths()[1:]:
        iid = store.ensure_image(p.rsplit("/", 1)[-1], 200, 160)
        planted += store.replace_predictions(iid, "rfdetr-nano", [("nodule", 30.0, 40.0, 50.0, 60.0, 0.9)])
    job = assist.panel.run.start()
    job.cancel()
    qtbot.waitUntil(lambda: assist.panel.run.job is None, timeout=WAIT)
    done = sum(1 for b in planted if store.box(b).refined_by)
    assert done < len(planted)
    assert f"Cancelled after refining {done} box" in assist.panel.state_label.text()
    assert not assist.panel.progress.isVisible() and assist.panel.folder_button.isEnabled()


def test_clicks_coalesce_and_the_last_box_answers_every_point(qtbot, win, tmp_path, sam_folder, monkeypatch):
    editor, assist = _start(qtbot, win, tmp_path, sam_folder)
    model = assist.engine.model
    calls = []
    real = model.prompt

    def counted(*args, **kwargs):
        calls.append(kwargs.get("points"))
        return real(*args, **kwargs)

    monkeypatch.setattr(model, "prompt", counted)
    for k in range(6):  # six clicks before the event loop runs once: no result can come in between
        assist.add_point(30 + 25 * k, 40 + 15 * k, positive=k % 3 != 2)
    last = assist.engine._seq
    qtbot.waitUntil(lambda: assist.result is not None and assist.result.seq == last, timeout=WAIT)
    assist.engine.wait()
    assert len(calls) < 6 and len(calls[-1]) == 6  # the first ran, the others waited as one
    assert assist.result.rect == _reference(model, editor.image_path, points=assist.points)
