"""Segment-anything models (SAM, MedSAM, SlimSAM: `SamModel`; SAM 2.1: `Sam2Model`) through transformers.

    m = load_model("medsam", weights="~/models/medsam-vit-base")   # the Hugging Face folder
    emb = m.embed(rgb)                                             # the image encoder, once per image
    mask, score = m.segment(emb, box=(x0, y0, x1, y1))             # prompt encoder + mask decoder only

Everything the model's authors set about the input (resize, pad, rescale, normalise) comes from the
folder's preprocessor_config.json through the model's own transformers processor; Loupe never
re-implements it. Masks come back through the processor's `post_process_masks` at the image's size.
Which of SAM's three masks is returned: docs/decisions/0120-segment-anything-engine.md.
The mask decoders run rearranged for one prompt (fastdecode.py, equal to transformers' forward within
float rounding; `decode_plain` is that forward).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from models.base import LoupeModel, ModelCard
from models.errors import WeightsError
from models.segmentation.folder import check_folder

# card architecture -> (config model_type, transformers model class, processor class)
FAMILIES = {"sam": ("sam", "SamModel", "SamProcessor"), "sam2": ("sam2", "Sam2Model", "Sam2Processor")}


@dataclass
class Embedding:
    """One image's embedding, as `segment` takes it back. Kept on the model's device."""

    features: Any  # SAM: (1, C, h, w) tensor; SAM 2: list of feature maps, finest first
    original_size: tuple[int, int]  # (H, W) of the image given to `embed`
    reshaped_size: tuple[int, int]  # (h, w) the processor resized it to, before padding
    model_id: int  # id() of the model that computed it
    prepared: Any = field(default=None, repr=False)  # SAM: the decoder's image-only parts (fastdecode.Prepared)


class SegmentAnythingModel(LoupeModel):
    task: ClassVar[str] = "segmentation"
    controls: ClassVar[tuple[str, ...]] = ("device",)

    def __init__(self, card: ModelCard, module, processor, device, family: str):
        super().__init__(card, module, device)
        self.processor = processor
        self.family = family

    # -- the image encoder, once per image ---------------------------------------------------------
    def embed(self, rgb: np.ndarray) -> Embedding:
        from models.denormals import flushed

        with flushed():  # the zero padding of a non-square image makes subnormals: 10x slower without
            return self._embed(rgb)

    def _embed(self, rgb: np.ndarray) -> Embedding:
        import torch

        rgb = _as_rgb(rgb)
        enc = self.processor(images=rgb, return_tensors="pt")
        original = tuple(int(v) for v in enc["original_sizes"][0])
        reshaped = tuple(int(v) for v in enc["reshaped_input_sizes"][0]) if "reshaped_input_sizes" in enc else original
        with torch.inference_mode():
            features = self.torch_module.get_image_embeddings(enc["pixel_values"].to(self.device))
        emb = Embedding(features, original, reshaped, id(self))
        if _one_image(features):  # the decoder's image-only parts, once, here in the embedding worker
            from models.segmentation import fastdecode

            emb.prepared = fastdecode.prepare(self.torch_module, features)
        return emb

    # -- a prompt: prompt encoder + mask decoder ---------------------------------------------------
    def segment(self, emb: Embedding, points=None, box=None) -> tuple[np.ndarray, float]:
        """(mask, score) for positive/negative points [(x, y, 1 or 0), ...] and/or a box (x0, y0, x1, y1),
        in the image's pixels. mask: bool (H, W); score: the model's predicted IoU of that mask."""
        import torch

        pred, iou, multimask = self.decode(emb, points, box)
        masks = self.post_process(pred, emb)  # (1 prompt, n masks, H, W) bool
        best = int(torch.argmax(iou)) if multimask else 0
        return masks[0, best].numpy().astype(bool), float(iou[best])

    def prompt(self, emb: Embedding, points=None, box=None):
        """The box of the mask `segment` returns (exactly), its score and a low-resolution preview
        of the mask, without building the full-resolution mask (models/segmentation/fastbox.py)."""
        from models.segmentation.fastbox import prompt_box

        return prompt_box(self, emb, points, box)

    def decode(self, emb: Embedding, points=None, box=None, best_only: bool = False):
        """(pred_masks (1, 1, n, 256, 256) logits, iou_scores (n,), multimask) for a prompt: the prompt
        encoder and mask decoder only. One point and no box asks for SAM's three masks. `best_only`:
        SAM's decoder builds only the mask of the highest predicted IoU (n = 1, multimask False)."""

        if emb.model_id != id(self):
            raise ValueError(f"this embedding was computed by another model, not by {self.name}")
        points = [tuple(p) for p in (points or [])]
        if not points and box is None:
            raise ValueError("segment needs at least one point or a box")
        for p in points:
            if len(p) != 3 or p[2] not in (0, 1):
                raise ValueError(f"a point is (x, y, 1) to include or (x, y, 0) to exclude, not {p!r}")
        from models.denormals import flushed

        prompt = {k: v.to(self.device) for k, v in self.prompt_inputs(emb, points, box).items()}
        multimask = box is None and len(points) == 1
        with flushed():
            if emb.prepared is not None:
                return self._decode_fast(emb, prompt, multimask, best_only)
            return self.decode_plain(emb, prompt, multimask)

    def decode_plain(self, emb: Embedding, prompt: dict, multimask: bool):
        """transformers' own forward with the embedding (the reference the fast decoder is tested on)."""
        import torch

        with torch.inference_mode():
            out = self.torch_module(image_embeddings=emb.features, multimask_output=multimask, **prompt)
        return out.pred_masks, out.iou_scores[0, 0].float().cpu(), multimask

    def _decode_fast(self, emb: Embedding, prompt: dict, multimask: bool, best_only: bool):
        """SAM's prompt encoder, then its mask decoder rearranged for one prompt (fastdecode.py)."""
        import torch

        from models.segmentation import fastdecode

        module = self.torch_module
        with torch.inference_mode():
            sparse, _ = module.prompt_encoder(input_points=prompt.get("input_points"),
                                              input_labels=prompt.get("input_labels"),
                                              input_boxes=prompt.get("input_boxes"), input_masks=None)
            masks, iou = fastdecode.decode(module, emb.prepared, sparse, multimask, best_only)
        return masks, iou[0, 0].float().cpu(), multimask and not best_only

    def prompt_inputs(self, emb: Embedding, points, box) -> dict:
        """The prompt tensors as the model's processor builds them for an image of emb's size."""
        kwargs = {}
        if points:
            kwargs["input_points"] = [[[[float(x), float(y)] for x, y, _ in points]]]
            kwargs["input_labels"] = [[[int(lab) for _, _, lab in points]]]
        if box is not None:
            kwargs["input_boxes"] = [[[float(v) for v in box]]]
        if self.family == "sam2":  # Sam2Processor takes the original size instead of the image
            enc = self.processor(original_sizes=[list(emb.original_size)], return_tensors="pt", **kwargs)
        else:  # SamProcessor wants the image; its own coordinate transform, for the image's size
            enc = _sam_prompts(self.processor, emb.original_size, **kwargs)
        return {k: enc[k] for k in ("input_points", "input_labels", "input_boxes") if k in enc}

    def post_process(self, pred_masks, emb: Embedding):
        sizes = [list(emb.original_size)]
        if self.family == "sam2":
            return self.processor.post_process_masks(pred_masks.cpu(), sizes)[0]
        return self.processor.post_process_masks(pred_masks.cpu(), sizes, [list(emb.reshaped_size)])[0]


def _one_image(features) -> bool:
    """SAM's (1, C, h, w) embedding or SAM 2's list of three maps of one image (what fastdecode takes)."""
    if isinstance(features, (list, tuple)):
        return len(features) == 3 and all(f.shape[0] == 1 for f in features)
    return features.ndim == 4 and features.shape[0] == 1


def _sam_prompts(processor, original_size, **kwargs):
    """SamProcessor's own point/box transform (`_normalize_and_convert`, what its __call__ runs after
    the image processor) for an image of `original_size`, without resizing the image again."""
    from transformers import BatchEncoding

    points, labels, boxes = processor._check_and_preprocess_points(
        input_points=kwargs.get("input_points"), input_labels=kwargs.get("input_labels"),
        input_boxes=kwargs.get("input_boxes"))
    sizes = np.array([list(original_size)])
    enc = BatchEncoding({"original_sizes": sizes})
    return processor._normalize_and_convert(enc, sizes, input_points=points, input_labels=labels,
                                            input_boxes=boxes, return_tensors="pt", point_pad_value=-10)


def _as_rgb(rgb) -> np.ndarray:
    a = np.asarray(rgb)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"an image is (H, W, 3) RGB, not shape {a.shape}")
    if a.dtype != np.uint8:
        raise ValueError(f"an image is uint8 RGB, not {a.dtype}")
    return np.ascontiguousarray(a[..., :3])


def load(card: ModelCard, weights: Path | None, device, **options) -> SegmentAnythingModel:
    """Load a SAM-family folder with local files only (never a hub)."""
    family = card.architecture
    if family not in FAMILIES:
        raise WeightsError(f"{card.name}: {family!r} is not a segment-anything architecture")
    if weights is None:
        raise WeightsError(f"the {card.name} model needs its weights folder ({card.weights or 'a folder'}); "
                           f"pass it with --weights.")
    model_type, model_cls, proc_cls = FAMILIES[family]
    folder = Path(weights)
    check_folder(folder, card, model_type)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import transformers

    try:
        processor = getattr(transformers, proc_cls).from_pretrained(str(folder), local_files_only=True)
    except Exception as exc:
        raise WeightsError(f"{folder / 'preprocessor_config.json'} does not make a {proc_cls}: {exc}") from exc
    try:
        module, info = getattr(transformers, model_cls).from_pretrained(
            str(folder), local_files_only=True, output_loading_info=True)
    except Exception as exc:
        raise WeightsError(f"{folder / 'model.safetensors'} does not load as {model_cls} "
                           f"(truncated, or of another model): {exc}") from exc
    missing = list(info.get("missing_keys") or [])
    mismatched = list(info.get("mismatched_keys") or [])
    if missing or mismatched:
        what = missing or [m[0] if isinstance(m, tuple) else m for m in mismatched]
        raise WeightsError(
            f"{folder / 'model.safetensors'} does not fit its config.json: "
            f"{len(missing)} tensors missing, {len(mismatched)} of another shape (first: {what[0]}); "
            f"the file belongs to another model.")
    module.eval().to(device)
    from models.segmentation.heap import keep_freed_memory

    keep_freed_memory()  # a prompt's 1-8 MB tensors reuse freed heap instead of fresh pages (heap.py)
    return SegmentAnythingModel(card, module, processor, device, family)
