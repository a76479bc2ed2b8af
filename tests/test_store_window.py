"""The window and its store (issue 14 parts 1-3): a lock held by another program never freezes
the window and the status bar says how many edits wait; quitting with waiting edits asks, and a
recovery file is put back on the next open; a change made by another program appears in the view;
a read-only folder shows its annotations and refuses edits; another Loupe on the folder is said."""

from __future__ import annotations

import sqlite3
import time

import pytest

from desktop.core.store import location, open_store
from tests.editor_helpers import disk_boxes, image_folder, make_editor_window, open_folder
from tests.store_window_helpers import answer_message_box, hold_write_lock, other_loupe


@pytest.fixture
def win(qtbot, tmp_path, monkeypatch):
    return make_editor_window(qtbot, tmp_path, monkeypatch)


def test_a_locked_store_never_blocks_the_window_and_the_status_bar_counts_waiting_edits(qtbot, win, tmp_path):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs"))
    store = editor.store
    gui_timeout = store.conn.execute("PRAGMA busy_timeout").fetchone()[0]
    assert gui_timeout <= 50  # the most one write can wait on the window's thread
    locker = hold_write_lock(store.path)
    try:
        attempts = store.writer.foreground_attempts
        times = []
        for k in range(5):
            start = time.perf_counter()
            editor.add_box((10 + 20 * k, 10, 15, 15), "heart")
            times.append(time.perf_counter() - start)
        # one try with the short timeout for the first edit, none for those queued behind it
        assert store.writer.foreground_attempts - attempts == 1
        assert max(times) < 0.3, times  # generous for a loaded machine; it was ~8 s per edit
        assert len(editor.items) == 5 and store.pending == 5
        qtbot.waitUntil(lambda: editor.status.waiting.isVisible(), timeout=3000)
        assert editor.status.waiting.text() == "5 edits waiting to be saved"
        assert "locked by another program" in editor.status.waiting.toolTip()
        assert disk_boxes(store) == []
    finally:
        locker.release()
    qtbot.waitUntil(lambda: store.pending == 0, timeout=10000)
    assert sorted(b[2] for b in disk_boxes(store)) == [10.0, 30.0, 50.0, 70.0, 90.0]
    qtbot.waitUntil(lambda: not editor.status.waiting.isVisible(), timeout=3000)
    # the view re-read the store: its boxes carry the ids SQLite gave them
    qtbot.waitUntil(lambda: sorted(editor.items) == sorted(b[0] for b in disk_boxes(store)), timeout=3000)


def test_quitting_with_waiting_edits_asks_and_the_recovery_file_comes_back(qtbot, win, tmp_path, monkeypatch):
    folder = image_folder(tmp_path / "imgs")
    editor = open_folder(qtbot, win, folder)
    store = editor.store
    locker = hold_write_lock(store.path)
    try:
        editor.add_box((10, 10, 15, 15), "heart")
        editor.add_box((40, 40, 15, 15), "lung")
        seen = []
        answer_message_box("Cancel", seen)
        win.close()
        assert win.isVisible() and store.pending == 2  # Cancel: the window and its edits stay
        text, info, buttons = seen[-1]
        assert text == "2 edits are not saved yet."
        assert "locked by another program" in info
        assert {"Retry", "Save to Recovery File", "Discard Edits"} <= set(buttons)
        answer_message_box("Save to Recovery File", seen)
        win.close()
        assert not win.isVisible() and store.pending == 0
        files = list((folder / ".loupe").glob("annotations.recovery-*.json"))
        assert len(files) == 1
    finally:
        locker.release()
    store.close()
    again = make_editor_window(qtbot, tmp_path, monkeypatch)
    editor2 = open_folder(qtbot, again, folder)
    assert sorted((b[1], b[2]) for b in disk_boxes(editor2.store)) == [("heart", 10.0), ("lung", 40.0)]
    assert any("were saved into the annotations" in text for _l, text, _d in again.notifications.history)
    assert editor2.status.recovered.isVisible() and "put back" in editor2.status.recovered.text()
    assert "2 unsaved edit(s)" in editor2.status.recovered.toolTip()
    assert len(editor2.items) == 2


def test_discard_on_quit_is_explicit(qtbot, win, tmp_path):
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs"))
    store = editor.store
    locker = hold_write_lock(store.path)
    try:
        editor.add_box((10, 10, 15, 15), "heart")
        seen = []
        answer_message_box("Discard Edits", seen)
        win.close()
        assert seen and seen[0][0] == "1 edit is not saved yet."
        assert not win.isVisible() and store.pending == 0
        assert not list(store.path.parent.glob("annotations.recovery-*"))
    finally:
        locker.release()


def test_a_change_by_another_program_appears_in_the_view(qtbot, win, tmp_path):
    folder = image_folder(tmp_path / "imgs")
    editor = open_folder(qtbot, win, folder)
    image = editor.image_id
    other = open_store(folder)  # e.g. `loupe import` or another window: its own connection
    other.add_box(image, "lung", 30, 30, 20, 20)
    other.set_review_status(image, "done")
    other.close()
    qtbot.waitUntil(lambda: [i.box.category for i in editor.items.values()] == ["lung"], timeout=3000)
    assert editor.review_status_of(image) == "done"
    qtbot.waitUntil(lambda: win.image_list.model.status_of(str(folder / "img_0.png")) == "done", timeout=3000)


def test_a_read_only_folder_shows_its_annotations_and_refuses_edits(qtbot, win, tmp_path, monkeypatch):
    """Simulated (the tests run as root): the store's writability probe says the folder cannot
    be written; the store is then really opened with SQLite's mode=ro."""
    folder = image_folder(tmp_path / "imgs")
    with open_store(folder) as store:
        store.add_box(store.ensure_image("img_0.png", 200, 160), "heart", 5, 5, 30, 30)
    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(location, "folder_writable", lambda folder: False)
    editor = open_folder(qtbot, win, folder)
    assert editor.store.read_only and editor.store.path == folder / ".loupe" / "annotations.db"
    assert [i.box.category for i in editor.items.values()] == ["heart"]
    assert editor.status.read_only.isVisible() and editor.status.copy_button.isVisible()
    assert "Read-only folder" in editor.status.read_only.text()
    assert any("read-only" in text for _l, text, _d in win.notifications.history)
    editor.add_box((50, 50, 20, 20), "lung")
    level, text, _details = win.notifications.history[-1]
    assert level == "warning" and "read-only" in text and "Edit a Copy" in text
    assert len(editor.items) == 1 and len(disk_boxes(editor.store)) == 1

    editor.status.copy_button.click()  # on request: edits go to a copy, named as such
    assert "copy-of-read-only-folder" in editor.store.path.name and not editor.store.read_only
    assert editor.status.read_only.text() == "Editing a copy: the folder is read-only"
    assert str(editor.store.path) in editor.status.read_only.toolTip()
    qtbot.waitUntil(lambda: editor.image_id is not None)
    editor.add_box((50, 50, 20, 20), "lung")
    assert len(disk_boxes(editor.store)) == 2
    conn = sqlite3.connect(folder / ".loupe" / "annotations.db")
    assert conn.execute("SELECT COUNT(*) FROM boxes").fetchone()[0] == 1  # the folder's own store unchanged
    conn.close()

    # the choice is remembered: opening the read-only folder again edits the same copy at once
    copy_path = editor.store.path
    editor.close_store()
    editor = open_folder(qtbot, win, folder)
    assert editor.store.path == copy_path and not editor.store.read_only
    assert len(disk_boxes(editor.store)) == 2
    assert editor.status.read_only.text() == "Editing a copy: the folder is read-only"
    assert any(str(copy_path) in text for _l, text, _d in win.notifications.history[-3:])


def test_another_loupe_on_the_same_folder_is_said(qtbot, win, tmp_path):
    folder = image_folder(tmp_path / "imgs")
    open_store(folder).close()
    other = other_loupe(folder)
    try:
        editor = open_folder(qtbot, win, folder)
        assert editor.status.others.isVisible()
        assert "another Loupe" in editor.status.others.text()
        assert f"process {other.proc.pid}" in editor.status.others.toolTip()
        assert any("Another Loupe has this folder open" in text for _l, text, _d in win.notifications.history)
    finally:
        other.release()
    assert not editor.store.other_instances()  # it closed: its registration is gone


def test_an_image_first_shown_while_the_store_is_locked_opens_its_annotations_when_free(qtbot, win, tmp_path):
    folder = image_folder(tmp_path / "imgs")
    editor = open_folder(qtbot, win, folder)
    qtbot.waitUntil(lambda: len(win.image_paths()) == 3)
    locker = hold_write_lock(editor.store.path)
    try:
        win.go_next()  # img_1 has no record yet, and none can be written now
        qtbot.waitUntil(lambda: win.current_path().endswith("img_1.png"))
        qtbot.waitUntil(lambda: "open once the database is free" in win.notifications.history[-1][1], timeout=3000)
        assert editor.image_id is None
    finally:
        locker.release()
    qtbot.waitUntil(lambda: editor.image_id is not None, timeout=5000)
    editor.add_box((10, 10, 20, 20), "heart")
    assert [b[1] for b in disk_boxes(editor.store)] == ["heart"]


def test_switching_folders_with_waiting_edits_keeps_them_in_a_recovery_file(qtbot, win, tmp_path):
    first = image_folder(tmp_path / "a")
    second = image_folder(tmp_path / "b")
    editor = open_folder(qtbot, win, first)
    locker = hold_write_lock(editor.store.path)
    try:
        editor.add_box((10, 10, 15, 15), "heart")
        open_folder(qtbot, win, second)  # closing the first store cannot save the edit
        files = list((first / ".loupe").glob("annotations.recovery-*.json"))
        assert len(files) == 1
        assert any(str(files[0]) in (details or "") for _l, _t, details in win.notifications.history)
    finally:
        locker.release()
    with open_store(first) as store:  # the next open puts it back
        assert [(b.category, b.x) for b in store.boxes(store.image_id("img_0.png"))] == [("heart", 10.0)]
