"""Label-set snapshots: every category edit is brought back exactly (rows read by a second
connection), deleted predictions and their original categories included; reorder in one go."""

from __future__ import annotations

import sqlite3

import pytest

from desktop.core.store import StoreError, open_store


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path)
    yield s
    s.close()


def disk(store):
    conn = sqlite3.connect(store.path)
    try:
        return (sorted(conn.execute("SELECT id, name, color, key, ord FROM categories")),
                sorted(conn.execute("SELECT * FROM boxes")))
    finally:
        conn.close()


@pytest.fixture
def filled(store):
    store.set_label_set(["heart", "lung", "rib"])
    iid = store.ensure_image("a.png", 100, 100)
    store.add_box(iid, "heart", 1, 2, 10, 10)
    store.add_box(iid, "lung", 5, 5, 20, 20)
    p = store.replace_predictions(iid, "m", [("heart", 30, 30, 5, 5, 0.9)])[0]
    store.update_box(p, category="lung")  # a relabelled prediction: its original category is heart
    q = store.replace_predictions(iid, "m2", [("heart", 40, 40, 5, 5, 0.5)])[0]
    store.delete_box(q)  # a deleted prediction, kept as a correction
    return store


@pytest.mark.parametrize("edit, affected", [
    (lambda s, ids: s.merge_categories("heart", "lung"), ("heart", "lung")),
    (lambda s, ids: s.delete_category("heart", boxes="delete_boxes"), ("heart",)),
    (lambda s, ids: s.delete_category("heart", boxes="reassign", reassign_to="rib"), ("heart", "rib")),
    (lambda s, ids: s.rename_category("heart", "cardiac"), ()),
    (lambda s, ids: s.set_category("rib", key=1, color="#000000"), ()),
    (lambda s, ids: s.reorder_categories([ids["rib"], ids["heart"]]), ()),
])
def test_any_category_edit_is_undone_and_redone_exactly(filled, edit, affected):
    s = filled
    ids = {c.name: c.id for c in s.categories()}
    touched = [ids[n] for n in affected]
    before_state, before_disk = s.category_state(touched), disk(s)
    edit(s, ids)
    after_state, after_disk = s.category_state(touched), disk(s)
    assert after_disk != before_disk
    s.restore_category_state(before_state, touched)
    assert disk(s) == before_disk
    s.restore_category_state(after_state, touched)
    assert disk(s) == after_disk
    assert s.integrity_check() == "ok"


def test_undo_of_an_added_category_removes_it_and_its_deleted_boxes(filled):
    s = filled
    before, before_disk = s.category_state(), disk(s)
    new = s.add_category("nodule", key=4)
    iid = s.image_id("a.png")
    b = s.add_box(iid, "nodule", 1, 1, 3, 3)
    s.delete_box(b)  # a drawing that was undone: its row stays, flagged
    after = s.category_state([new])
    s.restore_category_state(before, [new])
    assert disk(s) == before_disk and s.category_id("nodule") is None
    s.restore_category_state(after, [new])
    assert s.category_id("nodule") == new and s.box(b).deleted  # the same row comes back for redo


def test_restore_refuses_a_name_taken_meanwhile(filled):
    s = filled
    state = s.category_state()
    s.rename_category("rib", "bone")
    s.add_category("rib")
    with pytest.raises(StoreError, match="another category has that name"):
        s.restore_category_state(state)
    assert [c.name for c in s.categories()][-2:] == ["bone", "rib"]  # nothing half done


def test_reorder_and_box_counts(filled):
    s = filled
    ids = {c.name: c.id for c in s.categories()}
    s.reorder_categories([ids["rib"], ids["lung"]])
    assert [c.name for c in s.categories()] == ["rib", "lung", "heart"]
    assert s.category_box_count(ids["heart"]) == (1, 1)
    assert s.category_box_count(ids["lung"]) == (2, 0)
