"""The Heartformer card's tables and the EfficientDet authors' sensitivity/specificity, on planted
cases computed by hand (docs/decisions/0087, 0088); mAP against pycocotools itself."""

from __future__ import annotations

import contextlib
import copy
import html as htmllib
import io
import json

import pytest

from desktop.cli import main
from models.metrics.detection import evaluate_detection

R1_IOU = 361 / 439  # [11, 11, 20, 20] against [10, 10, 20, 20]: 19 x 19 overlap


def _gt():
    return {
        "images": [{"id": i, "file_name": f"im{i}.png", "width": 100, "height": 100} for i in (1, 2, 3, 4)],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [50, 50, 20, 20]},
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [10, 10, 20, 20]},
        ],
    }


RES = [
    {"image_id": 1, "category_id": 1, "bbox": [11, 11, 20, 20], "score": 0.9},   # TP a, IoU 0.822
    {"image_id": 1, "category_id": 1, "bbox": [50, 50, 20, 20], "score": 0.6},   # the b box called a: FP
    {"image_id": 2, "category_id": 1, "bbox": [10, 10, 20, 30], "score": 0.4},   # TP a, IoU 400/600
    {"image_id": 3, "category_id": 2, "bbox": [0, 0, 10, 10], "score": 0.8},     # false b box
    {"image_id": 4, "category_id": 2, "bbox": [0, 0, 10, 10], "score": 0.2},     # below every threshold
]


def _pycocotools(gt, res):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = copy.deepcopy(gt)
        for a in cg.dataset["annotations"]:
            a.update(iscrowd=0, area=a["bbox"][2] * a["bbox"][3])
        cg.createIndex()
        e = COCOeval(cg, cg.loadRes(copy.deepcopy(res)), "bbox")
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e.stats


def test_heartformer_card_tables_by_hand():
    m = evaluate_detection(_gt(), RES)
    stats = _pycocotools(_gt(), RES)
    assert (m["map50_95"], m["map50"]) == (pytest.approx(stats[0], abs=1e-12), pytest.approx(stats[1], abs=1e-12))
    # P/R/F1 at 0.5: boxes 0.9 (TP), 0.6 (FP), 0.8 (FP) against 3 ground-truth boxes
    a5 = m["at_threshold"]["0.5"]
    assert (a5["tp"], a5["fp"], a5["fn"]) == (1, 2, 2)
    assert a5["precision"] == pytest.approx(1 / 3) and a5["recall"] == pytest.approx(1 / 3)
    assert a5["f1"] == pytest.approx(1 / 3)
    # at 0.3: TP 2, FP 2, FN 1 -> P 0.5, R 2/3, F1 = 4 / 7
    assert m["at_threshold"]["0.3"]["f1"] == pytest.approx(4 / 7)
    # per class at 0.3: ground truth, predictions, precision, recall, average confidence
    a = m["per_class"]["a"]["at_table_threshold"]
    b = m["per_class"]["b"]["at_table_threshold"]
    assert (a["ground_truth"], a["predictions"]) == (2, 3)
    assert a["precision"] == pytest.approx(2 / 3) and a["recall"] == 1.0
    assert a["average_confidence"] == pytest.approx((0.9 + 0.6 + 0.4) / 3)
    assert (b["ground_truth"], b["predictions"], b["precision"], b["recall"]) == (1, 1, 0.0, 0.0)
    assert b["average_confidence"] == pytest.approx(0.8)  # the 0.2 box is below the table's 0.3
    # coverage: images' top scores 0.9, 0.4, 0.8, 0.2
    cov = {t: (c["images"], c["share"]) for t, c in m["coverage"].items()}
    assert cov == {"0.3": (3, 0.75), "0.5": (2, 0.5), "0.7": (2, 0.5)}
    # correct detections at 0.3: IoU 0.822 and 0.667 -> one of two above 0.75
    loc = m["localization"]
    assert (loc["correct"], loc["iou_above_0.75"], loc["share_iou_above_0.75"]) == (2, 1, 0.5)
    assert loc["mean_iou"] == pytest.approx((R1_IOU + 400 / 600) / 2)


def _authors_case():
    """Rows as the authors' CSV has them; Atelectasis rows are their label 0 (negatives)."""
    cats = [{"id": 1, "name": "Atelectasis"}, {"id": 2, "name": "Cardiomegaly"}, {"id": 3, "name": "Effusion"}]
    rows = [(1, 2), (1, 3), (2, 1), (3, 3), (4, 1), (4, 1)]  # (image, class); image 5 has no row
    gt = {"images": [{"id": i, "file_name": f"{i:08d}_000.png", "width": 1024, "height": 1024}
                     for i in range(1, 6)],
          "categories": cats,
          "annotations": [{"id": n + 1, "image_id": i, "category_id": c, "bbox": [100 * n, 100, 50, 50]}
                          for n, (i, c) in enumerate(rows)]}
    # top score per image: 0.9 (called), 0.5 (called), exactly 0.3 (not > 0.3), 0.1, 0.95 (no rows)
    res = [{"image_id": i, "category_id": 2, "bbox": [900, 900, 10, 10], "score": s}
           for i, s in ((1, 0.9), (1, 0.2), (2, 0.5), (3, 0.3), (4, 0.1), (5, 0.95))]
    return gt, res


def test_authors_sensitivity_specificity_per_csv_row_by_hand(tmp_path, capsys):
    gt, res = _authors_case()
    m = evaluate_detection(gt, res, cm_threshold=0.3)
    ar = m["authors_rows"]
    # rows: image 1 x2 positive+called (TP 2), image 2 negative+called (FP), image 3 positive, top
    # 0.3 not > 0.3 (FN), image 4 x2 negative, not called (TN 2); image 5 has no row
    assert (ar["tp"], ar["fp"], ar["tn"], ar["fn"], ar["rows"]) == (2, 1, 2, 1, 6)
    assert ar["sensitivity"] == pytest.approx(2 / 3) and ar["specificity"] == pytest.approx(2 / 3)
    assert ar["negative_classes"] == ["Atelectasis"]
    # the per-image definition differs: every image with a box is positive, image 5 is the negative
    pi = m["per_image"]
    assert (pi["tp"], pi["fp"], pi["tn"], pi["fn"]) == (2, 1, 0, 2)
    # the same through `loupe eval`, and in the HTML report beside the other two definitions
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "pred.json").write_text(json.dumps(res))
    html = tmp_path / "r.html"
    assert main(["eval", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "pred.json"),
                 "--html", str(html)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["authors_rows"]["sensitivity"] == pytest.approx(2 / 3)
    text = htmllib.unescape(html.read_text())
    assert "authors' protocol (per CSV row" in text and "per image (any finding" in text and "per box" in text
    assert "Coverage" in text and "IoU > 0.75" in text and "average confidence" in text
    # another negative class: Cardiomegaly and Atelectasis rows negative -> image 1's Cardiomegaly row is FP
    assert main(["eval", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "pred.json"),
                 "--negative-class", "Atelectasis", "--negative-class", "Cardiomegaly"]) == 0
    ar2 = json.loads(capsys.readouterr().out)["authors_rows"]
    assert (ar2["tp"], ar2["fp"], ar2["tn"], ar2["fn"]) == (1, 2, 2, 1)
