"""Saliency for detectors (RF-DETR), at the backbone's projector (the features the decoder reads).

- One box (`box=N`, the N-th detection by score, as `detect` lists them): Grad-CAM of that query's
  class logit (or of `target`'s logit for the same query) with respect to the projector's feature
  maps, ReLU, summed over levels.
- No box: EigenCAM (Muhammad & Yeasin 2020): the first principal component of the projector's
  activations, class-agnostic, one forward pass and no gradients.
Uses the detector's seam: `preprocess`, `raw_outputs` (gradients flow outside inference mode),
`saliency_layer()` (the backbone; its `[0].projector` when it has one), `class_names`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from models.errors import LoupeError
from models.saliency.maps import normalise


def _projector(model):
    layer = model.saliency_layer()
    try:
        return layer[0].projector
    except (TypeError, AttributeError, IndexError):
        return layer


def _capture(module):
    store: list = []

    def hook(_m, _inp, out):
        store.append(list(out) if isinstance(out, (list, tuple)) else [out])

    return store, module.register_forward_hook(hook)


def _feature_maps(level) -> torch.Tensor:
    """A projector output (tensor, or an object holding `.tensors` such as NestedTensor) -> tensor."""
    t = getattr(level, "tensors", level)
    if not isinstance(t, torch.Tensor) or t.ndim != 4:
        raise LoupeError("the detector's projector does not give (B, C, h, w) feature maps")
    return t


def ranked_queries(model, logits: torch.Tensor, threshold: float) -> list[tuple[int, int, float]]:
    """(query, class, score) of the detections in `detect`'s order: sigmoid scores over
    query x class, top-k by score (rfdetr's postprocess), above `threshold`."""
    prob = torch.sigmoid(logits[0].detach().float())  # (Q, K)
    n_q, n_k = prob.shape
    num_select = int(getattr(getattr(model.rfdetr.model, "postprocess", None), "num_select", 300)) \
        if hasattr(model, "rfdetr") else 300
    scores, idx = prob.flatten().topk(min(num_select, n_q * n_k))
    return [(int(i) // n_k, int(i) % n_k, float(s)) for s, i in zip(scores, idx) if s > threshold]


def _to_image(cam: torch.Tensor, size) -> np.ndarray:
    m = F.interpolate(cam[None, None].float(), size=tuple(size), mode="bilinear", align_corners=False)[0, 0]
    return normalise(torch.nan_to_num(m).clamp(min=0).cpu().numpy())


def box_gradcam(model, rgb, box: int, target=None, threshold=None) -> np.ndarray:
    size = np.asarray(rgb).shape[:2]
    threshold = model.card.default_threshold if threshold is None else float(threshold)
    store, handle = _capture(_projector(model))
    x = model.preprocess(rgb).detach().requires_grad_(True)  # parameters are frozen while explaining
    try:
        out = model.raw_outputs(x)
    finally:
        handle.remove()
    logits = out["pred_logits"]
    dets = ranked_queries(model, logits, threshold)
    if not 0 <= box < len(dets):
        raise LoupeError(f"box {box} does not exist: {model.name} found {len(dets)} box(es) above "
                         f"threshold {threshold}")
    query, cls, _ = dets[box]
    if target is not None:
        names = model.class_names
        cls = names.index(target) if isinstance(target, str) and target in names else int(target)
        if not 0 <= cls < logits.shape[-1]:
            raise LoupeError(f"target class {target!r} is out of range for {model.name}")
    feats = [_feature_maps(level) for level in store[0]]
    grads = torch.autograd.grad(logits[0, query, cls], feats, allow_unused=True)
    cam = None
    for a, g in zip(feats, grads):
        if g is None:
            continue
        level = torch.relu((g.mean(dim=(2, 3), keepdim=True) * a).sum(1))[0].detach()
        level = F.interpolate(level[None, None], size=feats[0].shape[2:], mode="bilinear",
                              align_corners=False)[0, 0]
        cam = level if cam is None else cam + level
    if cam is None:
        raise LoupeError(f"{model.name}: the box's score does not depend on the projector's features")
    return _to_image(cam, size)


@torch.no_grad()
def eigencam(model, rgb) -> np.ndarray:
    size = np.asarray(rgb).shape[:2]
    store, handle = _capture(_projector(model))
    try:
        model.raw_outputs(model.preprocess(rgb))
    finally:
        handle.remove()
    total = None
    for level in store[0]:
        a = _feature_maps(level)[0].float()  # (C, h, w)
        c, h, w = a.shape
        flat = a.reshape(c, h * w).T  # (hw, C)
        centred = flat - flat.mean(dim=0, keepdim=True)
        _, _, vh = torch.linalg.svd(centred, full_matrices=False)
        proj = (centred @ vh[0]).reshape(h, w)
        energy = flat.norm(dim=1).reshape(h, w)  # principal directions have no sign: follow the energy
        if torch.sum(proj * (energy - energy.mean())) < 0:
            proj = -proj
        first = _feature_maps(store[0][0]).shape[2:]
        proj = F.interpolate(proj[None, None], size=first, mode="bilinear", align_corners=False)[0, 0]
        total = proj if total is None else total + proj
    return _to_image(total.clamp(min=0), size)


def explain_detector(model, rgb, method: str, box=None, target=None, threshold=None, smooth=False,
                     **_opts) -> np.ndarray:
    if smooth:
        raise LoupeError("SmoothGrad is not offered for detectors")
    if box is None:
        if method not in ("eigencam", "gradcam"):
            raise LoupeError(f"{method} needs a box on a detector (--box N); without one Loupe gives "
                             "the class-agnostic EigenCAM map")
        return eigencam(model, rgb)
    if method not in ("gradcam",):
        raise LoupeError(f"detectors offer gradcam for one box (--box N) and eigencam for the image; not {method}")
    return box_gradcam(model, rgb, int(box), target=target, threshold=threshold)
