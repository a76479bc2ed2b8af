"""The label set dock in the real window: add, rename, colour, key, reorder, merge, delete with each
box policy, a label set from a model card; the store on disk (a second connection) after each edit
and after its undo and redo; a refused delete pushes nothing."""

from __future__ import annotations

import json
import sqlite3

import pytest
from editor_helpers import image_folder, make_editor_window, open_folder
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui


def disk(store):
    """(categories as (name, color, key) in order, live boxes as (id, category), deleted box ids)."""
    conn = sqlite3.connect(store.path)
    try:
        cats = [tuple(r) for r in conn.execute("SELECT name, color, key FROM categories ORDER BY ord, id")]
        live = sorted(conn.execute("SELECT b.id, c.name FROM boxes b JOIN categories c ON c.id = b.category_id "
                                   "WHERE b.deleted = 0"))
        gone = sorted(r[0] for r in conn.execute("SELECT id FROM boxes WHERE deleted = 1"))
        return cats, live, gone
    finally:
        conn.close()


@pytest.fixture
def setup(qtbot, tmp_path, monkeypatch):
    win = make_editor_window(qtbot, tmp_path, monkeypatch)
    editor = open_folder(qtbot, win, image_folder(tmp_path / "imgs"))
    editor.store.set_label_set(["heart", "lung", "rib"])
    editor.add_box((10, 10, 20, 20), "heart")
    editor.add_box((50, 50, 20, 20), "lung")
    editor.undo_stack.clear()
    return win, editor, editor.labels_panel


def check_undo_redo(editor, before, after):
    editor.undo_stack.undo()
    assert disk(editor.store) == before
    editor.undo_stack.redo()
    assert disk(editor.store) == after


def ids(store):
    return {c.name: c.id for c in store.categories()}


def test_add_rename_colour_key_reorder_each_undoable(setup):
    win, editor, panel = setup
    store = editor.store
    assert [panel.list.item(r).text().split()[-1] for r in range(panel.list.count())] == ["heart", "lung", "rib"]
    steps = [
        lambda: panel.add("nodule", "#123456", 4),
        lambda: panel.rename(ids(store)["heart"], "cardiac"),
        lambda: panel.set_color(ids(store)["lung"], "#00ff00"),
        lambda: panel.set_key(ids(store)["rib"], 1),  # takes key 1 from cardiac
        lambda: panel.move(ids(store)["rib"], -2),
    ]
    expected = [
        ("nodule", "#123456", 4),
        ("cardiac",),
        ("lung", "#00ff00"),
        [("rib", 1), ("cardiac", None)],
        ["rib", "cardiac", "lung", "nodule"],
    ]
    for step, want in zip(steps, expected):
        before = disk(store)
        step()
        after = disk(store)
        cats = {c[0]: c for c in after[0]}
        if isinstance(want, tuple):
            assert cats[want[0]][:len(want)] == want
        elif isinstance(want[0], tuple):
            assert all(cats[n][2] == k for n, k in want)
        else:
            assert [c[0] for c in after[0]] == want
        assert after[1] == [(b, {"heart": "cardiac"}.get(n, n) if "cardiac" in cats else n)
                            for b, n in before[1]]  # boxes follow their label
        check_undo_redo(editor, before, after)
    assert editor.actions["undo"].text() == "&Undo Move label rib"
    assert panel.list.item(0).text().split()[-1] == "rib"  # the dock shows the order on disk
    editor.undo_stack.setIndex(0)
    assert [c[0] for c in disk(store)[0]] == ["heart", "lung", "rib"]


def test_merge_and_delete_policies(setup, monkeypatch):
    win, editor, panel = setup
    told = []
    monkeypatch.setattr(win, "notify", lambda text, details=None, level="info": told.append((text, level)))
    store = editor.store
    heart, lung, rib = (ids(store)[n] for n in ("heart", "lung", "rib"))
    (hb,), (lb,) = ([b for b, n in disk(store)[1] if n == name] for name in ("heart", "lung"))

    before = disk(store)
    panel.delete(heart)  # refuse: it has a box; nothing changes, nothing is pushed
    assert disk(store) == before and editor.undo_stack.count() == 0
    assert told and "'heart' still has 1 box(es)" in told[-1][0] and told[-1][1] == "warning"

    panel.merge(heart, lung)
    after = disk(store)
    assert "heart" not in [c[0] for c in after[0]] and after[1] == [(hb, "lung"), (lb, "lung")]
    assert {i.box.category for i in editor.items.values()} == {"lung"}  # the canvas follows
    check_undo_redo(editor, before, after)
    editor.undo_stack.undo()

    panel.delete(heart, "reassign", rib)
    after = disk(store)
    assert after[1] == [(hb, "rib"), (lb, "lung")] and "heart" not in [c[0] for c in after[0]]
    check_undo_redo(editor, before, after)
    editor.undo_stack.undo()

    panel.delete(heart, "delete_boxes")
    after = disk(store)
    assert after[1] == [(lb, "lung")] and hb not in after[2]  # removed for good, not flagged
    assert hb not in editor.items
    check_undo_redo(editor, before, after)
    editor.undo_stack.undo()
    assert disk(store) == before and hb in editor.items

    panel.delete(rib)  # no boxes: refuse lets it go
    assert [c[0] for c in disk(store)[0]] == ["heart", "lung"]
    check_undo_redo(editor, before, disk(store))


def test_undo_of_an_added_label_used_by_an_undone_drawing(setup):
    win, editor, panel = setup
    store = editor.store
    before = disk(store)
    panel.add("nodule")
    editor.add_box((80, 80, 10, 10), "nodule")
    editor.undo_stack.undo()  # the drawing (its row stays, flagged)
    editor.undo_stack.undo()  # the label: gone from disk with that row
    assert disk(store) == before
    editor.undo_stack.redo()
    editor.undo_stack.redo()  # the same box comes back with its label
    assert [n for _b, n in disk(store)[1]].count("nodule") == 1


def test_delete_dialog_offers_an_explicit_choice(qtbot):
    from desktop.ui.editor.label_dialogs import DeleteCategoryDialog

    dialog = DeleteCategoryDialog("heart", 3, 1, ["lung", "rib"])
    qtbot.addWidget(dialog)
    assert dialog.choice() == ("refuse", None)  # nothing that loses boxes is preselected
    dialog.target.setCurrentIndex(1)
    assert dialog.choice() == ("reassign", "rib")
    dialog.delete.setChecked(True)
    assert dialog.choice() == ("delete_boxes", None)


def test_label_set_from_a_model_card_and_presets(setup, tmp_path):
    win, editor, panel = setup
    store = editor.store
    card = tmp_path / "card.json"
    card.write_text(json.dumps({"name": "ctr", "architecture": "rfdetr-nano", "task": "detection",
                                "class_names": ["aorta", "heart"]}))
    before = disk(store)
    panel.load_card(card)
    cats = disk(store)[0]
    assert [c[0] for c in cats] == ["aorta", "heart", "lung", "rib"]
    assert [c[2] for c in cats] == [1, 2, None, None]  # the card's classes get keys 1..n
    editor.undo_stack.undo()
    assert disk(store) == before

    panel.load_card(tmp_path / "missing.json")  # a clear message, nothing changes
    assert disk(store) == before and editor.undo_stack.index() == 0

    panel.model_menu.aboutToShow.emit()
    presets = [a for a in panel.model_menu.actions() if "classes)" in a.text()]
    assert presets, "the presets with class names are offered"
    from models.registry import list_presets

    first = next(c for c in list_presets() if presets[0].text().startswith(c.name + " ("))
    presets[0].trigger()
    assert [c[0] for c in disk(store)[0]][:len(first.class_names)] == list(first.class_names)


def test_buttons_follow_the_store(qtbot, tmp_path, monkeypatch):
    win = make_editor_window(qtbot, tmp_path, monkeypatch)
    panel = win.box_editor.labels_panel
    assert not panel.buttons["add"].isEnabled()  # no folder, no store
    open_folder(qtbot, win, image_folder(tmp_path / "imgs"))  # a new store without labels
    assert panel.buttons["add"].isEnabled() and panel.list.count() == 0
    panel.add("heart")
    assert panel.list.count() == 1 and panel.list.item(0).text().split() == ["1", "heart"]


def test_buttons_ask_then_edit(setup, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    win, editor, panel = setup
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("spine", True))
    panel.buttons["add"].click()
    assert disk(editor.store)[0][-1][0] == "spine"
    assert panel.list.currentItem().text().split()[-1] == "spine"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("vertebra", True))
    panel.list.itemDoubleClicked.emit(panel.list.currentItem())
    assert disk(editor.store)[0][-1][0] == "vertebra"
    panel.buttons["up"].click()
    assert [c[0] for c in disk(editor.store)[0]][-2:] == ["vertebra", "rib"]
    editor.canvas.setFocus()
    editor.undo_stack.undo()
    assert editor.window.panel_widget(editor.labels_dock) is panel and panel.list.item(panel.list.count() - 1).data(Qt.UserRole)


def test_a_locked_store_refuses_label_edits_with_a_message(setup, monkeypatch):
    win, editor, panel = setup
    store = editor.store
    shown = []
    monkeypatch.setattr(win, "notify", lambda text, details=None, level="info": shown.append((text, details, level)))
    panel.add("nodule")
    before_undo = disk(store)
    store.writer.delay = 0.001
    store.conn.execute("PRAGMA busy_timeout = 10")
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        panel.rename(ids(store)["heart"], "cardiac")  # refused: nothing pushed
        assert editor.undo_stack.count() == 1 and "locked" in shown[-1][0]
        editor.undo_stack.undo()  # the add cannot be undone now: said so, nothing half done
        assert shown[-1][0] == "Could not undo Add label nodule" and "locked" in shown[-1][1]
        # the stack steps back to where the data is: Undo is still offered, Redo is not
        QApplication.processEvents()
        assert editor.undo_stack.index() == 1 and editor.undo_stack.canUndo()
        assert not editor.undo_stack.canRedo()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert disk(store) == before_undo
    editor.undo_stack.undo()  # the store is free again: the same Undo now works
    assert "nodule" not in ids(store) and editor.undo_stack.index() == 0
    store.conn.execute("PRAGMA busy_timeout = 10")
    other = sqlite3.connect(store.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        editor.undo_stack.redo()  # a refused redo: said, and the stack stays before it
        assert shown[-1][0] == "Could not redo Add label nodule"
        QApplication.processEvents()
        assert editor.undo_stack.index() == 0 and editor.undo_stack.canRedo()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert "nodule" not in ids(store)
    editor.undo_stack.redo()
    assert "nodule" in ids(store) and editor.undo_stack.index() == 1
