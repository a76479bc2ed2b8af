"""The annotation store: schema, images found again after a rename, categories, boxes and their
review states, predictions replaced without touching people's work, image-level data."""

from __future__ import annotations

import sqlite3

import pytest

from desktop.core.store import SCHEMA_VERSION, StoreError, open_store
from desktop.core.store.schema import MIGRATIONS


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path)
    yield s
    s.close()


def test_store_lives_in_the_folder_in_wal_mode_with_schema_version(tmp_path):
    s = open_store(tmp_path)
    assert s.path == tmp_path / ".loupe" / "annotations.db"
    assert s.journal_mode == "wal"
    s.close()
    conn = sqlite3.connect(tmp_path / ".loupe" / "annotations.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)


def test_newer_schema_is_refused_with_a_message(tmp_path):
    open_store(tmp_path).close()
    conn = sqlite3.connect(tmp_path / ".loupe" / "annotations.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this Loupe"):
        open_store(tmp_path)


def test_unwritable_folder_falls_back_to_data_dir(tmp_path, monkeypatch):
    from desktop.core.store import location

    monkeypatch.setenv("LOUPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(location, "folder_writable", lambda folder: False)
    folder = tmp_path / "images"
    folder.mkdir()
    s = open_store(folder)
    assert str(s.path).startswith(str(tmp_path / "data"))
    assert "not writable" in s.note and str(folder) in s.note
    s.ensure_image("a.png", 10, 10)
    s.close()
    assert open_store(folder).image_id("a.png") == 1  # the same store is found again


def test_renamed_file_keeps_its_annotations(tmp_path, store):
    (tmp_path / "a.png").write_bytes(b"pretend image bytes" * 100)
    i = store.ensure_image("a.png", 64, 32)
    store.add_box(i, "heart", 1, 2, 3, 4)
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.png").rename(tmp_path / "sub" / "b.png")
    j = store.ensure_image("sub/b.png", 64, 32)
    assert j == i
    assert store.image_id("a.png") is None
    assert [b.rect for b in store.boxes(j)] == [(1, 2, 3, 4)]


def test_a_copy_does_not_steal_annotations(tmp_path, store):
    (tmp_path / "a.png").write_bytes(b"x" * 50)
    (tmp_path / "c.png").write_bytes(b"x" * 50)
    i = store.ensure_image("a.png", 5, 5)
    assert store.ensure_image("c.png", 5, 5) != i  # a.png still exists: c.png is a new image


def test_categories_keys_rename_merge_delete_policies(store):
    store.set_label_set(["heart", "lung", "rib"])
    cats = store.categories()
    assert [(c.name, c.key, c.order) for c in cats] == [("heart", 1, 0), ("lung", 2, 1), ("rib", 3, 2)]
    assert len({c.color for c in cats}) == 3
    i = store.ensure_image("a.png", 100, 100)
    store.add_box(i, "lung", 1, 1, 5, 5)
    store.add_box(i, "rib", 2, 2, 5, 5)
    with pytest.raises(StoreError, match="exists already"):
        store.rename_category("lung", "heart")
    store.rename_category("lung", "lungs")
    assert {b.category for b in store.boxes(i)} == {"lungs", "rib"}
    with pytest.raises(StoreError, match="still has 1 box"):
        store.delete_category("rib")
    assert store.merge_categories("rib", "heart") == 1
    assert sorted(b.category for b in store.boxes(i)) == ["heart", "lungs"]
    assert store.delete_category("lungs", boxes="delete_boxes") == 1
    assert [b.category for b in store.boxes(i, include_deleted=True)] == ["heart"]
    store.delete_category("heart", boxes="reassign", reassign_to=store.ensure_category("other"))
    assert [b.category for b in store.boxes(i)] == ["other"]
    store.set_category("other", key=7)
    assert next(c.key for c in store.categories() if c.name == "other") == 7


def test_box_states_person_and_prediction(store):
    i = store.ensure_image("a.png", 100, 100)
    drawn = store.add_box(i, "heart", 10, 10, 20, 20)
    p1, p2, p3 = store.replace_predictions(i, "det", [("heart", 1, 1, 5, 5, 0.9), ("lung", 2, 2, 5, 5, 0.8),
                                                      ("lung", 3, 3, 5, 5, 0.7)])
    assert store.box(p1).is_prediction and store.box(p1).score == pytest.approx(0.9)
    assert store.box(drawn).state == "drawn" and store.box(drawn).source == "person"
    store.update_box(p1, x=2)
    store.delete_box(p2)
    assert store.accept_predictions(i) == [p3]
    states = {b.id: (b.state, b.deleted) for b in store.boxes(i, include_deleted=True)}
    assert states == {drawn: ("drawn", False), p1: ("modified", False), p2: ("unreviewed", True),
                      p3: ("accepted", False)}
    store.update_box(p3, category="heart")
    assert store.box(p3).state == "modified"
    store.update_box(p3, category="lung", state="accepted")  # undo restores the state it had
    assert store.box(p3).state == "accepted"
    store.restore_box(p2)
    assert not store.box(p2).deleted


def test_replace_predictions_keeps_people_work(store):
    i = store.ensure_image("a.png", 100, 100)
    drawn = store.add_box(i, "heart", 10, 10, 20, 20)
    a, b, c, d = store.replace_predictions(i, "det", [("heart", 1, 1, 5, 5, 0.9)] * 4)
    other = store.replace_predictions(i, "other-model", [("lung", 1, 1, 5, 5, 0.5)])
    store.accept_predictions(i, [a])
    store.update_box(b, w=9)
    store.delete_box(c)
    new = store.replace_predictions(i, "det", [("rib", 4, 4, 4, 4, 0.3)])
    ids = {x.id for x in store.boxes(i, include_deleted=True)}
    assert ids == {drawn, a, b, c, *other, *new}
    assert d not in ids


def test_replace_predictions_is_one_transaction(store):
    i = store.ensure_image("a.png", 100, 100)
    old = store.replace_predictions(i, "det", [("heart", 1, 1, 5, 5, 0.9)])
    with pytest.raises(ValueError):
        store.replace_predictions(i, "det", [("heart", 1, 1, 5, 5, 0.9), ("bad", "x", 1, 1, 1, 0.1)])
    assert [b.id for b in store.boxes(i)] == old


def test_image_level_data(store):
    i = store.ensure_image("a.png", 100, 100)
    assert store.review_status(i) == "unreviewed"
    store.set_review_status(i, "in_progress")
    assert store.review_status(i) == "in_progress"
    with pytest.raises(StoreError, match="review status must be one of"):
        store.set_review_status(i, "finished")
    store.set_image_labels(i, {"Effusion": 0.81, "Mass": 0.1})
    assert store.image_labels(i) == {"Effusion": pytest.approx(0.81), "Mass": pytest.approx(0.1)}
    store.set_image_labels(i, ["Normal"])
    assert store.image_labels(i) == {"Normal": None}
    store.set_caption(i, "Cardiomegaly; note the widened mediastinum.")
    assert store.caption(i) == "Cardiomegaly; note the widened mediastinum."


def test_bad_boxes_are_refused(store):
    i = store.ensure_image("a.png", 100, 100)
    with pytest.raises(StoreError, match="positive width and height"):
        store.add_box(i, "heart", 1, 1, -3, 4)
    with pytest.raises(StoreError, match="no box with id"):
        store.box(999)


def test_batch_is_all_or_nothing(store):
    i = store.ensure_image("a.png", 100, 100)
    with pytest.raises(RuntimeError):
        with store.batch():
            store.add_box(i, "heart", 1, 1, 3, 4)
            store.add_box(i, "heart", 2, 2, 3, 4)
            raise RuntimeError("cancelled half way")
    assert store.boxes(i) == []
    with store.batch():
        for k in range(5):
            store.add_box(i, "heart", k, k, 3, 4)
    assert len(store.boxes(i)) == 5


def test_a_version_2_store_gains_refined_by_and_keeps_its_boxes(tmp_path):
    from desktop.core.store.schema import migrate

    (tmp_path / ".loupe").mkdir()
    conn = sqlite3.connect(tmp_path / ".loupe" / "annotations.db", isolation_level=None)
    for statement in (MIGRATIONS[0] + MIGRATIONS[1]).split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO images(id, rel_path, width, height) VALUES (1, 'a.png', 50, 40)")
    conn.execute("INSERT INTO categories(id, name, color, ord) VALUES (1, 'nodule', '#E69F00', 0)")
    conn.execute("INSERT INTO boxes(image_id, category_id, x, y, w, h, source, model, score, state, orig_category_id, "
                 "orig_x, orig_y, orig_w, orig_h, created, modified) "
                 "VALUES (1, 1, 3, 4, 10, 12, 'model', 'det', 0.9, 'unreviewed', 1, 3, 4, 10, 12, 0, 0)")
    assert migrate(conn, "x") == 2
    conn.close()
    s = open_store(tmp_path)
    try:
        (box,) = s.boxes(1)
        assert (box.rect, box.model, box.state, box.refined_by) == ((3, 4, 10, 12), "det", "unreviewed", None)
        s.update_box(box.id, x=2.0, w=11.0, refined_by="medsam")
        assert (s.box(box.id).refined_by, s.box(box.id).state) == ("medsam", "modified")
        s.update_box(box.id, x=3.0, w=10.0, state="unreviewed", refined_by="")
        assert (s.box(box.id).rect, s.box(box.id).refined_by, s.box(box.id).state) == ((3, 4, 10, 12), None, "unreviewed")
    finally:
        s.close()
    raw = sqlite3.connect(tmp_path / ".loupe" / "annotations.db")
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("SELECT refined_by FROM boxes").fetchall() == [(None,)]
