"""The box list dock (label, score, who made it, reviewed; click selects, Del deletes, canvas
selection follows) and View ▸ Labels on All Boxes, in the real window."""

from __future__ import annotations

import numpy as np
import pytest
from e2e_helpers import make_images, open_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget

pytestmark = pytest.mark.gui


@pytest.fixture
def win(qtbot, tmp_path):
    folder = tmp_path / "films"
    make_images(folder, n=2, size=200)
    win = open_window(qtbot, tmp_path, folder, tmp_path / "models", 2)
    editor = win.box_editor
    qtbot.waitUntil(lambda: editor.image_id is not None, timeout=10000)
    store = editor.store
    store.add_box(editor.image_id, "nodule", 20, 30, 40, 40)
    store.add_box(editor.image_id, "effusion", 100, 120, 50, 30, source="model", model="heartformer",
                  score=0.87, state="unreviewed")
    store.add_box(editor.image_id, "effusion", 120, 10, 30, 30, source="model", model="heartformer",
                  score=0.55, state="accepted")
    store.flush()
    editor.reload()
    win.resize(1280, 720)
    win.findChild(QDockWidget, "dock_Boxes").raise_()
    QApplication.processEvents()
    return win


def _rows(table):
    return [tuple(table.item(r, c).text() for c in range(table.columnCount())) for r in range(table.rowCount())]


def test_the_list_shows_label_score_maker_and_review(win):
    table = win.box_editor.box_list
    assert _rows(table) == [("effusion", "0.55", "heartformer", "yes (accepted)"),
                            ("nodule", "", "a person", "yes (drawn)"),
                            ("effusion", "0.87", "heartformer", "no")]


def test_click_selects_on_the_canvas_and_the_canvas_selects_the_row(qtbot, win):
    editor, table = win.box_editor, win.box_editor.box_list
    rect = table.visualItemRect(table.item(1, 0))
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())
    assert [i.box.category for i in editor.selected_items()] == ["nodule"]
    editor._select([table.ids[2]])  # selected on the canvas
    assert table.selected_ids() == [table.ids[2]]


def test_del_in_the_list_deletes_the_box_and_undo_brings_it_back(qtbot, win):
    editor, table = win.box_editor, win.box_editor.box_list
    target = table.ids[2]
    table.selectRow(2)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key_Delete)
    assert target not in [b.id for b in editor.store.boxes(editor.image_id)]
    assert [r[0] for r in _rows(table)] == ["effusion", "nodule"]
    editor.undo_stack.undo()
    assert target in [b.id for b in editor.store.boxes(editor.image_id)] and table.rowCount() == 3


def test_labels_on_all_boxes_paints_every_label_and_is_remembered(qtbot, win):
    editor = win.box_editor
    canvas = win.canvas
    canvas.fit()
    QApplication.processEvents()

    def grab():
        image = canvas.viewport().grab().toImage()
        return np.array([[image.pixel(x, y) for x in range(0, image.width(), 2)]
                         for y in range(0, image.height(), 2)])

    editor.set_hovered(None)
    editor._select([])
    plain = grab()
    editor.all_labels_action.setChecked(True)
    QApplication.processEvents()
    labelled = grab()
    assert (plain != labelled).sum() > 50  # the person's box got its label tab
    assert win.settings.value("view/all_labels") == "true"
    editor.all_labels_action.setChecked(False)
    QApplication.processEvents()
    assert (grab() != plain).sum() == 0


def test_an_image_without_boxes_says_how_to_draw_one(qtbot, win):
    editor, table = win.box_editor, win.box_editor.box_list
    before = editor.image_id
    win.canvas.setFocus()
    qtbot.keyClick(win.canvas, Qt.Key_End)  # the second image has no boxes
    qtbot.waitUntil(lambda: editor.image_id not in (None, before), timeout=10000)
    qtbot.waitUntil(lambda: table.rowCount() == 0, timeout=5000)
    assert "Press W (or R) and drag on the image" in table.empty_text()
    shot = table.viewport().grab().toImage()
    colors = {shot.pixel(x, y) for x in range(0, shot.width(), 3) for y in range(0, min(shot.height(), 60), 2)}
    assert len(colors) > 2  # the text is painted, not an empty white table


def test_in_a_narrow_dock_the_label_keeps_room_and_long_texts_are_elided(qtbot, win):
    """At 1280x720 the Label column was squeezed to "…" with a scroll bar by "Made by" and
    "Reviewed" sized to their text."""
    table = win.box_editor.box_list
    win.resizeDocks([win.findChild(QDockWidget, "dock_Boxes")], [230], Qt.Horizontal)
    QApplication.processEvents()
    table.fit_columns()
    width = table.viewport().width()
    assert table.columnWidth(0) >= width * 0.35
    assert all(table.columnWidth(c) <= max(40, width // 5) for c in (1, 2, 3))
    assert table.horizontalScrollBar().maximum() == 0 or not table.horizontalScrollBar().isVisible()
    # a wide dock: every column as wide as its text
    win.resizeDocks([win.findChild(QDockWidget, "dock_Boxes")], [600], Qt.Horizontal)
    QApplication.processEvents()
    table.fit_columns()
    for c in (1, 2, 3):
        before = table.columnWidth(c)
        table.resizeColumnToContents(c)
        assert table.columnWidth(c) == before
