"""`loupe train classifier` end to end through the CLI on a real preset architecture (OASIS ResNet-18,
seeded random weights in its published layout): the output card loads back through
`models.load_model`, its weights are the trained ones, and nothing is overwritten."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from e2e_helpers import build_preset_weights
from PIL import Image
from training_helpers import planted_image_folder, read_events

from desktop.cli import main


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cls")
    data = planted_image_folder(root / "planted", n_per_class=(8, 5), size=40)
    base = build_preset_weights("oasis-resnet18", root / "models")
    before = _sha(base)
    out = root / "out"
    argv = ["train", "classifier", "--data", str(data), "--model", "oasis-resnet18", "--weights", str(base),
            "--out", str(out), "--epochs", "1", "--batch-size", "8", "--lr", "1e-3", "--freeze", "all_but_head",
            "--augment", "none", "--device", "cpu", "--progress", "none"]
    rc = main(argv)
    return {"rc": rc, "out": out, "data": data, "base": base, "before": before, "argv": argv}


def test_cli_run_writes_a_card_that_load_model_loads(trained):
    from models import load_model
    from models.classification.oasis import build_resnet18

    out = trained["out"]
    assert trained["rc"] == 0
    assert {p.name for p in out.iterdir()} >= {"weights.safetensors", "model.json", "metrics.jsonl", "report.html"}
    card = json.loads((out / "model.json").read_text())
    assert card["architecture"] == "oasis-resnet18" and card["extra"]["parent_model"] == "oasis-resnet18"
    assert card["extra"]["hyperparameters"]["freeze"] == "all_but_head"
    events = read_events(out / "metrics.jsonl")
    assert events[0]["event"] == "start" and events[-1]["event"] == "done"
    assert [e["epoch"] for e in events if e["event"] == "epoch"] == [1]

    model = load_model(str(out / "model.json"), device="cpu")
    rgb = np.asarray(Image.open(next((trained["data"] / "test" / "disease").glob("*.png"))).convert("RGB"))
    probs = model.classify(rgb)
    assert set(probs) == {"healthy", "disease"}
    # a second path to the same numbers: a fresh ResNet-18 with the saved tensors, read by safetensors
    from safetensors.torch import load_file

    ref = build_resnet18(2)
    ref.load_state_dict(load_file(out / "weights.safetensors"))
    ref.eval()
    with torch.no_grad():
        p = torch.softmax(ref(model.preprocess(rgb)), dim=1)[0]
    assert [probs["healthy"], probs["disease"]] == pytest.approx(p.tolist(), abs=1e-5)
    # only the head was trained (all_but_head): the backbone is the base file's
    from models.weights import find_state_dict, read_weights

    base_sd = find_state_dict(read_weights(trained["base"]), trained["base"])
    saved = load_file(out / "weights.safetensors")
    assert torch.equal(saved["layer1.0.conv1.weight"], base_sd["layer1.0.conv1.weight"])
    assert not torch.equal(saved["fc.weight"], base_sd["fc.weight"])


def test_second_run_never_overwrites(trained, tmp_path):
    """A second run into the same --out goes to out-2 (stopped after its first step to keep it short:
    exit status 3, the "cancelled" event in its own log)."""
    first = _sha(trained["out"] / "weights.safetensors")
    stop = tmp_path / "stop"
    stop.touch()
    assert main([*trained["argv"], "--stop-file", str(stop)]) == 3
    second = trained["out"].with_name("out-2")
    assert read_events(second / "metrics.jsonl")[-1]["event"] == "cancelled"
    assert not (second / "weights.safetensors").exists()
    assert _sha(trained["out"] / "weights.safetensors") == first  # the first model is untouched
    assert _sha(trained["base"]) == trained["before"]  # and so is the base model's file
