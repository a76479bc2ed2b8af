"""The seeds' training defaults, ready to pick (the panel and `loupe train` prefill from these).

- RF-DETR (the Heartformer card): 30 epochs, batch 4, gradient accumulation 4, lr 1e-4, AdamW,
  weight decay 1e-4, cosine with 5 warm-up epochs, early stopping patience 8, EMA, 640 px, flips and
  colour jitter.
- Qing: the CNN frozen but its last 2 dense blocks, lr 5e-6, patience 5, ReduceLROnPlateau.
- OASIS ResNet-18 / ViT: everything frozen but the head, Adam 1e-3, early-stopping patience.
"""

from __future__ import annotations

DETECTOR = {
    "epochs": 30, "batch_size": 4, "grad_accum_steps": 4, "lr": 1e-4, "weight_decay": 1e-4,
    "optimizer": "adamw", "lr_scheduler": "cosine", "warmup_epochs": 5, "early_stopping_patience": 8,
    "ema": True, "resolution": 640, "augment": "flips+colour", "seed": 0,
}

CLASSIFIER_DEFAULT = {
    "epochs": 20, "batch_size": 16, "lr": 1e-3, "weight_decay": 0.0, "optimizer": "adam",
    "scheduler": None, "patience": 5, "freeze": "all_but_head", "class_weighting": True,
    "augment": "flip+rotate+jitter", "seed": 0,
}

CLASSIFIER = {
    "qing": {**CLASSIFIER_DEFAULT, "lr": 5e-6, "patience": 5, "scheduler": "plateau",
             "freeze": "cnn_but_last_2_blocks"},
    "oasis-resnet18": {**CLASSIFIER_DEFAULT, "lr": 1e-3, "patience": 5, "freeze": "all_but_head"},
    "oasis-vit": {**CLASSIFIER_DEFAULT, "lr": 1e-3, "patience": 5, "freeze": "all_but_head"},
    "chexnet": {**CLASSIFIER_DEFAULT, "lr": 1e-4, "freeze": "all_but_head"},
}


def detector_defaults() -> dict:
    return dict(DETECTOR)


def classifier_defaults(architecture: str) -> dict:
    return dict(CLASSIFIER.get(architecture, CLASSIFIER_DEFAULT))


def defaults_for(task: str, architecture: str) -> dict:
    return detector_defaults() if task == "detection" else classifier_defaults(architecture)
