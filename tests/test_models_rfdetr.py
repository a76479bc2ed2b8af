"""RF-DETR: seeded weights saved as Heartformer's safetensors and as old/new rfdetr training
checkpoints, loaded through load_model; detections must equal `RFDETRNano.predict` on the same
weights and real image (same code path arithmetic: boxes within 1e-3 px, scores within 1e-6)."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch
from models_helpers import real_rgb
from safetensors.torch import save_file

from models import WeightsError, load_model
from models.detection.rfdetr import _checkpoint_parts
from models.registry import card_for_weights
from models.weights import read_weights

pytestmark = pytest.mark.shared_data
HEART = ["heart-anatomy-images", "heart_cadaver", "heart_cell", "heart_ct_scan", "heart_drawing",
         "heart_textbook", "heart_wall", "heart_xray"]
RBC = "coco_rbc/test"


def build_reference(cls_name: str, num_classes: int, seed: int):
    import rfdetr

    torch.manual_seed(seed)
    rf = getattr(rfdetr, cls_name)(num_classes=num_classes, pretrain_weights=None, device="cpu")
    with torch.no_grad():  # random heads score ~0.01 everywhere; spread them so some pass 0.3
        rf.model.model.class_embed.bias.normal_(0.0, 1.5)
    return rf


def assert_same(dets, ref):
    assert len(dets) == len(ref) > 0
    np.testing.assert_array_equal(dets.class_ids, ref.class_id)
    np.testing.assert_allclose(dets.scores, ref.confidence, atol=1e-6, rtol=0)
    np.testing.assert_allclose(dets.xyxy, ref.xyxy, atol=1e-3, rtol=0)


@pytest.fixture(scope="module")
def nano(tmp_path_factory):
    return build_reference("RFDETRNano", 8, seed=5), tmp_path_factory.mktemp("rfdetr")


@pytest.fixture(scope="module")
def image(shared_data):
    first = sorted((shared_data / RBC).glob("*.jpg"))[0]
    return real_rgb(shared_data, f"{RBC}/{first.name}")


def test_heartformer_safetensors_matches_predict(nano, image):
    rf, tmp = nano
    sd = rf.model.model.state_dict()
    sd.pop("_kp_active_mask")  # published v0.1 predates it
    assert len(sd) == 465 and sd["class_embed.weight"].shape == (9, 256)
    path = tmp / "heartformer-v0.1.safetensors"
    save_file(sd, path)
    m = load_model("heartformer", weights=path, device="cpu")
    assert m.task == "detection" and m.class_names == HEART and m.card.default_threshold == 0.3
    dets = m.detect(image)  # the card's default threshold
    ref = rf.predict(image, threshold=0.3)
    assert_same(dets, ref)
    assert dets.class_names == [(HEART + ["__background__"])[i] for i in ref.class_id]
    assert dets.xyxy.dtype == np.float32 and dets.xyxy[:, 2:].max() <= image.shape[1]
    # raw per-query outputs for saliency
    x = m.preprocess(image)
    assert tuple(x.shape) == (1, 3, 384, 384)
    with torch.no_grad():
        out = m.raw_outputs(x)
    assert out["pred_logits"].shape == (1, 300, 9) and out["pred_boxes"].shape == (1, 300, 4)


def test_old_and_new_training_checkpoints(nano, image):
    rf, tmp = nano
    sd = rf.model.model.state_dict()
    old = tmp / "checkpoint_best_ema_old.pth"
    torch.save({"model": sd, "ema_model": sd, "optimizer": {}, "lr_scheduler": {}, "epoch": 11,
                "args": argparse.Namespace(num_classes=8, lr=1e-4, resolution=384)}, old)
    new = tmp / "checkpoint_best_ema_new.pth"
    names = [f"kind_{i}" for i in range(8)]
    torch.save({"model": sd, "state_dict": {f"model.{k}": v for k, v in sd.items()}, "epoch": 3,
                "args": {"num_classes": 8, "class_names": names}, "model_name": "RFDETRNano"}, new)
    lightning_like = tmp / "last.pth"
    torch.save({"state_dict": {f"model.{k}": v for k, v in sd.items()}, "args": {"class_names": names}},
               lightning_like)
    ref = rf.predict(image, threshold=0.3)
    # each layout yields the same LWDETR tensors (and names where the file has them) ...
    for path, want_names in ((old, None), (new, names), (lightning_like, names)):
        got, got_names, _ = _checkpoint_parts(read_weights(path), path)
        assert got_names == want_names, path.name
        assert set(got) == set(sd) and all(torch.equal(got[k], sd[k]) for k in sd), path.name
    # ... and a new-format file loads as a bare file and detects as predict does
    card = card_for_weights(new)  # a bare file: variant from the position grid, names from args
    assert card.architecture == "rfdetr-nano" and card.class_names == names
    m_new = load_model(new, device="cpu")
    dets = m_new.detect(image, threshold=0.3)
    assert_same(dets, ref)
    assert dets.class_names == [(names + ["__background__"])[i] for i in ref.class_id]


def test_wrong_class_count_is_named(nano, tmp_path):
    rf, _ = nano
    sd = dict(rf.model.model.state_dict())
    sd["class_embed.weight"] = sd["class_embed.weight"][:4]
    save_file(sd, tmp_path / "bad.safetensors")
    with pytest.raises(WeightsError, match=r"bad.safetensors: this is an RF-DETR checkpoint with 3 classes "
                       r"\(class_embed.weight \(4, 256\)\); the heartformer preset expects 8 classes"):
        load_model("heartformer", weights=tmp_path / "bad.safetensors", device="cpu")


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["Small", "Medium", "Large"])
def test_bigger_variants_match_predict(variant, image, tmp_path):
    rf = build_reference(f"RFDETR{variant}", 3, seed=6)
    save_file(rf.model.model.state_dict(), tmp_path / "w.safetensors")
    m = load_model(f"rfdetr-{variant.lower()}", weights=tmp_path / "w.safetensors", device="cpu")
    assert card_for_weights(tmp_path / "w.safetensors").architecture == f"rfdetr-{variant.lower()}"
    assert_same(m.detect(image, 0.3), rf.predict(image, threshold=0.3))


@pytest.mark.gpu
def test_detect_on_the_gpu_matches_predict_there(nano, image):
    rf, tmp = nano
    path = tmp / "heartformer-gpu.safetensors"
    save_file(rf.model.model.state_dict(), path)
    m = load_model("heartformer", weights=path, device="auto")
    assert m.device.type in ("cuda", "mps")
    import rfdetr

    ref_model = rfdetr.RFDETRNano(num_classes=8, pretrain_weights=None, device=str(m.device))
    ref_model.model.model.load_state_dict(rf.model.model.state_dict())
    ref_model.model.model.to(m.device)
    assert_same(m.detect(image, 0.3), ref_model.predict(image, threshold=0.3))


def test_fine_tuned_resolution_loads_from_card_and_bare_file(image, tmp_path):
    """A model trained at another size (the fine-tune recipe's 640 px, here 64 px to stay fast)
    has a different position-embedding grid: it loads from its card's resolution, and a bare file
    is sized from the grid itself. Detections still equal rfdetr's own predict at that size."""
    import json

    import rfdetr

    torch.manual_seed(3)
    rf = rfdetr.RFDETRNano(num_classes=2, pretrain_weights=None, device="cpu", resolution=64)
    with torch.no_grad():
        rf.model.model.class_embed.bias.normal_(0.0, 1.5)
    path = tmp_path / "weights.safetensors"
    save_file(rf.model.model.state_dict(), path)
    card = {"name": "rbc-finetuned", "architecture": "rfdetr-nano", "task": "detection",
            "class_names": ["rbc", "wbc"], "weights": "weights.safetensors",
            "preprocessing": {"resolution": 64}}
    (tmp_path / "model.json").write_text(json.dumps(card))
    ref = rf.predict(image, threshold=0.3)
    for spec in (tmp_path / "model.json", path):
        m = load_model(str(spec), device="cpu")
        assert m.resolution == 64
        assert_same(m.detect(image, threshold=0.3), ref)


def test_rfdetrs_converted_legacy_checkpoint_gives_its_class_names(nano, image):
    """rfdetr's own `convert_legacy_checkpoint` keeps the training args under `hyper_parameters`, not
    `args`; Loupe named the classes class_0.. for such a file."""
    from rfdetr.training.checkpoint import convert_legacy_checkpoint

    rf, tmp = nano
    sd = rf.model.model.state_dict()
    names = [f"anatomy_{i}" for i in range(8)]
    legacy = tmp / "checkpoint_legacy.pth"
    torch.save({"model": sd, "ema_model": sd, "epoch": 7,
                "args": argparse.Namespace(num_classes=8, class_names=names, resolution=384)}, legacy)
    converted = tmp / "converted.ckpt"
    convert_legacy_checkpoint(str(legacy), str(converted))
    raw = torch.load(converted, map_location="cpu", weights_only=False)  # the test trusts its own file
    assert "args" not in raw and raw["hyper_parameters"]["class_names"] == names
    got, got_names, _ = _checkpoint_parts(read_weights(converted), converted)
    assert got_names == names and set(got) == set(sd)
    card = card_for_weights(converted)
    assert card.architecture == "rfdetr-nano" and card.class_names == names
    dets = load_model(converted, device="cpu").detect(image, threshold=0.3)
    ref = rf.predict(image, threshold=0.3)
    assert_same(dets, ref)
    assert dets.class_names == [(names + ["__background__"])[i] for i in ref.class_id]
