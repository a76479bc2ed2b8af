"""Run saliency with gradients on, and leave the model exactly as it was found."""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def explaining(model):
    """Gradients enabled (also inside an outer `torch.inference_mode`), eval mode, no parameter
    gradients; the module's train/eval flags and each parameter's requires_grad are restored after."""
    import torch

    module = model.torch_module
    modes = {m: m.training for m in module.modules()}
    flags = {p: p.requires_grad for p in module.parameters()}
    try:
        with torch.inference_mode(False), torch.enable_grad():
            module.eval()
            for p in flags:
                p.requires_grad_(False)
            yield
    finally:
        for m, training in modes.items():
            m.training = training
        for p, flag in flags.items():
            p.requires_grad_(flag)
