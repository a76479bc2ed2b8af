"""Classification metrics against scikit-learn (a second implementation) and a hand-made case."""

from __future__ import annotations

import json

import numpy as np
import pytest

from desktop.cli import main
from models.metrics.classification import evaluate_classification


def test_binary_metrics_by_hand():
    y = [0, 0, 0, 1, 1, 1, 1]
    p = [0.1, 0.6, 0.3, 0.8, 0.7, 0.4, 0.9]
    m = evaluate_classification(y, p, ["normal", "pneumonia"], threshold=0.5)
    # predictions at 0.5: 0 1 0 1 1 0 1 -> TP 3, FN 1, TN 2, FP 1
    assert m["confusion_matrix"]["matrix"] == [[2, 1], [1, 3]]
    assert m["sensitivity"] == 0.75 and m["specificity"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(5 / 7)
    assert m["per_class"]["pneumonia"]["precision"] == 0.75
    # AUC: pairs (pos > neg): of 12 pairs, 0.4 loses to 0.6 -> 11/12
    assert m["auc"] == pytest.approx(11 / 12)


def test_against_sklearn_multiclass_and_ties():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 200)
    logits = rng.normal(size=(200, 3)) + np.eye(3)[y] * 1.5
    logits = np.round(logits, 1)  # ties in scores
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    m = evaluate_classification(y, p, ["a", "b", "c"])
    pred = p.argmax(1)
    assert m["accuracy"] == pytest.approx(sk.accuracy_score(y, pred))
    assert m["f1"] == pytest.approx(sk.f1_score(y, pred, average="macro"))
    assert m["precision"] == pytest.approx(sk.precision_score(y, pred, average="macro"))
    assert m["confusion_matrix"]["matrix"] == sk.confusion_matrix(y, pred).tolist()
    for c, name in enumerate("abc"):
        fpr, tpr, _ = sk.roc_curve(y == c, p[:, c], drop_intermediate=False)
        assert np.allclose(m["roc"][name]["fpr"], fpr) and np.allclose(m["roc"][name]["tpr"], tpr)
        assert m["per_class"][name]["auc"] == pytest.approx(sk.roc_auc_score(y == c, p[:, c]))
    assert m["auc"] == pytest.approx(sk.roc_auc_score(y, p, multi_class="ovr", average="macro"))


def test_loupe_eval_classification_mode(tmp_path, capsys):
    gt = {"a/x1.png": "normal", "a/x2.png": "pneumonia", "x3.png": "pneumonia"}
    pred = {"/data/x1.png": {"normal": 0.8, "pneumonia": 0.2}, "x2.png": {"normal": 0.3, "pneumonia": 0.7},
            "x3.png": {"normal": 0.6, "pneumonia": 0.4}}
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "pred.json").write_text(json.dumps(pred))
    html = tmp_path / "r.html"
    rc = main(["eval", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "pred.json"),
               "--html", str(html)])
    m = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert m["accuracy"] == pytest.approx(2 / 3) and m["sensitivity"] == 0.5 and m["specificity"] == 1.0
    assert "ROC" in html.read_text()
    del pred["x3.png"]
    (tmp_path / "pred.json").write_text(json.dumps(pred))
    rc = main(["eval", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "pred.json")])
    assert rc == 2 and "x3.png" in capsys.readouterr().err


def test_authors_auc_ranks_by_the_raw_last_logit_not_the_probability():
    from models.metrics.classification import authors_auc, evaluate_logits

    # a: logits (0, 1) -> p1 0.73; b: (5, 3) -> p1 0.12. By logit 1, b ranks above a; by p1, below.
    logits = [[0.0, 1.0], [5.0, 3.0]]
    y = [0, 1]
    assert authors_auc(y, logits, ["healthy", "disease"])["auc"] == 1.0
    m = evaluate_logits(y, logits, ["healthy", "disease"])
    assert m["auc"] == 0.0 and m["authors"]["auc"] == 1.0
    # softmax, so the class is the argmax: b is called healthy although sigmoid(3) > 0.5
    assert m["confusion_matrix"]["matrix"] == [[0, 1], [1, 0]]


def test_authors_auc_against_sklearn_on_logits():
    sk = pytest.importorskip("sklearn.metrics")
    from models.metrics.classification import authors_auc

    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 300)
    logits = np.round(rng.normal(size=(300, 2)) + np.c_[np.zeros(300), y * 0.8], 1)
    want = sk.roc_auc_score(y, logits[:, -1])  # the authors' call
    assert authors_auc(y, logits, ["healthy", "disease"])["auc"] == pytest.approx(want)
    assert want != pytest.approx(sk.roc_auc_score(y, logits[:, 1] - logits[:, 0]))  # not the softmax ranking


def test_loupe_eval_authors_protocol(tmp_path, capsys):
    gt = {"a.png": "healthy", "b.png": "disease", "c.png": "disease"}
    logits = {"a.png": {"healthy": 0.0, "disease": 1.0}, "b.png": {"healthy": 5.0, "disease": 3.0},
              "c.png": {"healthy": -1.0, "disease": 2.0}}
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "logits.json").write_text(json.dumps(logits))
    out = tmp_path / "m.json"
    rc = main(["eval", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "logits.json"),
               "--task", "classification", "--protocol", "authors", "--out", str(out)])
    assert rc == 0
    m = json.loads(out.read_text())
    assert m["authors"]["auc"] == 1.0  # logit 1: 3.0 and 2.0 above 1.0
    assert m["auc"] == 0.5  # softmax p1: c 0.95 > a 0.73 > b 0.12 -> one of two pairs
    probs = {k: {"healthy": 0.3, "disease": 0.7} for k in gt}
    (tmp_path / "probs.json").write_text(json.dumps(probs))
    rc = main(["eval", "--gt", str(tmp_path / "gt.json"), "--pred", str(tmp_path / "probs.json"),
               "--task", "classification", "--protocol", "authors"])
    err = capsys.readouterr().err
    assert rc == 2 and "probs.json holds probabilities" in err and "loupe classify --logits" in err
