"""How unsure a model is about one image: the score the review queue sorts by (decision 0130).

Pure functions of a model's outputs (plain floats and numpy, no torch at import, no Qt), plus
`mc_dropout_probabilities`, which runs a torch classifier N times with its dropout on.

- Detectors, `detection_uncertainty(scores, threshold)`: the number of predictions whose score lies
  in the ambiguous band |s - threshold| <= band, plus the mean binary entropy (bits) of the (at most
  `top_k`) most confident predictions the reviewer is shown (score >= threshold); when none reaches
  the threshold, of the single highest score. The count is an integer and the entropy lies in
  [0, 1], so images are ordered by how many doubtful boxes they carry, then by how unsure the boxes
  they show are. No prediction at all: 0 (the model is sure there is nothing).
- Single-label classifiers (softmax), `margin_uncertainty(probs)`: 1 - (p1 - p2), one minus the
  margin between the two most probable classes, in [0, 1].
- Multi-label classifiers (independent sigmoids, CheXNet), `multilabel_uncertainty(probs)`: the sum
  over labels of the binary entropy H2(p_j) in bits, which is the entropy of the model's whole
  (factorised) distribution over label sets; in [0, number of labels].
- Monte Carlo dropout (models with dropout, Qing), `mc_dropout_uncertainty(samples)`: N passes with
  dropout on; the entropy of the mean probability (as MONAI Label's EpistemicScoring), with the
  mutual information (BALD) beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

DETECTION_BAND = 0.1  # half-width of the ambiguous band around the threshold
DETECTION_TOP_K = 3
MC_PASSES = 10  # MONAI Label's EpistemicScoring default (num_samples)

METHODS = {
    "detection-band": "predictions within ±band of the threshold + mean binary entropy of the shown ones",
    "margin": "1 - (p1 - p2) of the two most probable classes",
    "binary-entropy-sum": "sum over labels of the binary entropy of each label's probability (bits)",
    "mc-dropout-entropy": "entropy of the mean probability over N passes with dropout on (bits)",
}


@dataclass(frozen=True)
class Uncertainty:
    value: float  # the sort key: larger = less sure
    method: str  # a key of METHODS
    detail: dict = field(default_factory=dict)  # the parts it was made of (stored as JSON)


def binary_entropy(p: float) -> float:
    """H2(p) = -p log2 p - (1 - p) log2 (1 - p), in bits; 0 at p = 0 or 1, 1 at p = 0.5."""
    p = float(p)
    if not 0.0 <= p <= 1.0 or math.isnan(p):
        raise ValueError(f"a probability lies in [0, 1], not {p}")
    if p in (0.0, 1.0):
        return 0.0
    return -(p * math.log2(p) + (1.0 - p) * math.log2(1.0 - p))


def entropy(probs: Iterable[float]) -> float:
    """Shannon entropy in bits of a categorical distribution (probabilities summing to one)."""
    return float(-sum(p * math.log2(p) for p in map(float, probs) if p > 0.0))


def detection_uncertainty(scores: Sequence[float], threshold: float, band: float = DETECTION_BAND,
                          top_k: int = DETECTION_TOP_K) -> Uncertainty:
    """See the module's docstring. `scores`: every stored prediction's score on the image."""
    s = sorted((float(x) for x in scores), reverse=True)
    t = float(threshold)
    n_band = sum(1 for x in s if abs(x - t) <= band + 1e-12)
    shown = [x for x in s if x >= t][:top_k]
    top = shown or s[:1]
    top_entropy = sum(binary_entropy(x) for x in top) / len(top) if top else 0.0
    return Uncertainty(n_band + top_entropy, "detection-band",
                       {"in_band": n_band, "top_entropy": round(top_entropy, 6), "shown": len(shown),
                        "threshold": t, "band": band, "top_k": top_k})


def margin_uncertainty(probs: Mapping[str, float]) -> Uncertainty:
    """1 - (p1 - p2) over the two most probable classes (p2 = 0 when there is one class only)."""
    ranked = sorted(probs.items(), key=lambda kv: kv[1], reverse=True)
    if not ranked:
        return Uncertainty(0.0, "margin", {})
    p1 = float(ranked[0][1])
    p2 = float(ranked[1][1]) if len(ranked) > 1 else 0.0
    detail = {"top": ranked[0][0], "p1": p1, "p2": p2}
    if len(ranked) > 1:
        detail["second"] = ranked[1][0]
    return Uncertainty(1.0 - (p1 - p2), "margin", detail)


def multilabel_uncertainty(probs: Mapping[str, float]) -> Uncertainty:
    """Sum of per-label binary entropies (bits); `detail` names the least certain label."""
    per = {name: binary_entropy(p) for name, p in probs.items()}
    if not per:
        return Uncertainty(0.0, "binary-entropy-sum", {})
    worst = max(per, key=per.get)
    return Uncertainty(float(sum(per.values())), "binary-entropy-sum",
                       {"least_certain": worst, "its_entropy": round(per[worst], 6), "labels": len(per)})


def classification_uncertainty(probs: Mapping[str, float], multi_label: bool) -> Uncertainty:
    return multilabel_uncertainty(probs) if multi_label else margin_uncertainty(probs)


def mc_dropout_uncertainty(samples: Sequence[Mapping[str, float]], multi_label: bool) -> Uncertainty:
    """`samples`: N >= 2 {class: probability} dicts from passes with dropout on. The value is the
    entropy of the mean probability, in bits: for independent labels the sum of H2(mean p_j), else
    the categorical entropy of the mean distribution. `detail["mutual_information"]` is that minus
    the mean entropy of the single passes (BALD: the part due to the model's own uncertainty)."""
    if len(samples) < 2:
        raise ValueError("Monte Carlo dropout needs at least 2 passes")
    names = list(samples[0])
    arr = np.array([[float(s[n]) for n in names] for s in samples], dtype=np.float64)
    mean = arr.mean(axis=0)

    def h(row) -> float:
        if multi_label:
            return float(sum(binary_entropy(min(max(p, 0.0), 1.0)) for p in row))
        return entropy(row)

    total = h(mean)
    expected = float(np.mean([h(row) for row in arr]))
    return Uncertainty(total, "mc-dropout-entropy",
                       {"passes": len(samples), "mutual_information": round(total - expected, 6),
                        "mean": {n: round(float(p), 6) for n, p in zip(names, mean)}})


def has_dropout(module) -> bool:
    """True when a torch module holds a dropout with p > 0 (so its passes can differ)."""
    from torch import nn

    for m in module.modules():
        if isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0:
            return True
        if isinstance(m, nn.MultiheadAttention) and m.dropout > 0:
            return True
    return False


def mc_dropout_probabilities(model, rgb, passes: int = MC_PASSES, seed: int | None = 0) -> list[dict[str, float]]:
    """`passes` {class: probability} of a torch classifier (models.classification.common
    TorchClassifier) on one image, with ONLY its dropout layers (and attention dropout) in train
    mode: BatchNorm and everything else stay in eval, unlike MONAI Label, which puts the whole network
    in train mode (with a batch of one image, BatchNorm would then normalise by that image alone).
    The image is preprocessed once and the passes run as one batch. The model is back in eval after."""
    import torch
    from torch import nn

    module = model.torch_module
    switched = [m for m in module.modules()
                if isinstance(m, (nn.modules.dropout._DropoutNd, nn.MultiheadAttention))]
    x = model.preprocess(rgb)
    generator_state = torch.random.get_rng_state()
    try:
        if seed is not None:
            torch.manual_seed(seed)
        for m in switched:
            m.train()
        with torch.inference_mode():
            batch = x.expand(passes, *x.shape[1:]).contiguous(memory_format=getattr(model, "_memory_format",
                                                                                    torch.contiguous_format))
            probs = model.probabilities(model.forward_logits(batch))
        return [model._as_dict(p) for p in probs]
    finally:
        for m in switched:
            m.eval()
        if seed is not None:
            torch.random.set_rng_state(generator_state)
