"""Is a saliency map faithful? Deletion and insertion curves (Petsiuk et al., RISE, 2018).

Deletion: hide the pixels the map ranks highest first (replace them with the baseline) and watch
the target's probability fall; a faithful map makes it fall fast (small area under the curve).
Insertion: start from a blurred image and put the top-ranked pixels back; a faithful map makes the
probability rise fast (large area). Score = insertion AUC - deletion AUC (higher is better; a
random map scores about 0). Works in the model's input space; perturbed images go through the
model in batches of `batch_size`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class Faithfulness:
    deletion: float  # AUC of the deletion curve, 0..1 (lower is better)
    insertion: float  # AUC of the insertion curve, 0..1 (higher is better)
    deletion_curve: list[float]
    insertion_curve: list[float]

    @property
    def score(self) -> float:
        return self.insertion - self.deletion


def class_probabilities(model, logits: torch.Tensor) -> torch.Tensor:
    """(B, K) logits -> (B, number of classes) probabilities, as the model reports them."""
    if logits.shape[1] == 1:
        p = torch.sigmoid(logits)
        return torch.cat([1 - p, p], dim=1) if len(model.class_names) == 2 else p
    if getattr(model, "multi_label", False):
        return torch.sigmoid(logits)
    return torch.softmax(logits, dim=1)


def _auc(curve: list[float]) -> float:
    y = np.asarray(curve, dtype=np.float64)
    return float(((y[1:] + y[:-1]) / 2).mean()) if len(y) > 1 else float(y.mean())


@torch.no_grad()
def deletion_insertion(model, rgb, saliency: np.ndarray, target=None, steps: int = 16,
                       batch_size: int = 8, blur_sigma: float | None = None, seed: int = 0) -> Faithfulness:
    """Deletion and insertion curves of `saliency` ((H, W), aligned with `rgb`) for `target`."""
    from torchvision.transforms.functional import gaussian_blur

    from models.saliency.classifier import LogitsNet, resolve_target

    module = model.torch_module
    modes = {m: m.training for m in module.modules()}
    module.eval()
    try:
        x = model.preprocess(rgb).detach()
        target = resolve_target(model, LogitsNet(model), x, target)
        h, w = x.shape[2:]
        sal = torch.as_tensor(np.asarray(saliency, np.float32))[None, None]
        sal = F.interpolate(sal, size=(h, w), mode="bilinear", align_corners=False)[0, 0].flatten()
        jitter = torch.rand(sal.shape, generator=torch.Generator().manual_seed(seed)) * 1e-6
        order = torch.argsort(sal + jitter, descending=True).to(x.device)  # ties broken at random
        sigma = blur_sigma or max(h, w) / 8
        k = int(2 * round(3 * sigma) + 1)
        blurred = gaussian_blur(x, [k, k], [sigma, sigma])
        zeros = torch.zeros_like(x)
        counts = [round(i * h * w / steps) for i in range(steps + 1)]

        def curve(start: torch.Tensor, end: torch.Tensor) -> list[float]:
            out: list[float] = []
            for b in range(0, len(counts), batch_size):
                batch = []
                for n in counts[b:b + batch_size]:
                    mask = torch.zeros(h * w, device=x.device)
                    mask[order[:n]] = 1.0
                    mask = mask.view(1, 1, h, w)
                    batch.append(start * (1 - mask) + end * mask)
                probs = class_probabilities(model, model.forward_logits(torch.cat(batch)))
                out.extend(probs[:, target].float().cpu().tolist())
            return out

        deletion = curve(x, zeros)
        insertion = curve(blurred, x)
    finally:
        for m, training in modes.items():
            m.training = training
    return Faithfulness(_auc(deletion), _auc(insertion), deletion, insertion)
