"""Loupe's classifier loop: learns a planted set, keeps the best epoch's weights, honours stop."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from training_helpers import planted_image_folder, read_events, tiny_classifier

from models.training.classifier import train_classifier
from models.training.classifier_data import load_splits
from models.training.hparams import classifier_defaults
from models.training.outputs import fresh_out_dir
from models.training.progress import Progress, StopFlag, TrainingCancelled


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return planted_image_folder(tmp_path_factory.mktemp("planted"))


def _hp(**kw):
    hp = classifier_defaults("tiny")
    hp.update(epochs=12, batch_size=8, lr=3e-3, patience=4, freeze="none", augment="none")
    hp.update(kw)
    return hp


def test_fine_tune_reaches_90_percent_and_keeps_best_weights(planted, tmp_path):
    model = tiny_classifier()
    out = fresh_out_dir(tmp_path / "run")
    stream = io.StringIO()
    prog = Progress("jsonl", stream)
    prog.attach_log(out / "metrics.jsonl")
    card_path = train_classifier(model, planted, out, _hp(), prog, StopFlag())
    prog.close()
    card = json.loads(card_path.read_text())
    assert card["extra"]["metrics"]["accuracy"] > 0.9
    assert card["extra"]["parent_model"] == "tiny" and card["extra"]["dataset_hash"].startswith("sha256:")
    assert card["weights"] == "weights.safetensors" and card["class_names"] == ["healthy", "disease"]
    events = read_events(out / "metrics.jsonl")
    assert [e["event"] for e in events][0] == "start" and events[-1]["event"] == "done"
    assert [json.loads(x) for x in stream.getvalue().splitlines()] == events  # stdout == the log
    epochs = [e for e in events if e["event"] == "epoch"]
    best = min(epochs, key=lambda e: e["val_loss"])
    assert card["extra"]["best_epoch"] == best["epoch"]
    # the saved weights are the best epoch's: reloading gives that epoch's validation loss again
    from safetensors.torch import load_file

    fresh = tiny_classifier(seed=1)
    fresh.torch_module.load_state_dict(load_file(out / "weights.safetensors"))
    from models.training.classifier import _evaluate, _loss_fn
    from models.training.classifier_data import load_splits as ls

    items = ls(planted)["val"]
    from models.training.classifier import _Dataset

    idx = {"healthy": 0, "disease": 1}
    loader = torch.utils.data.DataLoader(_Dataset(items, idx, fresh.transform, None), batch_size=8)
    counts = np.bincount([idx[c] for _, c in ls(planted)["train"]]).astype(float)
    val_loss, _, _ = _evaluate(fresh.torch_module, loader, _loss_fn(2, counts, True, "cpu"), "cpu")
    assert val_loss == pytest.approx(best["val_loss"], rel=1e-4)
    assert "ROC" in (out / "report.html").read_text()


def test_stop_request_ends_after_the_current_step(planted, tmp_path):
    model = tiny_classifier()
    stop_file = tmp_path / "stop"
    stop = StopFlag(stop_file)
    prog = Progress("none")
    steps = []
    orig = prog.emit

    def emit(event, **f):
        if event == "step":
            steps.append(f["step"])
            stop_file.touch()  # asked during the first step
        return orig(event, **f)

    prog.emit = emit
    with pytest.raises(TrainingCancelled):
        train_classifier(model, planted, fresh_out_dir(tmp_path / "o"), _hp(), prog, stop)
    assert steps == [1]


def test_freezing_all_but_head_changes_only_the_head(planted, tmp_path):
    model = tiny_classifier()
    before = {k: v.clone() for k, v in model.torch_module.state_dict().items()}
    train_classifier(model, planted, fresh_out_dir(tmp_path / "o"), _hp(epochs=1, freeze="all_but_head"),
                     Progress("none"), StopFlag())
    after = model.torch_module.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"fc.weight", "fc.bias"}


def test_flat_image_folder_is_split_deterministically(tmp_path):
    root = planted_image_folder(tmp_path / "flat", n_per_class=(10, 10), layout="flat")
    a, b = load_splits(root), load_splits(root)
    assert a == b and len(a["train"]) == 16 and len(a["val"]) == 2 and len(a["test"]) == 2
    assert {c for _, c in a["val"]} == {"healthy", "disease"}


def test_unknown_classes_are_a_clear_error(tmp_path):
    from models.training.outputs import TrainingInputError

    root = planted_image_folder(tmp_path / "d", n_per_class=(5, 5))
    model = tiny_classifier(names=("normal", "pneumonia"))
    with pytest.raises(TrainingInputError, match="not the model's classes"):
        train_classifier(model, root, fresh_out_dir(tmp_path / "o"), _hp(), Progress("none"), StopFlag())


def test_out_dir_is_never_overwritten(tmp_path):
    from models.training.outputs import TrainingInputError

    first = fresh_out_dir(tmp_path / "run")
    (first / "weights.safetensors").write_bytes(b"x")
    second = fresh_out_dir(tmp_path / "run")
    assert second.name == "run-2" and (first / "weights.safetensors").read_bytes() == b"x"
    with pytest.raises(TrainingInputError, match="never overwrites"):
        fresh_out_dir(tmp_path / "run", numbered=False)
