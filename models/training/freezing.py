"""Which parameters a fine-tune trains: the freezing schedules of the seeds."""

from __future__ import annotations

import torch

HEAD_NAMES = ("fc", "heads.head", "heads", "classifier", "head")


def _head(module: torch.nn.Module) -> torch.nn.Module:
    for name in HEAD_NAMES:
        sub = module
        try:
            for part in name.split("."):
                sub = getattr(sub, part)
        except AttributeError:
            continue
        if isinstance(sub, torch.nn.Module):
            return sub
    raise ValueError("cannot find the model's head (fc, heads.head or classifier)")


def apply_freezing(module: torch.nn.Module, schedule: str) -> list[torch.nn.Parameter]:
    """Set requires_grad per `schedule`; returns the trainable parameters.

    "none": train everything. "all_but_head": only the last layer(s) (fc / heads.head / classifier).
    "cnn_but_last_2_blocks" (Qing): the DenseNet features frozen except its last two dense blocks and
    what follows them; the projection, transformer and classifier train.
    """
    if schedule == "none":
        for p in module.parameters():
            p.requires_grad_(True)
    elif schedule == "all_but_head":
        for p in module.parameters():
            p.requires_grad_(False)
        for p in _head(module).parameters():
            p.requires_grad_(True)
    elif schedule == "cnn_but_last_2_blocks":
        for p in module.parameters():
            p.requires_grad_(True)
        features = getattr(module, "cnn_features", None) or getattr(module, "features", None)
        if features is None:
            raise ValueError("the model has no CNN features to freeze")
        names = [n for n, _ in features.named_children()]
        blocks = [i for i, n in enumerate(names) if n.startswith("denseblock") or n.startswith("layer")]
        first_trained = blocks[-2] if len(blocks) >= 2 else len(names)
        for i, (_, child) in enumerate(features.named_children()):
            if i < first_trained:
                for p in child.parameters():
                    p.requires_grad_(False)
    else:
        raise ValueError(f"unknown freezing schedule {schedule!r}")
    return [p for p in module.parameters() if p.requires_grad]


def set_train_mode(module: torch.nn.Module) -> None:
    """Train mode, but frozen submodules stay in eval mode (their BatchNorm statistics are kept)."""
    module.train()
    for m in module.modules():
        params = list(m.parameters(recurse=False))
        if params and not any(p.requires_grad for p in params):
            m.eval()
