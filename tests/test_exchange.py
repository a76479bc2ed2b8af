"""Export: COCO that pycocotools reads, its options, results files, YOLO/VOC, corrections, and the
Roboflow layout that rfdetr's dataset code loads as it is."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from exchange_helpers import filled_store, store_in
from pycocotools.coco import COCO

from desktop.core.exchange import (
    corrections,
    export_coco,
    export_coco_results,
    export_roboflow,
    export_voc,
    export_yolo,
    import_annotations,
)
from desktop.core.store import open_store


@pytest.fixture
def store(tmp_path):
    s = filled_store(tmp_path / "images")
    yield s
    s.close()


def test_coco_export_is_valid_for_pycocotools(store, tmp_path):
    path = export_coco(store, tmp_path / "out" / "coco.json", keep_paths=True)
    coco = COCO(str(path))
    data = json.loads(path.read_text())
    ann_ids = [a["id"] for a in data["annotations"]]
    assert ann_ids == list(range(1, len(ann_ids) + 1))
    assert min(c["id"] for c in data["categories"]) >= 1 and min(i["id"] for i in data["images"]) >= 1
    # per image: the person's box + accepted + relabelled prediction; not deleted, not unreviewed
    assert len(coco.getAnnIds()) == 6 * 3
    a = coco.loadAnns(coco.getAnnIds(imgIds=[data["images"][0]["id"]]))
    assert [x["bbox"] for x in a] == [[1.5, 2.25, 10.0, 12.5], [5.0, 5.0, 20.0, 20.0], [30.0, 10.0, 8.0, 8.0]]
    assert all(x["area"] == x["bbox"][2] * x["bbox"][3] and x["iscrowd"] == 0 for x in a)
    assert "score" not in a[1]
    assert data["images"][0]["file_name"] == "img_00.png"


def test_coco_export_options(store, tmp_path):
    only = json.loads(export_coco(store, tmp_path / "r.json", only_reviewed=True, keep_paths=True).read_text())
    assert [i["file_name"] for i in only["images"]] == ["img_00.png", "img_02.png", "img_04.png"]
    full = json.loads(export_coco(store, tmp_path / "p.json", include_predictions=True,
                                  with_scores=True).read_text())
    assert len(full["annotations"]) == 6 * 4
    scores = sorted({a.get("score") for a in full["annotations"] if "score" in a})
    assert scores == pytest.approx([0.4, 0.6, 0.9])
    COCO(str(tmp_path / "p.json"))


def test_coco_results_file_evaluates_against_the_export(store, tmp_path):
    gt = export_coco(store, tmp_path / "gt.json", include_predictions=True)
    res = export_coco_results(store, tmp_path / "res.json", model="det")
    results = json.loads(res.read_text())
    assert len(results) == 6 * 3 and all("score" in r for r in results)
    coco = COCO(str(gt))
    dt = coco.loadRes(str(res))  # pycocotools checks image ids against the ground truth
    assert len(dt.getAnnIds()) == 18


def test_coco_round_trip_is_exact(store, tmp_path):
    first = export_coco(store, tmp_path / "a.json", keep_paths=True)
    other = store_in(tmp_path / "images2")
    for im in json.loads(first.read_text())["images"]:
        (tmp_path / "images2" / im["file_name"]).write_bytes((store.folder / im["file_name"]).read_bytes())
    report = import_annotations(other, first, "coco")
    assert report.boxes_imported == 18 and not report.problems
    second = json.loads(export_coco(other, tmp_path / "b.json", keep_paths=True).read_text())
    a = json.loads(first.read_text())

    def boxes(d):
        names = {c["id"]: c["name"] for c in d["categories"]}
        files = {i["id"]: (i["file_name"], i["width"], i["height"]) for i in d["images"]}
        return sorted((files[x["image_id"]], names[x["category_id"]], x["bbox"], x["area"]) for x in d["annotations"])

    assert boxes(second) == boxes(a)
    assert [c["name"] for c in second["categories"]] == [c["name"] for c in a["categories"]]


def test_yolo_and_voc_exports_read_back(store, tmp_path):
    export_yolo(store, tmp_path / "yolo")
    export_voc(store, tmp_path / "voc", keep_paths=True)
    assert (tmp_path / "yolo" / "classes.txt").read_text().split() == ["heart", "lung"]
    for fmt, path in (("yolo", tmp_path / "yolo"), ("voc", tmp_path / "voc")):
        target = store_in(tmp_path / f"copy_{fmt}")
        for f in store.folder.glob("*.png"):
            (tmp_path / f"copy_{fmt}" / f.name).write_bytes(f.read_bytes())
        report = import_annotations(target, path, fmt)
        assert report.boxes_imported == 18, report.problems
        want = sorted((b.category, round(b.x, 3), round(b.y, 3), round(b.w, 3), round(b.h, 3))
                      for i in store.images() for b in store.boxes(i.id) if b.state != "unreviewed")
        got = sorted((b.category, round(b.x, 3), round(b.y, 3), round(b.w, 3), round(b.h, 3))
                     for i in target.images() for b in target.boxes(i.id))
        assert got == want


def test_corrections_count_each_kind(store, tmp_path):
    c = corrections(store)
    assert c["counts"] == {"accepted": 6, "moved": 0, "relabelled": 6, "deleted": 6, "added": 6,
                           "unreviewed": 6, "refined": 0}
    image = store.image_id("img_00.png")
    moved = next(b for b in store.boxes(image) if b.is_prediction)
    store.update_box(moved.id, x=moved.x + 3)
    item = next(x for x in corrections(store)["corrections"] if x["box_id"] == moved.id)
    assert item["kinds"] == ["moved"] and item["predicted_bbox"][0] == moved.x


def test_roboflow_export_loads_in_rfdetr(store, tmp_path):
    pytest.importorskip("rfdetr")
    from rfdetr.datasets.coco import build_roboflow_from_coco

    for i in store.images():
        store.set_review_status(i.id, "done")
    out = export_roboflow(store, store.folder, tmp_path / "rf", split=(0.5, 0.25, 0.25), seed=3)
    again = export_roboflow(store, store.folder, tmp_path / "rf2", split=(0.5, 0.25, 0.25), seed=3)
    args = SimpleNamespace(dataset_dir=str(out), square_resize_div_64=True, segmentation_head=False,
                           multi_scale=False, expanded_scales=False, patch_size=16, num_windows=2)
    total = 0
    for split, folder in (("train", "train"), ("val", "valid"), ("test", "test")):
        ann = json.loads((out / folder / "_annotations.coco.json").read_text())
        assert ann == json.loads((again / folder / "_annotations.coco.json").read_text())  # deterministic
        COCO(str(out / folder / "_annotations.coco.json"))
        ds = build_roboflow_from_coco(split, args, 64)
        assert len(ds) == len(ann["images"]) >= 1
        image, target = ds[0]
        # train crops at random and may drop a box; valid/test keep all three
        assert image.shape[0] == 3 and (len(target["labels"]) == 3 or split == "train")
        assert set(target["labels"].tolist()) <= {0, 1}
        assert all(im["file_name"].startswith("img") for im in ann["images"])
        total += len(ann["images"])
    assert total == 6


def test_roboflow_keeps_a_patient_in_one_split(tmp_path):
    from exchange_helpers import write_png

    store = open_store(tmp_path)
    for patient in range(8):
        for visit in range(3):
            name = f"{patient:08d}_{visit:03d}.png"
            write_png(tmp_path / name, 16, 16)
            i = store.ensure_image(name, 16, 16)
            store.add_box(i, "Mass", 1, 1, 4, 4)
            store.set_review_status(i, "done")
    out = export_roboflow(store, tmp_path, tmp_path / "rf", seed=1)
    where = {}
    for split in ("train", "valid", "test"):
        for im in json.loads((out / split / "_annotations.coco.json").read_text())["images"]:
            rel = store.image(im["id"]).rel_path
            where.setdefault(rel[:8], set()).add(split)
            assert rel[:8] not in im["file_name"]  # no patient id in the exported name
    assert len(where) == 8 and all(len(s) == 1 for s in where.values())
    assert {s for v in where.values() for s in v} == {"train", "valid", "test"}


@pytest.mark.shared_data
def test_roboflow_writes_dicom_as_windowed_png(shared_data, tmp_path):
    import shutil

    import numpy as np
    from PIL import Image

    from desktop.core.imaging import read_image

    src = shared_data / "dicom" / "siim_cr_chest_jpeg_baseline.dcm"
    shutil.copy(src, tmp_path / "chest.dcm")
    store = open_store(tmp_path)
    i = store.ensure_image("chest.dcm", 1024, 1024)
    store.add_box(i, "heart", 300, 400, 200, 150)
    store.set_review_status(i, "done")
    out = export_roboflow(store, tmp_path, tmp_path / "rf", split=(1, 0, 0), window=(128, 200))
    ann = json.loads((out / "train" / "_annotations.coco.json").read_text())
    name = ann["images"][0]["file_name"]
    assert name.endswith(".png") and "chest" not in name
    png = np.asarray(Image.open(out / "train" / name).convert("RGB"))
    assert np.array_equal(png, read_image(tmp_path / "chest.dcm").display((128, 200)))
