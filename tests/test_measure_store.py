"""Measurements in the store: their own table (migration), undo-friendly deletion, persistence,
recovery replay, and exports apart from the boxes (never in COCO)."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from exchange_helpers import filled_store, write_png
from pycocotools.coco import COCO

from desktop.core.exchange import export_annotations
from desktop.core.store import SCHEMA_VERSION, StoreError, open_store
from desktop.core.store.schema import MIGRATIONS

RESULT = {"value": 50.0, "unit": "mm", "note": "", "text": "50.0 mm", "spacing": [0.5, 0.5],
          "spacing_source": "PixelSpacing"}


def test_measurements_persist_and_delete_as_a_flag(tmp_path):
    write_png(tmp_path / "a.png", 64, 48)
    with open_store(tmp_path) as store:
        i = store.ensure_image("a.png", 64, 48)
        line = store.add_measurement(i, "line", [(10, 20), (110, 20)], result=RESULT)
        ang = store.add_measurement(i, "angle", [(1, 2), (3, 4), (5, 0)], frame=2, result={"value": 90.0})
        store.delete_measurement(ang)
        assert [m.id for m in store.measurements(i)] == [line]
        assert store.box_count() == 0  # a measurement is no box
    with open_store(tmp_path) as store:  # reopened: what was saved is there
        (m,) = store.measurements(i)
        assert (m.kind, m.points, m.text, m.frame) == ("line", ((10.0, 20.0), (110.0, 20.0)), "50.0 mm", 0)
        (gone,) = [x for x in store.measurements(i, include_deleted=True) if x.deleted]
        assert gone.frame == 2 and gone.kind == "angle"
        store.restore_measurement(gone.id)
        assert len(store.measurements(i)) == 2
    conn = sqlite3.connect(tmp_path / ".loupe" / "annotations.db")  # a second reader sees the table
    assert conn.execute("SELECT COUNT(*) FROM measurements WHERE deleted = 0").fetchone()[0] == 2
    conn.close()


def test_bad_measurements_are_refused_with_a_reason(tmp_path):
    with open_store(tmp_path) as store:
        i = store.ensure_image("a.png", 64, 48)
        with pytest.raises(StoreError, match="needs 2 finite"):
            store.add_measurement(i, "line", [(0, 0)])
        with pytest.raises(StoreError, match="not 'circle'"):
            store.add_measurement(i, "circle", [(0, 0), (1, 1)])
        with pytest.raises(StoreError, match="finite"):
            store.add_measurement(i, "box", [(0, 0), (float("nan"), 1)])
        # an empty region's NaN statistics are stored as null (JSON has no NaN)
        mid = store.add_measurement(i, "box", [(0, 0), (1, 1)], result={"mean": float("nan")})
        assert store.measurement(mid).result == {"mean": None}


def test_a_version_2_store_migrates_and_keeps_its_boxes(tmp_path):
    db = tmp_path / ".loupe" / "annotations.db"
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    for script in MIGRATIONS[:2]:
        conn.executescript(script)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO images(rel_path, width, height) VALUES ('a.png', 10, 10)")
    conn.execute("INSERT INTO categories(name, color, ord) VALUES ('x', '#fff', 0)")
    conn.execute("INSERT INTO boxes(image_id, category_id, x, y, w, h, source, state, created, modified) "
                 "VALUES (1, 1, 0, 0, 5, 5, 'person', 'drawn', 0, 0)")
    conn.commit()
    conn.close()
    with open_store(tmp_path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.box_count() == 1
        store.add_measurement(1, "ellipse", [(0, 0), (4, 4)])
        assert store.measurement_count() == 1


def test_waiting_measurements_go_to_the_recovery_file_and_come_back(tmp_path):
    from desktop.core.store.recovery import write_recovery

    with open_store(tmp_path) as store:
        i = store.ensure_image("a.png", 64, 48)
        kept = store.add_measurement(i, "line", [(0, 0), (3, 4)], result=RESULT)
        path = store.path
    records = [{"edit": "add_measurement", "image_id": i, "kind": "box", "points": [[1, 1], [9, 9]], "frame": 0,
                "result": {"mean": 3.0}, "label": "", "handle": -7},
               {"edit": "update_measurement", "measurement": -7, "fields": {"label": "liver"}},
               {"edit": "update_measurement", "measurement": kept, "fields": {"deleted": True}}]
    write_recovery(path, records, "database is locked")
    with open_store(tmp_path) as store:
        assert any("were saved into" in m for m in store.recovered)
        (m,) = store.measurements(i)
        assert (m.kind, m.label, m.result) == ("box", "liver", {"mean": 3.0})


def _with_measurements(tmp_path):
    store = filled_store(tmp_path / "images")
    i = store.image_id("img_00.png")
    store.add_measurement(i, "line", [(10, 20), (110, 20)], result=RESULT)
    store.add_measurement(i, "ellipse", [(0, 0), (10, 8)], result={
        "mean": 40.5, "sd": 2.25, "min": 30.0, "max": 50.0, "n": 60, "area": 15.7, "area_unit": "mm²",
        "note": "", "value_unit": "HU", "text": "mean 40.5 HU", "spacing": [0.5, 0.5], "spacing_source": "PixelSpacing"})
    return store


def test_coco_export_of_a_folder_with_measurements_has_no_extra_annotations(tmp_path):
    plain = filled_store(tmp_path / "plain")
    before = COCO(str(export_annotations(plain, tmp_path / "plain.json", "coco")))
    plain.close()
    store = _with_measurements(tmp_path)
    after = COCO(str(export_annotations(store, tmp_path / "with.json", "coco")))
    store.close()
    assert len(after.getAnnIds()) == len(before.getAnnIds()) == 6 * 3
    assert [c["name"] for c in after.loadCats(after.getCatIds())] == ["heart", "lung"]
    text = (tmp_path / "with.json").read_text()
    assert "ellipse" not in text and "50.0 mm" not in text


def test_measurements_export_json_and_csv_read_back(tmp_path):
    store = _with_measurements(tmp_path)
    doc = json.loads(export_annotations(store, tmp_path / "m.json", "measurements").read_text())
    rows = list(csv.DictReader(open(export_annotations(store, tmp_path / "m.csv", "measurements"),
                                    encoding="utf-8")))
    folder = export_annotations(store, tmp_path / "both", "measurements")
    store.close()
    assert doc["format"] == "loupe-measurements" and len(doc["measurements"]) == 2
    line, ellipse = doc["measurements"]
    assert (line["kind"], line["value"], line["unit"], line["file_name"]) == ("line", 50.0, "mm", "img000001.png")
    assert (ellipse["mean"], ellipse["sd"], ellipse["area_unit"], ellipse["value_unit"]) == (40.5, 2.25, "mm²", "HU")
    assert [r["kind"] for r in rows] == ["line", "ellipse"]
    assert rows[0]["value"] == "50.0" and json.loads(rows[0]["points"]) == [[10.0, 20.0], [110.0, 20.0]]
    assert rows[1]["pixels"] == "60" and rows[1]["spacing_source"] == "PixelSpacing"
    assert "img_00" not in json.dumps(doc)  # named img<id> like every export (decision 0119)
    assert (folder / "measurements.json").is_file() and (folder / "measurements.csv").is_file()


def test_cli_export_measurements(tmp_path, capsys):
    from desktop.cli import main

    _with_measurements(tmp_path).close()
    assert main(["export", str(tmp_path / "images"), "--format", "measurements", "--out",
                 str(tmp_path / "out.csv")]) == 0
    assert "wrote" in capsys.readouterr().out
    assert len(list(csv.DictReader(open(tmp_path / "out.csv", encoding="utf-8")))) == 2


def test_moving_a_measurement_keeps_its_id_and_records_the_edit(tmp_path):
    with open_store(tmp_path) as store:
        i = store.ensure_image("a.png", 64, 48)
        mid = store.add_measurement(i, "line", [(0, 0), (10, 0)], result={"value": 10.0})
        store.update_measurement(mid, points=[(0, 0), (0, 20)], result={"value": 20.0}, label="femur")
        m = store.measurement(mid)
        assert (m.points, m.result, m.label) == (((0.0, 0.0), (0.0, 20.0)), {"value": 20.0}, "femur")
        with pytest.raises(StoreError, match="needs 2 finite"):
            store.update_measurement(mid, points=[(0, 0)])
        assert store.measurement(mid).points == ((0.0, 0.0), (0.0, 20.0))  # refused: nothing changed
