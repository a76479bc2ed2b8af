"""Detection metrics against pycocotools itself, on the real Roboflow export and on hand-made cases."""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
import re

import numpy as np
import pytest
from PIL import Image

from desktop.cli import main
from models.metrics.detection import evaluate_detection


def _gt_path(shared_data):
    return shared_data / "coco_rbc" / "valid" / "_annotations.coco.json"


def _run_eval(capsys, *argv) -> tuple[int, str, str]:
    rc = main(["eval", *argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


@pytest.mark.shared_data
def test_ground_truth_fed_back_gives_map_one(shared_data, capsys, tmp_path):
    gt = _gt_path(shared_data)
    html = tmp_path / "report.html"
    rc, out, _ = _run_eval(capsys, "--gt", str(gt), "--pred", str(gt), "--html", str(html))
    assert rc == 0
    m = json.loads(out)
    assert m["map50"] == pytest.approx(1.0) and m["map50_95"] == pytest.approx(1.0)
    assert set(m["per_class"]) == {"rbc", "wbc"}  # the unused parent category 0 is left out
    assert all(c["ap50"] == pytest.approx(1.0) for c in m["per_class"].values())
    assert m["per_image"]["sensitivity"] == 1.0 and m["per_box"]["sensitivity"] == 1.0
    # the report is one file: its plots are PNGs that PIL can decode
    text = html.read_text()
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len(pngs) >= 2
    img = Image.open(io.BytesIO(base64.b64decode(pngs[0])))
    assert img.format == "PNG" and img.size[0] > 50


def _perturbed(gt: dict, seed=0) -> list[dict]:
    rng = np.random.default_rng(seed)
    res = []
    for a in gt["annotations"]:
        if rng.random() < 0.15:
            continue  # a missed box
        x, y, w, h = a["bbox"]
        j = rng.normal(0, 0.12, 4) * [w, h, w, h]
        cat = a["category_id"] if rng.random() > 0.1 else 3 - a["category_id"]
        res.append({"image_id": a["image_id"], "category_id": cat,
                    "bbox": [x + j[0], y + j[1], max(w + j[2], 1), max(h + j[3], 1)],
                    "score": float(rng.uniform(0.05, 1.0))})
    for im in gt["images"][:8]:  # false boxes
        res.append({"image_id": im["id"], "category_id": 1, "bbox": [5.0, 5.0, 30.0, 30.0],
                    "score": float(rng.uniform(0.05, 1.0))})
    return res


def _pycocotools(gt: dict, res: list[dict], cat_ids=None):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = copy.deepcopy(gt)
    for i, a in enumerate(gt["annotations"]):
        a["id"] = i + 1  # pycocotools treats annotation id 0 as "unmatched"
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = gt
        cg.createIndex()
        e = COCOeval(cg, cg.loadRes(copy.deepcopy(res)), "bbox")
        if cat_ids:
            e.params.catIds = cat_ids
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e.stats


@pytest.mark.shared_data
def test_perturbed_boxes_equal_pycocotools_numbers(shared_data, capsys, tmp_path):
    gt = json.loads(_gt_path(shared_data).read_text())
    res = _perturbed(gt)
    pred = tmp_path / "pred.json"
    pred.write_text(json.dumps(res))
    rc, out, _ = _run_eval(capsys, "--gt", str(_gt_path(shared_data)), "--pred", str(pred))
    assert rc == 0
    m = json.loads(out)
    stats = _pycocotools(gt, res)
    assert 0.2 < m["map50"] < 0.99
    assert m["map50_95"] == pytest.approx(stats[0], abs=1e-12)
    assert m["map50"] == pytest.approx(stats[1], abs=1e-12)
    for name, cid in (("rbc", 1), ("wbc", 2)):
        s = _pycocotools(gt, res, cat_ids=[cid])
        assert m["per_class"][name]["ap50_95"] == pytest.approx(s[0], abs=1e-12)
        assert m["per_class"][name]["ap50"] == pytest.approx(s[1], abs=1e-12)


def _tiny_gt():
    return {
        "images": [{"id": i, "file_name": f"im{i}.png", "width": 100, "height": 100} for i in (1, 2, 3, 4)],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [50, 50, 20, 20]},
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [10, 10, 20, 20]},
        ],
    }  # images 3 and 4 have no boxes


def test_thresholds_sensitivity_specificity_and_confusion_by_hand():
    res = [
        {"image_id": 1, "category_id": 1, "bbox": [11, 11, 20, 20], "score": 0.9},   # TP a
        {"image_id": 1, "category_id": 1, "bbox": [50, 50, 20, 20], "score": 0.6},   # b box called a
        {"image_id": 2, "category_id": 1, "bbox": [10, 10, 20, 20], "score": 0.4},   # TP a, low score
        {"image_id": 3, "category_id": 2, "bbox": [0, 0, 10, 10], "score": 0.8},     # false box
        {"image_id": 4, "category_id": 2, "bbox": [0, 0, 10, 10], "score": 0.2},     # below 0.3
    ]
    m = evaluate_detection(_tiny_gt(), res, cm_threshold=0.3)
    a = m["per_class"]["a"]
    assert (a["precision@0.3"], a["recall@0.3"]) == (pytest.approx(2 / 3), 1.0)
    assert (a["precision@0.5"], a["recall@0.5"]) == (0.5, 0.5)
    assert (a["precision@0.7"], a["recall@0.7"]) == (1.0, 0.5)
    # all classes at 0.7: the 0.9 "a" box (TP) and image 3's 0.8 false "b" box
    assert m["at_threshold"]["0.7"] == {"precision": 0.5, "recall": pytest.approx(1 / 3), "tp": 1, "fp": 1,
                                        "fn": 2, "f1": pytest.approx(2 / 5)}
    # per image: 1, 2 positive and found; 3 negative with a 0.8 box (FP); 4 negative, 0.2 < 0.3 (TN)
    pi = m["per_image"]
    assert (pi["tp"], pi["fn"], pi["fp"], pi["tn"]) == (2, 0, 1, 1)
    assert pi["sensitivity"] == 1.0 and pi["specificity"] == 0.5
    # per box: GT boxes found 2 of 3; (image, class) pairs without GT: (2,b),(3,a),(3,b),(4,a),(4,b);
    # (3,b) has a false box -> spec 4/5
    pb = m["per_box"]
    assert (pb["tp"], pb["fn"], pb["fp"], pb["tn"]) == (2, 1, 1, 4)
    cm = m["confusion_matrix"]
    assert cm["labels"] == ["a", "b", "background"]
    assert cm["matrix"] == [[2, 0, 0], [1, 0, 0], [0, 1, 0]]


def test_missing_and_broken_files_are_clear_errors(tmp_path, capsys):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    rc, _, err = _run_eval(capsys, "--gt", str(bad), "--pred", str(bad))
    assert rc == 2 and "broken.json" in err and "not valid JSON" in err
    rc, _, err = _run_eval(capsys, "--gt", str(tmp_path / "nope.json"), "--pred", str(bad))
    assert rc == 2 and "nope.json" in err and "not found" in err
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps(_tiny_gt()))
    pred = tmp_path / "p.json"
    pred.write_text(json.dumps([{"image_id": 1, "bbox": [1, 2]}]))
    rc, _, err = _run_eval(capsys, "--gt", str(gt), "--pred", str(pred))
    assert rc == 2 and "p.json" in err and "entry 0" in err


def test_no_predictions_gives_zero_not_a_crash():
    m = evaluate_detection(_tiny_gt(), [])
    assert m["map50"] == 0.0 and m["per_image"]["sensitivity"] == 0.0 and m["per_image"]["specificity"] == 1.0
