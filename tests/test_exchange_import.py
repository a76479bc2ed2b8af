"""Imports: real NIH and Roboflow files, and malformed input that must change nothing and say
what is wrong and where (file, line or annotation id)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest
from exchange_helpers import store_in, write_png
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.core.exchange import ImportProblems, import_annotations


def _box_rows(store):
    return sorted((i.rel_path, b.category, b.x, b.y, b.w, b.h) for i in store.images() for b in store.boxes(i.id))


@pytest.mark.shared_data
def test_nih_csv_import_matches_the_csv_box_by_box(shared_data, tmp_path):
    folder = tmp_path / "nih"
    shutil.copytree(shared_data / "nih" / "images", folder)
    store = store_in(folder)
    report = import_annotations(store, shared_data / "nih" / "BBox_List_2017.csv", "nih-csv")
    names = {p.name for p in folder.glob("*.png")}
    with open(shared_data / "nih" / "BBox_List_2017.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    want = sorted((r[0], r[1], *map(float, r[2:6])) for r in rows if r[0] in names)
    assert len(want) == 4
    assert _box_rows(store) == want  # exact floats, every box
    assert report.boxes_imported == 4 and report.skipped == len(rows) - 4 and not report.problems
    assert all((i.width, i.height) == (1024, 1024) for i in store.images())
    assert {i.patient_key for i in store.images()} == {n[:8] for n in names if n[:8] != "00000004"}


@pytest.mark.shared_data
def test_roboflow_coco_import_skips_the_parent_placeholder(shared_data, tmp_path):
    src = shared_data / "coco_rbc" / "valid"
    folder = tmp_path / "rbc"
    shutil.copytree(src, folder, ignore=shutil.ignore_patterns("*.json"))
    store = store_in(folder)
    report = import_annotations(store, src / "_annotations.coco.json", "coco")
    data = json.loads((src / "_annotations.coco.json").read_text())
    assert report.boxes_imported == len(data["annotations"]) == 470 and not report.problems
    assert sorted(c.name for c in store.categories()) == ["rbc", "wbc"]  # no "RBC-WBC" placeholder
    files = {i["id"]: i["file_name"] for i in data["images"]}
    names = {c["id"]: c["name"] for c in data["categories"]}
    want = sorted((files[a["image_id"]], names[a["category_id"]], *map(float, a["bbox"])) for a in data["annotations"])
    assert _box_rows(store) == want


def _coco_folder(tmp_path):
    folder = tmp_path / "f"
    write_png(folder / "a.png", 50, 40)
    write_png(folder / "b.png", 30, 30)
    return folder


def _coco(anns, cats=None):
    return {"images": [{"id": 1, "file_name": "a.png", "width": 50, "height": 40},
                       {"id": 2, "file_name": "b.png", "width": 30, "height": 30}],
            "categories": cats or [{"id": 1, "name": "heart"}],
            "annotations": anns}


@pytest.mark.parametrize("ann, expected", [
    ({"id": 7, "image_id": 1, "category_id": 1, "bbox": [45, 5, 20, 5]}, "annotation id 7 (#1): box outside the image"),
    ({"id": 8, "image_id": 1, "category_id": 1, "bbox": [5, 5, -2, 5]}, "annotation id 8 (#1): negative or zero size"),
    ({"id": 9, "image_id": 1, "category_id": 4, "bbox": [5, 5, 2, 5]}, "annotation id 9 (#1): unknown category id 4"),
    ({"id": 10, "image_id": 3, "category_id": 1, "bbox": [5, 5, 2, 5]}, "annotation id 10 (#1): unknown image id 3"),
    ({"id": 11, "image_id": 1, "category_id": 1, "bbox": [5, 5]}, "annotation id 11 (#1): bbox must be"),
])
def test_bad_coco_changes_nothing_and_says_where(tmp_path, ann, expected):
    folder = _coco_folder(tmp_path)
    store = store_in(folder)
    good = {"id": 1, "image_id": 2, "category_id": 1, "bbox": [1, 1, 5, 5]}
    path = tmp_path / "in.json"
    path.write_text(json.dumps(_coco([good, ann])))
    with pytest.raises(ImportProblems) as err:
        import_annotations(store, path, "coco")
    assert expected in str(err.value) and str(path) in str(err.value)
    assert store.box_count(include_deleted=True) == 0 and store.image_count() == 0
    report = import_annotations(store, path, "coco", strict=False)  # the good box alone
    assert report.boxes_imported == 1 and len(report.problems) == 1


def test_unknown_image_file_and_bad_json(tmp_path):
    folder = _coco_folder(tmp_path)
    store = store_in(folder)
    data = _coco([{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}])
    data["images"][0]["file_name"] = "missing.png"
    path = tmp_path / "in.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ImportProblems, match="image missing.png: unknown image"):
        import_annotations(store, path, "coco")
    path.write_text('{"images": [\n  {"id": 1,, }\n]}')
    with pytest.raises(ImportProblems, match=r"line 2, column 12: bad JSON"):
        import_annotations(store, path, "coco")
    assert store.image_count() == 0


def test_yolo_and_voc_problems_name_file_and_line(tmp_path):
    folder = _coco_folder(tmp_path)
    store = store_in(folder)
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "classes.txt").write_text("heart\n")
    (labels / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n3 0.5 0.5 0.2 0.2\n0 0.5 nope 0.2\n")
    with pytest.raises(ImportProblems) as err:
        import_annotations(store, labels, "yolo")
    text = str(err.value)
    assert f"{labels / 'a.txt'}, line 2: unknown category: class 3" in text
    assert f"{labels / 'a.txt'}, line 3: expected 'class cx cy w h'" in text
    voc = tmp_path / "a.xml"
    voc.write_text("<annotation><filename>a.png</filename><object><name>heart</name>"
                   "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>10</xmax></bndbox></object>")
    with pytest.raises(ImportProblems, match=r"a.xml, line 1, column \d+: bad XML"):
        import_annotations(store, voc, "voc")
    assert store.box_count(include_deleted=True) == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                      st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=5),
                                   lambda c: st.lists(c, max_size=4) | st.dictionaries(
                                       st.sampled_from(["images", "annotations", "categories", "bbox", "id",
                                                        "image_id", "category_id", "file_name", "name"]), c,
                                       max_size=5), max_leaves=20).map(json.dumps)),
       fmt=st.sampled_from(["coco", "nih-csv", "yolo", "voc"]))
def test_importers_fed_garbage_change_nothing(tmp_path_factory, text, fmt):
    tmp = tmp_path_factory.mktemp("fuzz")
    folder = _coco_folder(tmp)
    store = store_in(folder)
    suffix = {"coco": "in.json", "nih-csv": "in.csv", "yolo": "a.txt", "voc": "a.xml"}[fmt]
    path = tmp / suffix
    path.write_text(text, encoding="utf-8")
    if fmt == "yolo":
        (tmp / "classes.txt").write_text("heart\n")
    before = store.box_count(include_deleted=True)
    try:
        report = import_annotations(store, path, fmt)
    except ImportProblems as exc:
        assert str(path) in str(exc) or str(tmp) in str(exc)
        assert store.box_count(include_deleted=True) == before
    else:  # accepted input is imported whole
        assert store.box_count() == before + report.boxes_imported
    store.close()


def test_cli_import_then_export(tmp_path):
    folder = _coco_folder(tmp_path)
    path = tmp_path / "in.json"
    path.write_text(json.dumps(_coco([{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}])))
    run = [sys.executable, "-m", "desktop"]
    out = subprocess.run([*run, "import", str(folder), str(path), "--format", "coco"], capture_output=True, text=True)
    assert out.returncode == 0 and "imported 1 box(es)" in out.stdout
    out = subprocess.run([*run, "export", str(folder), "--format", "coco", "--out", str(tmp_path / "o.json")],
                         capture_output=True, text=True)
    assert out.returncode == 0
    assert json.loads((tmp_path / "o.json").read_text())["annotations"][0]["bbox"] == [1, 2, 3, 4]
    path.write_text("{broken")
    out = subprocess.run([*run, "import", str(folder), str(path), "--format", "coco"], capture_output=True, text=True)
    assert out.returncode == 2 and "bad JSON" in out.stderr and "Traceback" not in out.stderr


def test_cli_roboflow_and_corrections_exports(tmp_path):
    from exchange_helpers import filled_store

    store = filled_store(tmp_path / "imgs")
    store.close()
    run = [sys.executable, "-m", "desktop", "export", str(tmp_path / "imgs")]
    out = subprocess.run([*run, "--format", "roboflow", "--out", str(tmp_path / "rf"), "--split", "0.5,0.5,0"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    train = json.loads((tmp_path / "rf" / "train" / "_annotations.coco.json").read_text())
    valid = json.loads((tmp_path / "rf" / "valid" / "_annotations.coco.json").read_text())
    assert len(train["images"]) + len(valid["images"]) == 3  # only the reviewed images
    out = subprocess.run([*run, "--format", "corrections", "--out", str(tmp_path / "c.json")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    counts = json.loads((tmp_path / "c.json").read_text())["counts"]
    assert counts["deleted"] == counts["accepted"] == counts["relabelled"] == 6
    out = subprocess.run([*run, "--format", "roboflow", "--out", str(tmp_path / "rf2"), "--split", "a,b"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "--split" in out.stderr


def test_bulk_import_leaves_foreign_keys_on_and_consistent(tmp_path):
    folder = _coco_folder(tmp_path)
    store = store_in(folder)
    path = tmp_path / "in.json"
    anns = [{"id": k, "image_id": 1 + k % 2, "category_id": 1 + k % 2, "bbox": [1.5, 2, 3, 4 + k / 7]}
            for k in range(1, 41)]
    path.write_text(json.dumps(_coco(anns, [{"id": 1, "name": "heart"}, {"id": 2, "name": "lung"}])))
    assert import_annotations(store, path, "coco").boxes_imported == 40
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1  # the checks are back on
    assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert sorted((b.category, b.h) for i in store.images() for b in store.boxes(i.id)) == sorted(
        ({1: "heart", 2: "lung"}[1 + k % 2], 4 + k / 7) for k in range(1, 41))
    store.close()
