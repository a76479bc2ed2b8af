"""Review status and undo: the first edit marks an image in progress in the same transaction, undo
puts the earlier status back on disk, and the image list hears every change by path."""

from __future__ import annotations

import sqlite3

import pytest
from editor_helpers import image_folder, make_editor_window, open_folder

pytestmark = pytest.mark.gui


def disk_status(store, rel):
    conn = sqlite3.connect(store.path)
    try:
        return conn.execute("SELECT review_status FROM images WHERE rel_path = ?", (rel,)).fetchone()[0]
    finally:
        conn.close()


def test_undo_restores_the_review_status_and_the_list_hears_it(qtbot, tmp_path, monkeypatch):
    win = make_editor_window(qtbot, tmp_path, monkeypatch)
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs"))
    store, path = editor.store, win.current_path()
    rel = path.rsplit("/", 1)[-1]
    heard = []
    editor.review_status_changed.connect(lambda p, s: heard.append((p, s)))
    assert disk_status(store, rel) == "unreviewed"

    editor.add_box((10, 10, 20, 20), "heart")
    assert disk_status(store, rel) == "in_progress" and heard[-1] == (path, "in_progress")
    editor.add_box((40, 40, 20, 20), "heart")  # a second edit: the image was in progress already
    editor.undo_stack.undo()
    assert disk_status(store, rel) == "in_progress"
    editor.undo_stack.undo()  # the first edit: back to unreviewed
    assert disk_status(store, rel) == "unreviewed" and heard[-1] == (path, "unreviewed")
    assert editor.review_statuses()[path] == "unreviewed"
    editor.undo_stack.redo()
    assert disk_status(store, rel) == "in_progress" and editor.review_statuses()[path] == "in_progress"

    editor.mark_reviewed_and_next()  # Space
    assert disk_status(store, rel) == "done" and (path, "done") in heard
    statuses = editor.review_statuses()
    assert statuses[path] == "done" and set(statuses.values()) <= {"unreviewed", "in_progress", "done"}
    editor.undo_stack.undo()
    assert disk_status(store, rel) == "in_progress" and heard[-1] == (path, "in_progress")
    editor.undo_stack.undo()
    assert disk_status(store, rel) == "unreviewed"


def test_image_list_shows_filters_and_counts_review_status(qtbot, tmp_path, monkeypatch):
    """The list marks each image's status, counts them, filters by status, and an image marked
    done under the "Unreviewed" filter stays put so Space walks on to the next unreviewed one.
    Reopening the folder reads the statuses back from the store."""
    from PySide6.QtCore import Qt

    from desktop.ui.viewer.review_marks import StatusRole

    win = make_editor_window(qtbot, tmp_path, monkeypatch)
    folder = image_folder(tmp_path / "imgs", n=4)
    editor = open_folder(qtbot, win, folder)
    panel = win.image_list
    qtbot.waitUntil(lambda: len(panel.model.paths) == 4)
    paths = list(panel.model.paths)
    assert panel.review_count.text() == "0 of 4 reviewed · 0 in progress"

    editor.mark_reviewed_and_next()  # img_0 done, on to img_1
    assert win.current_path() == paths[1]
    editor.add_box((10, 10, 20, 20), "heart")  # img_1 in progress
    assert panel.review_count.text() == "1 of 4 reviewed · 1 in progress"
    row = panel.model.index(0)
    assert row.data(StatusRole) == "done" and "Review: Done" in row.data(Qt.ToolTipRole)
    assert panel.model.index(1).data(StatusRole) == "in_progress"

    panel.status_filter.setCurrentIndex(panel.status_filter.findData("unreviewed"))
    assert panel.visible_paths() == paths[2:]
    win.show_image(paths[2])
    editor.mark_reviewed_and_next()  # img_2 done: it stays listed, and Space went on to img_3
    assert win.current_path() == paths[3] and panel.visible_paths() == paths[2:]
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("done"))
    assert panel.visible_paths() == [paths[0], paths[2]]
    panel.filter.setText("img_2")  # name and status filters together
    assert panel.visible_paths() == [paths[2]]
    panel.filter.setText("")

    editor.undo_stack.undo()  # img_2 back to unreviewed: mark and count follow the store
    assert panel.model.index(2).data(StatusRole) == "unreviewed"
    assert panel.review_count.text() == "1 of 4 reviewed · 1 in progress"

    win.open_folder(tmp_path)  # another folder, then back: statuses come from disk
    win.open_folder(folder)
    qtbot.waitUntil(lambda: len(panel.model.paths) == 4 and panel.review_count.isVisibleTo(panel))
    assert [panel.model.index(r).data(StatusRole) for r in range(4)] == ["done", "in_progress", "unreviewed",
                                                                        "unreviewed"]
    assert panel.review_count.text() == "1 of 4 reviewed · 1 in progress"
