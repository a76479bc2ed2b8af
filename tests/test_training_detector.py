"""RF-DETR Nano fine-tune through rfdetr's own training: loss falls, weights load back through
load_model and detect runs; cancel mid-run. Slow on CPU (minutes), so marked slow."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from training_helpers import rbc_subset, read_events

from desktop.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


def test_nano_fine_tune_loss_falls_and_loads_back(shared_data, tmp_path):
    data = rbc_subset(tmp_path / "rbc", 4, shared_data)
    out = tmp_path / "out"
    rc = main(["train", "detector", "--data", str(data), "--model", "rfdetr-nano", "--out", str(out),
               "--epochs", "4", "--batch-size", "2", "--grad-accum", "1", "--lr", "5e-4", "--resolution", "64",
               "--device", "cpu", "--progress", "none"])
    assert rc == 0
    events = read_events(out / "metrics.jsonl")
    losses = [e["train_loss"] for e in events if e["event"] == "epoch"]
    assert losses[-1] < losses[0]
    assert not list(out.rglob("*.pth")) and not list(out.rglob("*.ckpt"))
    from models import load_model

    card = json.loads((out / "model.json").read_text())
    assert card["extra"]["dataset_hash"].startswith("sha256:")
    m = load_model(str(out / "model.json"), device="cpu")
    rgb = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(next((data / "test").glob("*.jpg"))))
    dets = m.detect(rgb, threshold=0.0)
    assert dets.xyxy.shape[1] == 4


def test_cancel_mid_run(shared_data, tmp_path):
    data = rbc_subset(tmp_path / "rbc", 4, shared_data)
    stop = tmp_path / "stop"
    stop.touch()  # asked before the first step ends: stops after it
    rc = main(["train", "detector", "--data", str(data), "--model", "rfdetr-nano", "--out", str(tmp_path / "o"),
               "--epochs", "3", "--batch-size", "2", "--resolution", "64", "--device", "cpu",
               "--progress", "none", "--stop-file", str(stop)])
    events = read_events(tmp_path / "o" / "metrics.jsonl")
    assert rc == 3 and events[-1]["event"] == "cancelled"
    assert sum(e["event"] == "step" for e in events) == 1
    assert not (tmp_path / "o" / "weights.safetensors").exists()
    assert sys.modules  # no crash of the calling process
