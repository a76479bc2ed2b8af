"""Model runs recorded in the store with each image's uncertainty (decision 0130): the schema
migration, `RunRecorder`, and the same numbers from the window's Models dock and from
`loupe detect|classify --store`."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from model_panel_helpers import FakeWindow, fake_load_model, make_folder, write_fake_cards
from torch import nn

from desktop.cli import main
from desktop.core.runs import RunRecorder
from desktop.core.store import SCHEMA_VERSION, open_store
from desktop.core.store.schema import MIGRATIONS
from models import registry
from models.base import Detections, LoupeModel, ModelCard

# scores 0.9 and 0.2 at threshold 0.3, band ±0.1: 0.2 is on the band's edge (1 in band); the shown
# box 0.9 has H2(0.9) = 0.1 * 3.321928 + 0.9 * 0.152003 = 0.468996 bits -> 1.468996
DETECTOR_U = 1 + 0.1 * 3.321928 + 0.9 * 0.152003


class PlantedDetector(LoupeModel):
    task = "detection"

    def detect(self, rgb, threshold=None):
        h, w = rgb.shape[:2]
        dets = Detections(np.array([[2, 3, w / 2, h / 2], [1, 1, 10, 12]], np.float32),
                          np.array([0.9, 0.2], np.float32), np.array([0, 1]), ["lesion", "nodule"])
        return dets.filter(self.card.default_threshold if threshold is None else threshold)


def load_planted(card, weights, device, **options):
    return PlantedDetector(card, nn.Identity(), device)


@pytest.fixture
def planted_card(tmp_path, monkeypatch):
    monkeypatch.setitem(registry.ARCHITECTURES, "planted-test", f"{__name__}:load_planted")
    card = tmp_path / "planted.json"
    card.write_text(json.dumps({"name": "planted", "architecture": "planted-test", "task": "detection",
                                "class_names": ["lesion", "nodule"], "default_threshold": 0.3}))
    return card


def test_a_version_2_store_migrates_and_keeps_its_boxes(tmp_path):
    db = tmp_path / ".loupe" / "annotations.db"
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    for script in MIGRATIONS[:2]:
        conn.executescript(script)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO images(rel_path, width, height) VALUES ('a.png', 10, 10)")
    conn.execute("INSERT INTO categories(name, color, ord) VALUES ('lesion', '#fff', 0)")
    conn.execute("INSERT INTO boxes(image_id, category_id, x, y, w, h, source, model, score, state, created, "
                 "modified) VALUES (1, 1, 1, 2, 3, 4, 'model', 'old', 0.5, 'unreviewed', 0, 0)")
    conn.commit()
    conn.close()
    with open_store(tmp_path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 3
        assert store.boxes(1)[0].rect == (1, 2, 3, 4)
        assert store.conn.execute("SELECT run_id FROM boxes").fetchone() == (None,)
        assert store.runs() == [] and store.latest_scored_run() is None


def _model(name="planted", task="detection", threshold=0.3, **extra):
    return PlantedDetector(ModelCard(name=name, architecture="planted-test", task=task,
                                     class_names=["lesion", "nodule"], default_threshold=threshold, extra=extra),
                           nn.Identity(), "cpu")


def test_recorder_writes_predictions_with_their_run_and_the_images_score(tmp_path):
    with open_store(tmp_path) as store:
        rec = RunRecorder(store, _model(), origin="cli")
        rows = [("lesion", 2, 3, 20, 20, 0.9), ("nodule", 1, 1, 9, 11, 0.2)]
        score = rec.record("sub/a.png", (48, 40), rows)
        rec.finish()
        assert score.value == pytest.approx(DETECTOR_U, abs=1e-5)
        iid = store.image_id("sub/a.png")
        run = store.run(rec.run_id)
        assert (run.model, run.task, run.method, run.origin, run.scored) == ("planted", "detection",
                                                                             "detection-band", "cli", 1)
        assert run.params == {"band": 0.1, "threshold": 0.3, "top_k": 3} and run.finished is not None
        assert store.image_scores(rec.run_id) == {"sub/a.png": pytest.approx(DETECTOR_U, abs=1e-5)}
        assert store.image_score(rec.run_id, iid)[1]["in_band"] == 1
        assert [r for (r,) in store.conn.execute("SELECT run_id FROM boxes")] == [rec.run_id] * 2
        # a second run replaces the unreviewed predictions; the accepted one keeps its first run
        lesion = [b for b in store.boxes(iid) if b.category == "lesion"][0]
        store.accept_predictions(iid, [lesion.id])
        second = RunRecorder(store, _model(), origin="window")
        second.record("sub/a.png", (48, 40), [("nodule", 1, 1, 9, 11, 0.35)])
        runs = dict(store.conn.execute("SELECT state, run_id FROM boxes WHERE deleted = 0"))
        assert runs == {"accepted": rec.run_id, "unreviewed": second.run_id}
        assert store.latest_scored_run().id == second.run_id
        # 0.35: in the band (1) and shown, H2(0.35) = 0.35 * 1.514573 + 0.65 * 0.621488 = 0.934068
        assert store.image_scores(second.run_id)["sub/a.png"] == pytest.approx(1.934068, abs=1e-5)


def test_a_classifier_on_a_read_only_store_writes_nothing_and_does_not_fail(tmp_path):
    class Probs(LoupeModel):
        task = "classification"

    with open_store(tmp_path) as store:
        store.writer.read_only = "read-only for the test"
        model = Probs(ModelCard(name="c", architecture="x", task="classification"), nn.Identity(), "cpu")
        rec = RunRecorder(store, model)
        assert rec.run_id is None and "read-only" in rec.error
        assert rec.record("a.png", (4, 4), {"a": 0.5, "b": 0.5}) is None


def test_cli_detect_store_records_the_run_and_keeps_the_json_at_the_threshold(tmp_path, planted_card, capsys):
    paths = make_folder(tmp_path / "images", n=3)
    outside = make_folder(tmp_path / "elsewhere", n=1)
    out = tmp_path / "dets.json"
    rc = main(["detect", *paths, *outside, "--model", str(planted_card), "--device", "cpu", "--out", str(out),
               "--store", str(tmp_path / "images")])
    assert rc == 0
    err = capsys.readouterr().err
    assert "recorded run 1 of planted" in err and "(3 images scored)" in err
    assert f"{outside[0]} is not inside" in err
    data = json.loads(out.read_text())
    assert [round(a["score"], 4) for a in data["annotations"]] == [0.9] * 4  # 0.2 is under the threshold
    with open_store(tmp_path / "images") as store:
        scores = store.image_scores(1)
        assert sorted(scores) == ["img000.png", "img001.png", "img002.png"]
        assert all(v == pytest.approx(DETECTOR_U, abs=1e-5) for v in scores.values())
        assert sorted(b.score for b in store.boxes(store.image_id("img001.png"))) == [
            pytest.approx(0.2), pytest.approx(0.9)]  # stored down to the floor, as the window does


def test_cli_mc_dropout_needs_a_store_and_a_model_with_dropout(tmp_path, planted_card, capsys):
    paths = make_folder(tmp_path / "images", n=1)
    rc = main(["classify", *paths, "--model", str(planted_card), "--mc-dropout", "4"])
    assert rc == 2 and "needs a classification model" in capsys.readouterr().err
    card = tmp_path / "resnet.json"
    card.write_text(json.dumps({"name": "r18", "architecture": "oasis-resnet18", "task": "classification",
                                "class_names": ["healthy", "disease"]}))
    import torch
    import torchvision

    net = torchvision.models.resnet18(weights=None)
    net.fc = nn.Linear(512, 2)
    torch.save(net.state_dict(), tmp_path / "r18.pt")
    rc = main(["classify", *paths, "--model", str(card), "--weights", str(tmp_path / "r18.pt"), "--mc-dropout", "4"])
    assert rc == 2 and "give --store FOLDER too" in capsys.readouterr().err
    rc = main(["classify", *paths, "--model", str(card), "--weights", str(tmp_path / "r18.pt"), "--mc-dropout", "4",
               "--store", str(tmp_path / "images")])
    assert rc == 2 and "r18 has no dropout to sample" in capsys.readouterr().err


@pytest.mark.gui
def test_the_models_dock_records_the_same_scores_as_the_cli(qtbot, tmp_path, monkeypatch, planted_card):
    import models

    models_dir = tmp_path / "models"
    cards = write_fake_cards(models_dir)
    monkeypatch.setenv("LOUPE_MODELS_DIR", str(models_dir))
    from PySide6.QtCore import QSettings

    QSettings().remove("models/folder")
    monkeypatch.setattr(models, "load_model", fake_load_model({}))
    make_folder(tmp_path / "images", n=3)
    win = FakeWindow()
    qtbot.addWidget(win)
    win.open_folder(tmp_path / "images")
    from desktop.ui.model_panel import install

    panel = install(win)
    try:
        scored = []
        panel.run_scored.connect(scored.append)
        for arch in ("fake-detector", "fake-classifier"):
            job = panel.select(str(cards[arch]))
            if job is not None:
                qtbot.waitSignal(job.finished, timeout=60000).wait()
            job = panel.run("all")
            qtbot.waitSignal(job.finished, timeout=20000).wait()
        store = win.box_editor.store
        det, cls = store.runs()[1], store.runs()[0]
        assert scored == [det.id, cls.id]
        assert (det.model, det.origin, det.method) == ("fake-detector", "window", "detection-band")
        # the fake detector's scores are the planted detector's: 0.9 and 0.2 at threshold 0.3
        assert list(store.image_scores(det.id).values()) == [pytest.approx(DETECTOR_U, abs=1e-5)] * 3
        # {Effusion 0.1, Cardiomegaly 0.7, Mass 0.55}, one label per image: 1 - (0.7 - 0.55) = 0.85
        assert cls.method == "margin"
        assert list(store.image_scores(cls.id).values()) == [pytest.approx(0.85)] * 3
        # one image again: the same run gets its newer score, no one-image run becomes "the latest"
        job = panel.select(str(cards["fake-detector"]))
        if job is not None:
            qtbot.waitSignal(job.finished, timeout=60000).wait()
        job = panel.run("this")
        qtbot.waitSignal(job.finished, timeout=20000).wait()
        assert [r.id for r in store.runs()] == [cls.id, det.id] and scored[-1] == det.id
        # another threshold is another definition of "ambiguous": a new run
        panel.controls.threshold.setValue(50)
        job = panel.run("this")
        qtbot.waitSignal(job.finished, timeout=20000).wait()
        newest = store.runs()[0]
        assert newest.id not in (cls.id, det.id) and newest.params["threshold"] == pytest.approx(0.5)
        # 0.9 and 0.2 at 0.5: none in [0.4, 0.6]; the shown 0.9 -> H2(0.9) = 0.468996
        assert list(store.image_scores(newest.id).values()) == [pytest.approx(DETECTOR_U - 1, abs=1e-5)]
    finally:
        win.jobs.shutdown()


@pytest.fixture
def tiny_card(tmp_path, monkeypatch):
    monkeypatch.setitem(registry.ARCHITECTURES, "tiny-dropout", "uncertainty_helpers:load_tiny")
    card = tmp_path / "tiny.json"
    card.write_text(json.dumps({"name": "tiny", "architecture": "tiny-dropout", "task": "classification",
                                "class_names": ["normal", "pneumonia"]}))
    return card


def test_cli_classify_with_mc_dropout_scores_the_entropy_of_the_mean(tmp_path, tiny_card, capsys):
    from uncertainty_helpers import tiny_classifier

    from desktop.core.imaging.model_input import model_input
    from models.uncertainty import binary_entropy, mc_dropout_probabilities

    paths = make_folder(tmp_path / "images", n=2)
    out = tmp_path / "probs.json"
    rc = main(["classify", *paths, "--model", str(tiny_card), "--store", str(tmp_path / "images"),
               "--mc-dropout", "6", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert "(2 images scored)" in capsys.readouterr().err
    probs = json.loads(out.read_text())
    assert set(probs) == set(paths)  # the JSON keeps the plain (dropout off) probabilities
    reference = tiny_classifier(0.5)
    with open_store(tmp_path / "images") as store:
        run = store.runs()[0]
        assert (run.method, run.params, run.origin) == ("mc-dropout-entropy", {"multi_label": False, "passes": 6},
                                                        "cli")
        for p in paths:
            assert probs[p] == pytest.approx(reference.classify(model_input(p)), abs=1e-6)
            passes = mc_dropout_probabilities(reference, model_input(p), passes=6)
            mean = sum(s["pneumonia"] for s in passes) / 6
            # two classes summing to one: the entropy of the mean distribution is H2(mean p)
            score, detail = store.image_score(run.id, store.image_id(p.rsplit("/", 1)[-1]))
            assert score == pytest.approx(binary_entropy(mean), abs=1e-6)
            assert detail["passes"] == 6 and detail["mutual_information"] >= 0


@pytest.mark.gui
def test_the_models_dock_offers_mc_dropout_only_for_models_with_dropout(qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings
    from uncertainty_helpers import tiny_classifier

    import models

    monkeypatch.setenv("LOUPE_MODELS_DIR", str(tmp_path / "models"))
    QSettings().remove("models/folder")
    built = {}

    def load(spec, weights=None, device="auto", **options):
        card = json.loads(open(spec).read())
        built[card["name"]] = tiny_classifier(0.5 if card["name"] == "tiny" else 0.0, name=card["name"])
        return built[card["name"]]

    monkeypatch.setattr(models, "load_model", load)
    (tmp_path / "models").mkdir()
    cards = {}
    for name in ("plain", "tiny"):
        (tmp_path / "models" / f"{name}.safetensors").write_bytes(b"dummy")
        cards[name] = tmp_path / "models" / f"{name}.json"
        cards[name].write_text(json.dumps({"name": name, "architecture": "tiny-dropout", "task": "classification",
                                           "class_names": ["normal", "pneumonia"],
                                           "weights": f"{name}.safetensors"}))
    make_folder(tmp_path / "images", n=2)
    win = FakeWindow()
    qtbot.addWidget(win)
    win.open_folder(tmp_path / "images")
    from desktop.ui.model_panel import install

    panel = install(win)
    try:
        for card, offered in ((cards["plain"], False), (cards["tiny"], True)):
            job = panel.select(str(card))
            if job is not None:
                qtbot.waitSignal(job.finished, timeout=60000).wait()
            assert panel.mc_dropout.isHidden() is not offered
        panel.mc_dropout.setChecked(True)
        job = panel.run("all")
        qtbot.waitSignal(job.finished, timeout=20000).wait()
        run = win.box_editor.store.runs()[0]
        assert (run.model, run.method, run.params["passes"]) == ("tiny", "mc-dropout-entropy", 10)
        assert len(win.box_editor.store.image_scores(run.id)) == 2
    finally:
        win.jobs.shutdown()


@pytest.mark.gui
def test_a_store_that_refuses_the_score_fails_no_classifier_result(qtbot, tmp_path, monkeypatch):
    """A classifier's run wrote nothing to the store before the queue: a locked store must not
    turn its results into failures now; the window says once that the scores were not saved."""
    from PySide6.QtCore import QSettings

    import models
    from desktop.core.store import StoreWriteError

    cards = write_fake_cards(tmp_path / "models")
    monkeypatch.setenv("LOUPE_MODELS_DIR", str(tmp_path / "models"))
    QSettings().remove("models/folder")
    monkeypatch.setattr(models, "load_model", fake_load_model({}))
    make_folder(tmp_path / "images", n=2)
    win = FakeWindow()
    qtbot.addWidget(win)
    win.open_folder(tmp_path / "images")
    from desktop.ui.model_panel import install

    panel = install(win)
    try:
        def refuse(*_a, **_k):
            raise StoreWriteError("annotations.db: cannot write: the database is locked by another program")

        monkeypatch.setattr(win.box_editor.store, "set_image_score", refuse)
        job = panel.select(str(cards["fake-classifier"]))
        if job is not None:
            qtbot.waitSignal(job.finished, timeout=60000).wait()
        job = panel.run("all")
        qtbot.waitSignal(job.finished, timeout=20000).wait()
        assert panel.runs.failed == [] and "Done: 2 images" in panel.progress_label.text()
        text, details, level = [n for n in win.notes if "uncertainty" in n[0]][-1]
        assert text == "The review queue's uncertainty of 2 images could not be saved (the results are shown)"
        assert "locked by another program" in details and level == "warning"
    finally:
        win.jobs.shutdown()
