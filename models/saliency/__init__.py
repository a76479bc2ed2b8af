"""Saliency maps for every model: where it looked (Captum for classifiers; hooks for detectors).

    from models.saliency import explain
    heat = explain(model, rgb, "gradcam", target=None)   # (H, W) float32 in [0, 1], image-aligned

Methods: gradcam, guided-gradcam, guided-backprop, gradient-shap, integrated-gradients, occlusion,
input-x-gradient, saliency (Captum's InputXGradient and Saliency, as the TemporalGradCam authors show);
`smooth=True` (or a "smoothgrad-" prefix) wraps a gradient method in SmoothGrad (NoiseTunnel).
Detectors: `box=N` explains the N-th detection (its query's class logit); no box gives a
class-agnostic EigenCAM map of the whole image. Qing also offers method "attention" (its own map).
Importing this package does not import torch.
"""

from __future__ import annotations

METHODS = ("gradcam", "guided-gradcam", "guided-backprop", "gradient-shap", "integrated-gradients",
           "occlusion", "input-x-gradient", "saliency")
EXTRA_METHODS = ("attention", "eigencam")
SMOOTHABLE = ("gradcam", "guided-gradcam", "guided-backprop", "gradient-shap", "integrated-gradients",
              "input-x-gradient", "saliency")

__all__ = ["explain", "METHODS", "SMOOTHABLE"]


def explain(model, rgb, method: str = "gradcam", target=None, box=None, **opts):
    """(H, W) float32 map in [0, 1] over `rgb` (H, W, 3 uint8) of what drove `model`'s output.

    target: class index or class name (default: the top class / the box's class). box: detection
    index (detectors). opts: smooth (bool), nt_samples, nt_stdev, n_steps, n_samples, window,
    stride, internal_batch_size, threshold (detectors).
    """
    from models.errors import LoupeError

    method = method.lower().replace("_", "-")
    if method.startswith("smoothgrad-"):
        method, opts["smooth"] = method[len("smoothgrad-"):], True
    if method not in METHODS + EXTRA_METHODS:
        raise LoupeError(f"unknown saliency method {method!r}; choose one of {', '.join(METHODS)}")
    if opts.get("smooth") and method not in SMOOTHABLE:
        raise LoupeError(f"SmoothGrad does not apply to {method} (it is not gradient-based)")
    from models.saliency.state import explaining

    with explaining(model):
        if model.task == "detection":
            from models.saliency.detector import explain_detector

            return explain_detector(model, rgb, method, box=box, target=target, **opts)
        from models.saliency.classifier import explain_classifier

        return explain_classifier(model, rgb, method, target=target, **opts)
