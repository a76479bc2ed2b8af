"""Presets, cards and recognising a bare weights file."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from models import ModelSpecError, WeightsError, load_model
from models.base import TASKS, ModelCard
from models.registry import ARCHITECTURES, describe_state_dict, list_presets, load_card, recognise, write_card

PRESETS = {"heartformer", "rfdetr-nano", "rfdetr-small", "rfdetr-medium", "rfdetr-large", "xray-effdet",
           "chexnet", "qing", "oasis-resnet18", "oasis-vit", "oasis-temporal", "roco-captioner"}


def test_every_preset_has_a_complete_card():
    cards = {c.name: c for c in list_presets()}
    assert set(cards) >= PRESETS
    for name in PRESETS:
        c = cards[name]
        assert c.architecture in ARCHITECTURES and c.task in TASKS, name
        assert c.weights and c.source and c.controls, name
    assert cards["heartformer"].class_names[0] == "heart-anatomy-images" and len(cards["heartformer"].class_names) == 8
    assert cards["heartformer"].default_threshold == 0.3
    assert len(cards["chexnet"].class_names) == 14 and cards["xray-effdet"].class_names[4] == "Nodule/Mass"
    assert ARCHITECTURES["roco-captioner"] == "models.captioning:load"


def test_card_round_trip_and_weights_relative_to_the_card(tmp_path):
    card = ModelCard("mine", "oasis-resnet18", "classification", ["healthy", "disease"], weights="w/ckpt.pt",
                     default_threshold=0.4, controls=["device"], source="my run", extra={"epochs": 3})
    path = write_card(card, tmp_path / "cards" / "mine.json")
    back = load_card(path)
    assert back.extra.pop("card_dir") == str(path.parent)
    assert back == card
    torch.manual_seed(0)
    import torchvision

    net = torchvision.models.resnet18(weights=None)
    net.fc = nn.Linear(512, 2)
    (path.parent / "w").mkdir()
    torch.save(net.state_dict(), path.parent / "w" / "ckpt.pt")
    m = load_model(path, device="cpu")
    assert m.name == "mine" and m.class_names == ["healthy", "disease"]


def test_bad_specs_have_clear_messages(tmp_path):
    with pytest.raises(ModelSpecError, match="unknown model 'nosuch': not a preset .*chexnet"):
        load_model("nosuch")
    (tmp_path / "card.json").write_text("{not json")
    with pytest.raises(ModelSpecError, match="card.json is not valid JSON"):
        load_model(tmp_path / "card.json")
    (tmp_path / "card.json").write_text(json.dumps({"name": "x", "architecture": "lenet", "task": "detection"}))
    with pytest.raises(ModelSpecError, match="unknown architecture 'lenet'"):
        load_model(tmp_path / "card.json")
    torch.save({"conv.weight": torch.zeros(2, 3)}, tmp_path / "mystery.pth")
    with pytest.raises(ModelSpecError, match=r"cannot tell which model .*mystery.pth is for \(first keys: conv.weight"):
        load_model(tmp_path / "mystery.pth")
    with pytest.raises(WeightsError, match="weights file not found"):
        load_model(tmp_path / "absent.safetensors")


def test_recognise_architectures_and_class_counts_from_shapes():
    import torchvision

    r18 = torchvision.models.resnet18(weights=None, num_classes=5).state_dict()
    assert recognise(r18) == ("oasis-resnet18", 5)
    r50 = torchvision.models.resnet50(weights=None).state_dict()
    assert recognise(r50) is None  # fc (1000, 2048): not a ResNet-18
    dn = {f"module.densenet121.{k}": v for k, v in torchvision.models.densenet121(weights=None).state_dict().items()}
    dn["module.densenet121.classifier.0.weight"] = torch.zeros(14, 1024)
    assert recognise(dn) == ("chexnet", 14)
    assert describe_state_dict(dn) == "a CheXNet DenseNet-121 checkpoint with 14 outputs"
    head = {"input.weight": torch.zeros(64, 2304), "bn.running_mean": torch.zeros(64),
            "projection.weight": torch.zeros(2, 64)}
    assert recognise(head) == ("oasis-temporal", 2)
    lw = {"class_embed.weight": torch.zeros(4, 256), "transformer.x": torch.zeros(1),
          "backbone.0.encoder.encoder.embeddings.position_embeddings": torch.zeros(1, 32 * 32 + 1, 384)}
    assert recognise(lw) == ("rfdetr-small", 3)


def test_missing_effdet_says_how_to_install_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "effdet", None)  # as if the optional extra were not installed
    (tmp_path / "x.ckpt").write_bytes(b"PK")
    with pytest.raises(ModelSpecError, match=r"needs the optional effdet package.*pip install 'loupe\[effdet\]'"):
        load_model("xray-effdet", weights=tmp_path / "x.ckpt", device="cpu")
