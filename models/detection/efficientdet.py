"""The chest X-ray EfficientDet (NIH ChestX-ray14, 7 classes) through the optional `effdet` package.

Published file: a PyTorch Lightning `.ckpt` whose `state_dict` holds `network.model.{backbone,fpn,
class_net,box_net}.*` and `network.anchors.boxes`; `network.` is stripped and the rest loads
strictly into effdet's `DetBenchPredict` for `tf_efficientdet_lite3` (built offline). Its
`hyper_parameters` are never unpickled (see models.weights).

What the authors' pipeline does, and `detect` undoes (MODELS.md §2):
- input: RGB resized to 512x512 (cv2 bilinear, as albumentations' Resize; inferred), / 255, no mean/std;
- class ids: effdet trains channel `label - 1` and outputs `channel + 1`, so an output id IS the authors'
  CSV label (1 Cardiomegaly .. 6 Pneumothorax) and Loupe keeps it unchanged; label 0 (Atelectasis)
  was never learned, and output 7 (a channel that never had a positive target) is dropped
  (docs/decisions/0085);
- the trained boxes come out as (y1, x1, y2, x2) in 512-pixel space: Loupe reorders them to x1 y1 x2 y2
  and scales them to the image's pixels.

For saliency: `torch_module` is the DetBenchPredict, `preprocess(rgb)` the (1, 3, 512, 512) input,
`raw_outputs(x)` effdet's per-level (class_out, box_out) before box decoding, and
`torch_module.model.backbone` the feature extractor (`saliency_layer`).
"""

from __future__ import annotations

import numpy as np
import torch

from models.base import Detections, LoupeModel
from models.errors import LoupeError, ModelSpecError, WeightsError
from models.weights import find_state_dict, load_into, read_weights, strip_prefix

SIZE = 512
NUM_CLASSES = 7  # effdet's num_classes in the authors' config: output ids 1..7
UNTRAINED_OUTPUT = 7  # the channel no CSV label ever reached


def _effdet():
    try:
        import effdet
    except ModuleNotFoundError as exc:
        raise ModelSpecError(
            "the chest X-ray EfficientDet needs the optional effdet package, which is not installed: "
            "pip install 'loupe[effdet]' (effdet>=0.4.1, timm)") from exc
    return effdet


def build(num_classes: int = NUM_CLASSES):
    return _effdet().create_model("tf_efficientdet_lite3", bench_task="predict", num_classes=num_classes,
                                  pretrained=False, pretrained_backbone=False)


class EffDetDetector(LoupeModel):
    task = "detection"
    controls = ("threshold", "class_filter", "saliency_method", "device")

    def preprocess(self, rgb) -> torch.Tensor:
        import cv2

        arr = np.asarray(rgb)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
            raise LoupeError(f"detectors take RGB uint8 images of shape (H, W, 3); got {arr.dtype} {arr.shape}")
        img = cv2.resize(arr, (SIZE, SIZE), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
        return torch.from_numpy(img.transpose(2, 0, 1)).unsqueeze(0).to(self.device)

    def raw_outputs(self, x: torch.Tensor):
        return self.torch_module.model(x)

    def saliency_layer(self):
        return self.torch_module.model.backbone

    def detect(self, rgb, threshold: float | None = None) -> Detections:
        threshold = self.card.default_threshold if threshold is None else float(threshold)
        h, w = np.asarray(rgb).shape[:2]
        with torch.inference_mode():
            det = self.torch_module(self.preprocess(rgb))[0].float().cpu().numpy()
        det = det[(det[:, 4] > threshold) & (det[:, 5].astype(np.int64) != UNTRAINED_OUTPUT)]
        y1, x1, y2, x2 = det[:, 0], det[:, 1], det[:, 2], det[:, 3]
        xyxy = np.stack([x1 * w / SIZE, y1 * h / SIZE, x2 * w / SIZE, y2 * h / SIZE], axis=1).astype(np.float32)
        ids = det[:, 5].astype(np.int64)  # = the authors' CSV label
        names = self.class_names
        return Detections(xyxy.reshape(-1, 4), det[:, 4].astype(np.float32), ids,
                          [names[i] if 0 <= i < len(names) else f"class_{i}" for i in ids])

    def image_positive(self, dets: Detections, cm_threshold: float | None = None) -> bool:
        """The authors' image-level call: the top detection's score > cm_threshold (0.3)."""
        t = float(self.card.extra.get("cm_threshold", 0.3) if cm_threshold is None else cm_threshold)
        return bool(len(dets) and float(dets.scores.max()) > t)


def load(card, weights, device, **options):
    n = int(card.extra.get("num_classes", NUM_CLASSES))
    bench = build(n)
    if weights is None:
        raise WeightsError(f"the {card.name} model needs its Lightning checkpoint (.ckpt)")
    raw = find_state_dict(read_weights(weights), weights, keys=("state_dict",))
    sd = strip_prefix(raw, "network.")
    load_into(bench, sd, weights, card.name,
              f"a Lightning checkpoint of effdet tf_efficientdet_lite3 with {n} classes "
              "(network.model.*, network.anchors.boxes)", original=raw)
    bench.eval().to(device)
    return EffDetDetector(card, bench, device)
