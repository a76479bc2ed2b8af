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
