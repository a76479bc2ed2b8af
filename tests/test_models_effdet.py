"""The chest X-ray EfficientDet from a Lightning checkpoint: strict load, class-id shift, (y1, x1, y2, x2)
512-space boxes mapped onto the image, hyper_parameters left unpickled."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from models_helpers import real_rgb
from weights_payloads import LightningConfig

from models import load_model

effdet = pytest.importorskip("effdet")
pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    torch.manual_seed(7)
    bench = effdet.create_model("tf_efficientdet_lite3", bench_task="predict", num_classes=7,
                                pretrained=False, pretrained_backbone=False).eval()
    with torch.no_grad():  # lift the focal prior so scores spread over (0, 1)
        bench.model.class_net.predict.conv_pw.bias.normal_(0.0, 2.0)
    tmp = tmp_path_factory.mktemp("effdet")
    sd = {f"network.{k}": v for k, v in bench.state_dict().items()}
    assert "network.anchors.boxes" in sd and any(k.startswith("network.model.class_net.") for k in sd)
    path = tmp / "epoch=12-step=100.ckpt"
    torch.save({"state_dict": sd, "epoch": 12, "pytorch-lightning_version": "1.9.0",
                "hyper_parameters": {"config": LightningConfig(str(tmp / "ran")), "lr": 2e-4}}, path)
    return path, bench, tmp


def test_effdet_boxes_land_where_the_authors_evaluation_put_them(ckpt, shared_data):
    path, bench, tmp = ckpt
    rgb = real_rgb(shared_data, "nih/images/00000211_016.png")[:, 64:]  # 1024 x 960, not square
    h, w = rgb.shape[:2]
    m = load_model("xray-effdet", weights=path, device="cpu")
    assert not (tmp / "ran").exists()  # hyper_parameters' object was never built
    dets = m.detect(rgb, threshold=0.2)
    x = torch.from_numpy(cv2.resize(rgb, (512, 512)).astype(np.float32).transpose(2, 0, 1) / 255)[None]
    with torch.no_grad():
        raw = bench(x)[0].numpy()
    raw = raw[raw[:, 4] > 0.2]
    assert len(dets) == len(raw) > 0
    assert raw[:, 5].min() >= 1  # effdet counts from 1 ...
    np.testing.assert_array_equal(dets.class_ids, raw[:, 5].astype(int) - 1)  # ... Loupe from 0
    assert dets.class_names[0] == m.class_names[int(raw[0, 5]) - 1]
    # (y1, x1, y2, x2) in 512 space -> x1 y1 x2 y2 in image pixels
    want = np.stack([raw[:, 1] * w / 512, raw[:, 0] * h / 512, raw[:, 3] * w / 512, raw[:, 2] * h / 512], 1)
    np.testing.assert_allclose(dets.xyxy, want, atol=1e-3)
    np.testing.assert_allclose(dets.scores, raw[:, 4], atol=1e-6)
    assert m.image_positive(dets) == bool(raw[:, 4].max() > 0.3)

