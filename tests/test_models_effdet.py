"""The chest X-ray EfficientDet from a Lightning checkpoint: strict load, class ids as the authors' CSV
labels, (y1, x1, y2, x2) 512-space boxes mapped onto the image, hyper_parameters left unpickled."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from models_helpers import real_rgb
from weights_payloads import LightningConfig

from models import load_model

# MODELS.md section 2: the authors' CSV `label` column, which effdet outputs unchanged as its class id
CSV_LABELS = {0: "Atelectasis", 1: "Cardiomegaly", 2: "Effusion", 3: "Infiltrate", 4: "Nodule/Mass",
              5: "Pneumonia", 6: "Pneumothorax"}

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
    raw = raw[(raw[:, 4] > 0.2) & (raw[:, 5] != 7)]  # output 7 never had a positive target
    assert len(dets) == len(raw) > 0
    np.testing.assert_array_equal(dets.class_ids, raw[:, 5].astype(int))
    # (y1, x1, y2, x2) in 512 space -> x1 y1 x2 y2 in image pixels
    want = np.stack([raw[:, 1] * w / 512, raw[:, 0] * h / 512, raw[:, 3] * w / 512, raw[:, 2] * h / 512], 1)
    np.testing.assert_allclose(dets.xyxy, want, atol=1e-3)
    np.testing.assert_allclose(dets.scores, raw[:, 4], atol=1e-6)
    assert m.image_positive(dets) == bool(raw[:, 4].max() > 0.3)



def test_effdet_class_names_are_the_authors_csv_labels_and_output_7_is_dropped(tmp_path):
    """Reference: effdet's DetBenchPredict on seeded weights, ids exactly as effdet outputs them, named by
    MODELS.md's CSV label table; the untrained output 7 never reaches the user (old code: id - 1, and 7
    was called Pneumothorax)."""
    torch.manual_seed(3)
    bench = effdet.create_model("tf_efficientdet_lite3", bench_task="predict", num_classes=7,
                                pretrained=False, pretrained_backbone=False).eval()
    with torch.no_grad():  # several classes score, output 7 (channel 6) among them
        bias = bench.model.class_net.predict.conv_pw.bias
        torch.manual_seed(3)
        bias.normal_(0.0, 0.5)
        bias.view(-1, 7)[:, 6] += 0.6
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": {f"network.{k}": v for k, v in bench.state_dict().items()}, "epoch": 1,
                "pytorch-lightning_version": "1.9.0"}, path)
    rgb = np.random.default_rng(0).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    x = torch.from_numpy(rgb.astype(np.float32).transpose(2, 0, 1) / 255)[None]
    with torch.no_grad():
        raw = bench(x)[0].numpy()
    raw = raw[raw[:, 4] > 0.1]
    assert 7 in raw[:, 5] and len(set(raw[:, 5].astype(int)) - {7}) >= 3  # the planted case shows both
    want = [(CSV_LABELS[int(c)], round(float(s), 5)) for c, s in raw[:, [5, 4]] if int(c) != 7]
    dets = load_model("xray-effdet", weights=path, device="cpu").detect(rgb, threshold=0.1)
    assert [(n, round(float(s), 5)) for n, s in zip(dets.class_names, dets.scores)] == want
    assert 7 not in dets.class_ids and "Atelectasis" not in dets.class_names


def test_checkpoint_written_by_lightnings_own_trainer_loads(ckpt, tmp_path):
    """The authors' file is what Lightning's `save_checkpoint` writes from a module whose hyperparameters
    hold the Hydra/omegaconf config; its pickle names builtins, typing and omegaconf globals. The old
    reader refused it as possibly malicious."""
    pl = pytest.importorskip("pytorch_lightning")
    omegaconf = pytest.importorskip("omegaconf")
    _path, bench, _tmp = ckpt

    class EffDetModule(pl.LightningModule):  # the authors' layout: the DetBench is `self.network`
        def __init__(self, config):
            super().__init__()
            self.save_hyperparameters()
            self.network = bench

        def training_step(self, batch, _i):
            return (self.network.model.class_net.predict.conv_pw.bias * 0.0).sum() + batch[0].sum() * 0.0

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.0)

    config = omegaconf.OmegaConf.create({"model": {"name": "tf_efficientdet_lite3", "num_classes": 7,
                                                   "image_size": [512, 512]}, "cm_threshold": 0.3})
    module = EffDetModule(config)
    assert isinstance(module.hparams["config"], omegaconf.DictConfig)
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(1, 1)), batch_size=1)
    trainer = pl.Trainer(max_steps=1, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(module, data)
    path = tmp_path / "epoch=0-step=1.ckpt"
    trainer.save_checkpoint(path)
    raw = torch.load(path, map_location="cpu", weights_only=False)  # (the test trusts its own file)
    assert "pytorch-lightning_version" in raw and isinstance(raw["hyper_parameters"]["config"],
                                                             omegaconf.DictConfig)
    m = load_model("xray-effdet", weights=path, device="cpu")
    rgb = np.random.default_rng(1).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    x = torch.from_numpy(rgb.astype(np.float32).transpose(2, 0, 1) / 255)[None]
    bench.eval()
    with torch.no_grad():
        want = bench(x)[0].numpy()
    want = want[(want[:, 4] > 0.05) & (want[:, 5] != 7)]
    dets = m.detect(rgb, threshold=0.05)
    assert len(dets) == len(want) > 0
    np.testing.assert_allclose(dets.scores, want[:, 4], atol=1e-6)
    assert [CSV_LABELS[int(c)] for c in want[:, 5]] == list(dets.class_names)
