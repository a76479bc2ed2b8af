"""The box editor in the real MainWindow: draw, move, resize, relabel, delete, undo, redo, and the
store on disk agrees after each step; predictions, review, copy/paste, hide, the seam."""

from __future__ import annotations

import pytest
from editor_helpers import disk_boxes, drag_scene, image_folder, make_editor_window, open_folder
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch):
    return make_editor_window(qtbot, tmp_path, monkeypatch)


def _row(box):
    return (box[1], round(box[2], 3), round(box[3], 3), round(box[4], 3), round(box[5], 3))


def test_draw_move_resize_relabel_delete_undo_redo(qtbot, win, tmp_path):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs"))
    store = editor.store
    store.set_label_set(["heart", "lung"])
    canvas = win.canvas

    qtbot.keyClick(canvas, Qt.Key_W)  # draw
    assert editor.drawing
    drag_scene(canvas, (20, 30), (80, 90))
    (box,) = disk_boxes(store)
    assert _row(box) == pytest.approx(("heart", 20, 30, 60, 60), abs=1.0)
    bid = box[0]
    item = editor.items[bid]
    assert item.isSelected() and not editor.drawing

    drag_scene(canvas, (50, 60), (70, 70))  # move by (20, 10)
    assert _row(disk_boxes(store)[0]) == pytest.approx(("heart", 40, 40, 60, 60), abs=1.0)
    x, y, w, h = item.rect_tuple()

    drag_scene(canvas, (x + w, y + h), (x + w + 30, y + h + 20))  # the south-east handle
    assert _row(disk_boxes(store)[0]) == pytest.approx(("heart", x, y, w + 30, h + 20), abs=1.0)

    qtbot.keyClick(canvas, Qt.Key_2)  # relabel with the number key of "lung"
    assert disk_boxes(store)[0][1] == "lung"

    qtbot.keyClick(canvas, Qt.Key_Delete)
    assert disk_boxes(store) == [] and bid not in editor.items

    undo = editor.actions["undo"]
    assert undo.text() == "&Undo Delete 1 box(es)"
    steps = [("lung",), ("heart",), ("heart", 40, 40), ("heart", 20, 30), ()]
    for expected in steps:
        qtbot.keyClick(canvas, Qt.Key_Z, Qt.ControlModifier)
        rows = disk_boxes(store)
        if not expected:
            assert rows == []
        else:
            assert rows[0][1] == expected[0]
            if len(expected) > 1:
                assert rows[0][2:4] == pytest.approx(expected[1:], abs=1.0)
    assert editor.items == {}
    qtbot.keyClick(canvas, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)  # redo the drawing
    assert [r[0] for r in disk_boxes(store)] == [bid]  # the same box comes back
    for _ in range(4):
        qtbot.keyClick(canvas, Qt.Key_Y, Qt.ControlModifier)
    assert disk_boxes(store) == []
    assert win.menu("Edit").actions()[0] is undo


def test_nudge_merges_and_shift_moves_ten(qtbot, win, tmp_path):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs"))
    editor.add_box((10, 10, 20, 20), "heart")
    qtbot.keyClick(win.canvas, Qt.Key_Right)
    qtbot.keyClick(win.canvas, Qt.Key_Right)
    qtbot.keyClick(win.canvas, Qt.Key_Down, Qt.ShiftModifier)
    assert disk_boxes(editor.store)[0][2:4] == (12.0, 20.0)
    assert editor.undo_stack.count() == 2  # draw + one merged nudge
    editor.undo_stack.undo()
    assert disk_boxes(editor.store)[0][2:4] == (10.0, 10.0)
    assert win.current_path().endswith("img_0.png")  # arrows nudged, did not change image


def test_predictions_dashed_filter_accept_and_edit(qtbot, win, tmp_path):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs"))
    store = editor.store
    ids = store.replace_predictions(editor.image_id, "det", [("heart", 10, 10, 30, 30, 0.9),
                                                             ("lung", 50, 50, 30, 30, 0.3)])
    with qtbot.waitSignal(editor.boxes_changed):
        editor.reload()
    assert all(editor.items[i].pen().style() == Qt.DashLine for i in ids)
    assert editor.items[ids[0]].label() == "heart 0.90"  # what hovering shows
    editor.set_hovered(editor.items[ids[0]])
    assert editor.hovered is editor.items[ids[0]]
    editor.set_prediction_filter(0.5, None)
    assert editor.items[ids[0]].isVisible() and not editor.items[ids[1]].isVisible()
    editor.set_prediction_filter(0.0, {"lung"})
    assert not editor.items[ids[0]].isVisible() and editor.items[ids[1]].isVisible()
    editor.set_prediction_filter(0.0, None)
    qtbot.keyClick(win.canvas, Qt.Key_Return)  # accept all on the image
    assert {r[6] for r in disk_boxes(store)} == {"accepted"}
    assert editor.items[ids[0]].pen().style() == Qt.SolidLine
    editor.undo_stack.undo()
    assert {r[6] for r in disk_boxes(store)} == {"unreviewed"}
    editor._select([ids[0]])
    qtbot.keyClick(win.canvas, Qt.Key_Left)
    assert store.box(ids[0]).state == "modified" and editor.selected_box().id == ids[0]
    editor.undo_stack.undo()
    assert store.box(ids[0]).state == "unreviewed" and store.box(ids[0]).x == 10


def test_space_marks_reviewed_and_goes_next(qtbot, win, tmp_path):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs"))
    qtbot.waitUntil(lambda: len(win.image_paths()) == 3)
    first = editor.image_id
    qtbot.keyPress(win.canvas, Qt.Key_Space)  # Space + drag pans: not "reviewed"
    drag_scene(win.canvas, (50, 50), (60, 60))
    qtbot.keyRelease(win.canvas, Qt.Key_Space)
    assert win.current_path().endswith("img_0.png") and editor.store.review_status(first) != "done"
    qtbot.keyClick(win.canvas, Qt.Key_Space)
    qtbot.waitUntil(lambda: win.current_path().endswith("img_1.png"))
    assert editor.store.review_status(first) == "done"
    assert editor.actions["undo"].text() == "&Undo Mark image reviewed"


def test_copy_paste_between_images_duplicate_lock_hide_tab(qtbot, win, tmp_path):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs"))
    qtbot.waitUntil(lambda: len(win.image_paths()) == 3)
    editor.add_box((10, 10, 20, 20), "heart")
    editor.add_box((100, 100, 20, 20), "lung")
    editor._select(list(editor.items))
    qtbot.keyClick(win.canvas, Qt.Key_C, Qt.ControlModifier)
    win.go_next()
    qtbot.waitUntil(lambda: editor.image_path.endswith("img_1.png") and editor.image_id is not None)
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key_V, Qt.ControlModifier)
    assert sorted((b.category, b.x) for b in editor.store.boxes(editor.image_id)) == [("heart", 10), ("lung", 100)]
    editor._select([min(editor.items)])
    qtbot.keyClick(win.canvas, Qt.Key_D, Qt.ControlModifier)
    assert len(editor.store.boxes(editor.image_id)) == 3
    qtbot.keyClick(win.canvas, Qt.Key_L, Qt.ControlModifier)
    locked = editor.selected_items()[0]
    assert editor.store.box(locked.box_id).locked
    qtbot.keyClick(win.canvas, Qt.Key_Delete)
    assert len(editor.store.boxes(editor.image_id)) == 3  # a locked box stays
    qtbot.keyClick(win.canvas, Qt.Key_H)
    assert not editor.layer.isVisible()
    qtbot.keyClick(win.canvas, Qt.Key_H)
    assert editor.layer.isVisible()
    editor.canvas.scene().clearSelection()
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key_Tab)
    first = editor.selected_items()[0].box_id
    qtbot.keyClick(win.canvas, Qt.Key_Tab)
    assert editor.selected_items()[0].box_id != first and win.canvas.hasFocus()


def test_label_picker_filters_and_takes_new_names(qtbot):
    from desktop.ui.editor.label_picker import LabelPicker

    picker = LabelPicker(["Atelectasis", "Cardiomegaly", "Effusion"])
    qtbot.addWidget(picker)
    qtbot.keyClicks(picker.search, "card")
    assert picker.chosen() == "Cardiomegaly"
    picker.search.setText("Pneumothorax")
    assert picker.chosen() == "Pneumothorax"


def test_store_opened_signal_and_locked_database_message(qtbot, win, tmp_path):
    import sqlite3

    folder = image_folder(tmp_path / "imgs")
    with qtbot.waitSignal(win.box_editor.store_opened):
        win.open_folder(folder)
    editor = open_folder(qtbot, win, folder)
    editor.store.writer.delay = 0.001
    editor.store.conn.execute("PRAGMA busy_timeout = 10")
    other = sqlite3.connect(editor.store.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    shown = []
    win.notify = lambda text, details=None, level="info": shown.append((text, details, level))
    editor.add_box((10, 10, 20, 20), "heart")
    assert len(editor.items) == 1 and editor.store.pending >= 1  # on screen and kept in memory
    assert shown and shown[-1][2] == "warning" and "locked" in shown[-1][1]
    other.execute("ROLLBACK")
    other.close()
    qtbot.waitUntil(lambda: editor.store.pending == 0, timeout=5000)  # saved by the background thread
    assert len(disk_boxes(editor.store)) == 1


def test_undo_of_a_change_on_another_image_shows_that_image(qtbot, win, tmp_path):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs"))
    qtbot.waitUntil(lambda: len(win.image_paths()) == 3)
    editor.add_box((10, 10, 20, 20), "heart")
    first = editor.image_id
    win.go_next()
    qtbot.waitUntil(lambda: editor.image_id not in (None, first))
    editor.undo_stack.undo()
    assert editor.image_id == first and win.current_path().endswith("img_0.png")
    assert editor.items == {} and editor.store.boxes(first) == []


def test_rubber_band_selects_the_boxes_inside(qtbot, win, tmp_path):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs"))
    for rect in ((10, 10, 20, 20), (40, 10, 20, 20), (150, 120, 20, 20)):
        editor.add_box(rect, "heart")
    win.canvas.scene().clearSelection()
    drag_scene(win.canvas, (5, 5), (70, 40))
    assert sorted(i.rect_tuple()[0] for i in editor.selected_items()) == [10, 40]
