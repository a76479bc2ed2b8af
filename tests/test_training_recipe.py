"""The OASIS presets train with the TemporalGradCam authors' recipe (MODELS.md section 3): all frozen
but the head, Adam 1e-3, 25 epochs, early stopping patience 5, ReduceLROnPlateau (3, 0.1), no
augmentation, the model in train mode; Loupe's augmentation and class weighting stay options."""

from __future__ import annotations

import argparse

import pytest
import torch
from e2e_helpers import build_preset_weights
from training_helpers import planted_image_folder

from models import load_model
from models.training import classifier as loop
from models.training.hparams import classifier_defaults
from models.training.outputs import fresh_out_dir
from models.training.progress import Progress, StopFlag


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("recipe")
    data = planted_image_folder(root / "data", n_per_class=(5, 5), size=40)
    weights = build_preset_weights("oasis-resnet18", root / "models")
    return data, weights


def _train(setup, tmp_path, monkeypatch, hp):
    data, weights = setup
    model = load_model("oasis-resnet18", weights=weights, device="cpu")
    seen = {"adam": [], "plateau": [], "augment": [], "bn_training": [], "ce_weight": []}

    class Adam(torch.optim.Adam):
        def __init__(self, params, **kw):
            params = list(params)
            seen["adam"].append((params, kw))
            super().__init__(params, **kw)

    class Plateau(torch.optim.lr_scheduler.ReduceLROnPlateau):
        def __init__(self, opt, **kw):
            seen["plateau"].append(kw)
            super().__init__(opt, **kw)

    class CE(torch.nn.CrossEntropyLoss):
        def __init__(self, weight=None, **kw):
            seen["ce_weight"].append(weight)
            super().__init__(weight=weight, **kw)

    real_dataset = loop._Dataset

    def dataset(items, index, transform, augment):
        seen["augment"].append(augment)
        return real_dataset(items, index, transform, augment)

    monkeypatch.setattr(torch.optim, "Adam", Adam)
    monkeypatch.setattr(torch.optim.lr_scheduler, "ReduceLROnPlateau", Plateau)
    monkeypatch.setattr(torch.nn, "CrossEntropyLoss", CE)
    monkeypatch.setattr(loop, "_Dataset", dataset)
    module = model.torch_module
    hook = module.bn1.register_forward_pre_hook(
        lambda m, _x: seen["bn_training"].append(m.training) if torch.is_grad_enabled() else None)
    try:
        loop.train_classifier(model, data, fresh_out_dir(tmp_path / "run"), hp, Progress("none"), StopFlag())
    finally:
        hook.remove()
    return model, seen


def test_oasis_presets_default_to_the_authors_recipe(setup, tmp_path, monkeypatch):
    for arch in ("oasis-resnet18", "oasis-vit"):
        hp = classifier_defaults(arch)
        assert (hp["recipe"], hp["epochs"], hp["optimizer"], hp["lr"], hp["patience"]) == ("authors", 25, "adam",
                                                                                          1e-3, 5)
        assert (hp["scheduler"], hp["plateau_patience"], hp["plateau_factor"]) == ("plateau", 3, 0.1)
        assert (hp["freeze"], hp["augment"], hp["class_weighting"], hp["train_mode"]) == (
            "all_but_head", "none", False, "all")
    hp = {**classifier_defaults("oasis-resnet18"), "epochs": 1, "batch_size": 4}
    model, seen = _train(setup, tmp_path, monkeypatch, hp)
    [(params, kw)] = seen["adam"]
    fc = list(model.torch_module.fc.parameters())
    assert kw["lr"] == 1e-3 and len(params) == len(fc) and all(p is q for p, q in zip(params, fc))
    assert [n for n, p in model.torch_module.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    assert seen["plateau"] == [{"factor": 0.1, "patience": 3}]
    assert seen["augment"][0] is None  # the training set: no augmentation
    assert seen["ce_weight"][0] is None  # no class weighting
    assert seen["bn_training"] and all(seen["bn_training"])  # train mode: frozen BatchNorm updates


def test_loupes_augmentation_and_weighting_are_still_options(setup, tmp_path, monkeypatch):
    hp = {**classifier_defaults("oasis-resnet18"), "epochs": 1, "batch_size": 4,
          "augment": "flip+rotate+jitter", "class_weighting": True, "train_mode": "trainable"}
    _, seen = _train(setup, tmp_path, monkeypatch, hp)
    names = [type(t).__name__ for t in seen["augment"][0].transforms]
    assert names == ["RandomHorizontalFlip", "RandomRotation", "ColorJitter"]
    assert seen["ce_weight"][0] is not None and seen["ce_weight"][0][1] == pytest.approx(1.0)
    assert not any(seen["bn_training"])  # Loupe's own mode: frozen layers keep their statistics
    # and from the command line
    from desktop.commands import train

    parser = argparse.ArgumentParser()
    train.add_arguments(parser)
    args = parser.parse_args(["classifier", "--data", "d", "--model", "oasis-resnet18", "--out", "o",
                              "--augment", "flip+rotate+jitter", "--class-weighting"])
    got = train._hparams(args, classifier_defaults("oasis-resnet18"))
    assert (got["augment"], got["class_weighting"], got["optimizer"]) == ("flip+rotate+jitter", True, "adam")
    args = parser.parse_args(["classifier", "--data", "d", "--model", "oasis-resnet18", "--out", "o"])
    assert train._hparams(args, classifier_defaults("oasis-resnet18"))["class_weighting"] is False
