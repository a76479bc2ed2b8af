"""Captum saliency for classifiers, through the LoupeModel seam (`preprocess`, `forward_logits`,
`saliency_layer`, and a ViT's `reshape_transform`)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from models.errors import LoupeError
from models.saliency.maps import resize_map, to_image_map

DEFAULTS = {"n_steps": 32, "n_samples": 16, "internal_batch_size": 8, "nt_samples": 8, "nt_stdev": 0.15}


class LogitsNet(nn.Module):
    """`model.forward_logits` as an nn.Module whose children are the model's modules (Captum's
    guided backprop hooks their ReLUs). A single-logit binary model gets (-logit, logit), so target
    0 is the negative class and 1 the positive one."""

    def __init__(self, model):
        super().__init__()
        self.net = model.torch_module
        object.__setattr__(self, "_model", model)

    def forward(self, x):
        logits = self._model.forward_logits(x)
        if logits.ndim == 1:
            logits = logits[:, None]
        if logits.shape[1] == 1 and len(self._model.class_names) == 2:
            logits = torch.cat([-logits, logits], dim=1)
        return logits


def resolve_target(model, net: LogitsNet, x: torch.Tensor, target) -> int:
    names = model.class_names
    if target is None:
        with torch.no_grad():
            return int(net(x)[0].argmax())
    if isinstance(target, str) and not target.lstrip("-").isdigit():
        if target not in names:
            raise LoupeError(f"{model.name} has no class {target!r}; classes: {', '.join(names)}")
        return names.index(target)
    idx = int(target)
    with torch.no_grad():
        n = int(net(x).shape[1])
    if not 0 <= idx < n:
        raise LoupeError(f"target class {idx} is out of range for {model.name} ({n} outputs)")
    return idx


def _reshape(model):
    return getattr(model, "reshape_transform", None)


def gradcam_layer(model, net, x, target, smooth=False, **o) -> torch.Tensor:
    """(1, 1, h, w) Grad-CAM at the saliency layer: ReLU(sum_k mean(dy/dA_k) A_k) (Selvaraju et al.)."""
    from captum.attr import LayerGradCam, NoiseTunnel

    layer, reshape = model.saliency_layer(), _reshape(model)
    if reshape is None:
        attr = LayerGradCam(net, layer)
        if smooth:
            return NoiseTunnel(attr).attribute(x, nt_samples=o["nt_samples"], stdevs=_stdev(x, o),
                                               nt_samples_batch_size=o["internal_batch_size"],
                                               target=target, relu_attributions=True)
        return attr.attribute(x, target=target, relu_attributions=True)
    from captum._utils.gradient import compute_layer_gradients_and_eval

    def cam(inp):
        grads, acts = compute_layer_gradients_and_eval(net, layer, inp, target_ind=target)
        g, a = reshape(grads[0]), reshape(acts[0])
        return torch.relu((g.mean(dim=(2, 3), keepdim=True) * a).sum(1, keepdim=True)).detach()

    if not smooth:
        return cam(x)
    return _average_noisy(cam, x, o)


def _stdev(x, o) -> float:
    return float(o["nt_stdev"]) * float(x.max() - x.min())


def _average_noisy(fn, x, o) -> torch.Tensor:
    gen = torch.Generator(device="cpu").manual_seed(0)
    total = None
    for _ in range(int(o["nt_samples"])):
        noise = torch.randn(x.shape, generator=gen).to(x.device) * _stdev(x, o)
        a = fn(x + noise)
        total = a if total is None else total + a
    return total / int(o["nt_samples"])


def _guided_backprop(net, x, target, smooth, o):
    from captum.attr import GuidedBackprop, NoiseTunnel

    gb = GuidedBackprop(net)
    if smooth:
        return NoiseTunnel(gb).attribute(x, nt_samples=o["nt_samples"], stdevs=_stdev(x, o),
                                         nt_samples_batch_size=o["internal_batch_size"], target=target)
    return gb.attribute(x, target=target)


def _gradient_shap(net, x, target, o):
    """Gradient SHAP with zero baselines (as the TemporalGradCam authors); samples drawn in chunks of
    `internal_batch_size` so memory stays bounded, then averaged."""
    from captum.attr import GradientShap

    gs, n, chunk = GradientShap(net), int(o["n_samples"]), int(o["internal_batch_size"])
    torch.manual_seed(0)
    total, done = None, 0
    while done < n:
        k = min(chunk, n - done)
        a = gs.attribute(x, baselines=torch.zeros_like(x), n_samples=k, stdevs=0.0, target=target) * k
        total, done = (a if total is None else total + a), done + k
    return total / n


def _guided_gradcam(model, net, x, target, smooth, o):
    """Captum's GuidedGradCam: Grad-CAM upsampled to the input with Captum's default (nearest),
    times guided backprop. A ViT's token map goes through its reshape first, then the same steps."""
    from captum.attr import GuidedGradCam, LayerAttribution, NoiseTunnel

    if _reshape(model) is None:
        ggc = GuidedGradCam(net, model.saliency_layer())
        if smooth:
            return NoiseTunnel(ggc).attribute(x, nt_samples=o["nt_samples"], stdevs=_stdev(x, o),
                                              nt_samples_batch_size=o["internal_batch_size"], target=target)
        return ggc.attribute(x, target=target)
    cam = gradcam_layer(model, net, x, target, smooth, **o)
    cam = LayerAttribution.interpolate(cam, tuple(x.shape[2:]), interpolate_mode="nearest")
    return cam * _guided_backprop(net, x, target, smooth, o)


def _gradient(cls, net, x, target, smooth, o):
    """Captum's Saliency (|gradient|, its default abs=True) or InputXGradient, optionally SmoothGrad."""
    from captum.attr import NoiseTunnel

    attr = cls(net)
    if smooth:
        return NoiseTunnel(attr).attribute(x, nt_samples=o["nt_samples"], stdevs=_stdev(x, o),
                                           nt_samples_batch_size=o["internal_batch_size"], target=target)
    return attr.attribute(x, target=target)


def _attribute(model, net, x, method, target, smooth, o) -> tuple[torch.Tensor, str]:
    from captum.attr import InputXGradient, IntegratedGradients, NoiseTunnel, Occlusion, Saliency

    if method == "gradcam":
        return gradcam_layer(model, net, x, target, smooth, **o), "cam"
    if method == "guided-backprop":
        return _guided_backprop(net, x, target, smooth, o), "abs"
    if method == "guided-gradcam":
        return _guided_gradcam(model, net, x, target, smooth, o), "abs"
    if method == "saliency":  # Simonyan et al.: the gradient's magnitude
        return _gradient(Saliency, net, x, target, smooth, o), "abs"
    if method == "input-x-gradient":
        return _gradient(InputXGradient, net, x, target, smooth, o), "positive"  # evidence for the target
    if method == "integrated-gradients":
        ig = IntegratedGradients(net)
        kw = {"baselines": torch.zeros_like(x), "n_steps": int(o["n_steps"]), "target": target,
              "internal_batch_size": int(o["internal_batch_size"])}
        if smooth:
            return NoiseTunnel(ig).attribute(x, nt_samples=o["nt_samples"], stdevs=_stdev(x, o),
                                             nt_samples_batch_size=1, **kw), "positive"
        return ig.attribute(x, **kw), "positive"  # evidence for the target (signed methods)
    if method == "gradient-shap":
        if smooth:
            return _average_noisy(lambda inp: _gradient_shap(net, inp, target, o), x, o), "positive"
        return _gradient_shap(net, x, target, o), "positive"
    if method == "occlusion":
        h, w = x.shape[2:]
        win = int(o.get("window") or max(8, round(min(h, w) / 8)))
        stride = int(o.get("stride") or max(1, win // 2))
        attr = Occlusion(net).attribute(
            x, sliding_window_shapes=(x.shape[1], win, win), strides=(x.shape[1], stride, stride),
            baselines=0.0, target=target, perturbations_per_eval=int(o["internal_batch_size"]))
        return attr, "positive"  # positive: the class score fell when this patch was hidden
    raise LoupeError(f"{method} does not apply to {model.task} models")


def explain_classifier(model, rgb, method: str, target=None, smooth: bool = False, **opts) -> np.ndarray:
    size = np.asarray(rgb).shape[:2]
    if method == "attention":
        if not hasattr(model, "attention_map"):
            raise LoupeError(f"{model.name} has no attention map of its own")
        return resize_map(model.attention_map(rgb), size)
    if method == "eigencam":
        raise LoupeError("eigencam is for detectors; use gradcam on a classifier")
    attr, mode = attribution(model, rgb, method, target, smooth, **opts)
    return to_image_map(attr, size, mode)


def attribution(model, rgb, method: str, target=None, smooth: bool = False, **opts) -> tuple[torch.Tensor, str]:
    """(raw attribution over the preprocessed input, how it becomes a map): what Captum returns."""
    o = {**DEFAULTS, **{k: v for k, v in opts.items() if v is not None}}
    net = LogitsNet(model)
    x = model.preprocess(rgb).detach().clone()
    target = resolve_target(model, net, x, target)
    return _attribute(model, net, x, method, target, smooth, o)
