"""RF-DETR detectors through the `rfdetr` package, built offline (`pretrain_weights=None`).

Accepted files (see MODELS.md §1):
- a safetensors/plain state dict of the inner `LWDETR` module (`model.model.model`), e.g.
  `heartformer-v0.1.safetensors` (older files lack `_kp_active_mask`; it is rebuilt);
- rfdetr <= 1.5 training checkpoints: `model`, `ema_model`, `args` (argparse.Namespace), ...;
- rfdetr 1.11 checkpoints: `model` and/or `state_dict` (keys prefixed `model.`), `args` (a dict
  with `class_names`), `model_name`.
`class_embed.weight` is (num_classes + 1, 256); class id i is `class_names[i]` (Heartformer's id 0
is the Roboflow parent category). The COCO-pretrained files (91 slots) use COCO's sparse ids.
"""

from __future__ import annotations

import numpy as np
import torch
import torchvision.transforms.functional as TF

from models.base import Detections, LoupeModel
from models.errors import LoupeError, WeightsError
from models.weights import is_state_dict, load_into, read_weights, strip_prefix

VARIANTS = {"rfdetr-nano": "RFDETRNano", "rfdetr-small": "RFDETRSmall", "rfdetr-medium": "RFDETRMedium",
            "rfdetr-large": "RFDETRLarge"}


class RFDETRDetector(LoupeModel):
    """An RF-DETR model. `detect(rgb, threshold)` gives what `RFDETR.predict` gives on the same weights.

    For saliency and inspection:
    - `torch_module`: the `LWDETR` network (`rfdetr.model.model`), in eval mode on `device`;
    - `preprocess(rgb)` -> (1, 3, R, R) float tensor: uint8 / 255, square resize to the model's
      resolution R (bilinear, no antialias, as `predict`), ImageNet mean/std;
    - `raw_outputs(x)` -> {"pred_logits": (B, Q, num_classes + 1) logits per query,
      "pred_boxes": (B, Q, 4) normalised cx, cy, w, h per query}; gradients flow when called outside
      `torch.inference_mode` (`forward_logits(x)` is `pred_logits`);
    - `postprocess(outputs, (h, w), threshold)` -> Detections in image pixels (rfdetr's own
      top-k over query x class, as `predict`);
    - `rfdetr`: the `rfdetr.RFDETR*` wrapper itself (its `.predict` is the reference).
    """

    task = "detection"
    controls = ("threshold", "class_filter", "saliency_method", "device")

    def __init__(self, card, rf, device, class_names: list[str]):
        self.rfdetr = rf
        module = rf.model.model
        module.eval()
        super().__init__(card, module, device)
        self._names = class_names
        self.resolution = int(rf.model.resolution)
        self._mean = list(rf.means)
        self._std = list(rf.stds)
        self._scale = None

    @property
    def class_names(self) -> list[str]:
        return list(self._names)

    def to(self, device):
        super().to(device)
        self.rfdetr.model.device = self.device
        self._scale = None
        return self

    def preprocess(self, rgb) -> torch.Tensor:
        arr = np.asarray(rgb)
        if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
            raise LoupeError(f"detectors take RGB uint8 images of shape (H, W, 3); got {arr.dtype} {arr.shape}")
        arr = np.ascontiguousarray(arr) if arr.flags.writeable else np.array(arr)
        chw = torch.from_numpy(arr.transpose(2, 0, 1)).to(self.device)
        if self._scale is None:
            self._scale = torch.tensor(255, device=self.device, dtype=torch.get_default_dtype())
        x = chw.to(torch.get_default_dtype()).div_(self._scale)  # as rfdetr's _uint8_chw_to_float
        x = TF.resize(x.unsqueeze(0), [self.resolution, self.resolution], antialias=False)
        return TF.normalize(x, self._mean, self._std)

    def raw_outputs(self, x: torch.Tensor) -> dict:
        out = self.torch_module(x)
        if isinstance(out, tuple):
            out = {"pred_logits": out[1], "pred_boxes": out[0]}
        return out

    def forward_logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.raw_outputs(x)["pred_logits"]

    def saliency_layer(self):
        return self.torch_module.backbone

    def postprocess(self, outputs: dict, size: tuple[int, int], threshold: float) -> Detections:
        sizes = torch.tensor([list(size)], device=outputs["pred_logits"].device)
        res = self.rfdetr.model.postprocess(outputs, target_sizes=sizes)[0]
        keep = (res["scores"] > threshold).nonzero(as_tuple=True)[0]
        boxes = res["boxes"][keep].float().cpu().numpy().astype(np.float32)
        scores = res["scores"][keep].float().cpu().numpy().astype(np.float32)
        ids = res["labels"][keep].cpu().numpy().astype(np.int64)
        names = [self.name_of(int(i)) for i in ids]
        return Detections(boxes, scores, ids, names)

    def name_of(self, class_id: int) -> str:
        """The class name of a raw class id; the head's extra last slot is "__background__" (as predict)."""
        if 0 <= class_id < len(self._names):
            return self._names[class_id]
        return "__background__" if class_id == len(self._names) else f"class_{class_id}"

    def detect(self, rgb, threshold: float | None = None) -> Detections:
        threshold = self.card.default_threshold if threshold is None else float(threshold)
        with torch.inference_mode():
            x = self.preprocess(rgb)
            return self.postprocess(self.raw_outputs(x), np.asarray(rgb).shape[:2], threshold)


def _checkpoint_parts(obj, path) -> tuple[dict, list[str] | None, str | None]:
    """(LWDETR state dict, class names or None, model_name or None) of any accepted layout."""
    if is_state_dict(obj):
        return strip_prefix(obj, "model.") if "model.class_embed.weight" in obj else obj, None, None
    if not isinstance(obj, dict):
        raise WeightsError(f"{path} is not an RF-DETR checkpoint")
    sd = obj.get("model") if is_state_dict(obj.get("model")) else None
    if sd is None and is_state_dict(obj.get("state_dict")):
        sd = strip_prefix(obj["state_dict"], "model.")
    if sd is None:
        raise WeightsError(f"{path} holds no RF-DETR weights (top-level entries: {', '.join(map(str, obj))[:200]})")
    return sd, checkpoint_class_names(obj), obj.get("model_name")


def checkpoint_class_names(obj) -> list[str] | None:
    """The class names a training checkpoint records: in `args` (rfdetr's own .pth, a Namespace or a
    dict), or in `hyper_parameters` where rfdetr's `convert_legacy_checkpoint` and Lightning put
    them (a dict, or the restricted unpickler's placeholder for Lightning's AttributeDict)."""
    if not isinstance(obj, dict):
        return None
    for key in ("args", "hyper_parameters"):
        holder = obj.get(key)
        if holder is None:
            continue
        try:
            names = holder["class_names"] if "class_names" in holder else None
        except TypeError:  # argparse.Namespace
            names = getattr(holder, "class_names", None)
        if isinstance(names, str):
            names = [names]
        if names:
            return [str(n) for n in names]
    return None


def _class_names(card, file_names, n_slots: int) -> list[str]:
    n = n_slots - 1
    for names in (card.class_names, file_names):
        if names and len(names) in (n, n_slots):
            return list(names)
    if n == 90:  # COCO-pretrained file: sparse COCO category ids
        from rfdetr.assets.coco_classes import COCO_CLASSES

        return [COCO_CLASSES.get(i, f"class_{i}") for i in range(n_slots)]
    return [f"class_{i}" for i in range(n)]


def load(card, weights, device, **options):
    import rfdetr

    if weights is None:
        raise WeightsError(f"the {card.name} model needs a weights file")
    sd, file_names, _ = _checkpoint_parts(read_weights(weights), weights)
    if "class_embed.weight" not in sd:
        raise load_mismatch(card, weights, sd)
    n_slots = int(sd["class_embed.weight"].shape[0])
    if card.class_names and len(card.class_names) not in (n_slots - 1, n_slots):
        raise WeightsError(
            f"{weights}: this is an RF-DETR checkpoint with {n_slots - 1} classes (class_embed.weight "
            f"{tuple(sd['class_embed.weight'].shape)}); the {card.name} preset expects "
            f"{len(card.class_names)} classes (class_embed ({len(card.class_names) + 1}, 256)). "
            "Load it with the rfdetr preset of its size, or a card that lists its classes.")
    cls = getattr(rfdetr, VARIANTS[card.architecture])
    resolution = _resolution(card, sd, options)
    extra = {"resolution": resolution} if resolution else {}
    rf = cls(num_classes=n_slots - 1, pretrain_weights=None, device=str(device), **extra)
    module = rf.model.model
    own = module.state_dict()
    sd = dict(sd)
    if "_kp_active_mask" in own and "_kp_active_mask" not in sd:  # files older than keypoint support
        sd["_kp_active_mask"] = own["_kp_active_mask"]
    load_into(module, sd, weights, card.name,
              f"an {VARIANTS[card.architecture]} LWDETR state dict ({len(own)} keys, class_embed "
              f"({n_slots}, 256))")
    names = _class_names(card, file_names, n_slots)
    rf.model.class_names = names
    module.to(device).eval()
    return RFDETRDetector(card, rf, device, names)


def _resolution(card, sd, options) -> int | None:
    """The input size the weights were trained at. rfdetr sizes the backbone's position-embedding
    grid from the resolution (grid = resolution / patch), so the file itself says it: the asked size
    (option, else the card's `preprocessing.resolution`) when it fits that grid, else grid x patch.
    None keeps rfdetr's default. A fine-tuned model (e.g. Heartformer's recipe at 640 px) only
    loads at its own size."""
    asked = options.get("resolution") or (card.preprocessing or {}).get("resolution")
    pos = next((v for k, v in sd.items() if k.endswith("position_embeddings")), None)
    import rfdetr.config as cfg

    config = getattr(cfg, VARIANTS[card.architecture] + "Config", None)
    if pos is None or pos.ndim != 3 or config is None:
        return int(asked) if asked else None
    import math

    grid = int(round(math.sqrt(pos.shape[1] - 1)))
    patch = int(config.model_fields["patch_size"].default)
    if asked and int(asked) // patch == grid:
        return int(asked)
    return None if grid == int(config.model_fields["positional_encoding_size"].default) else grid * patch


def load_mismatch(card, weights, sd):
    from models.weights import architecture_mismatch

    return architecture_mismatch(weights, sd, card.name, "an RF-DETR (LWDETR) state dict with class_embed.*",
                                 ["class_embed.weight"], [], [])
