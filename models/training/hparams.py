"""The seeds' training defaults, ready to pick (the panel and `loupe train` prefill from these).

- RF-DETR (the Heartformer card): 30 epochs, batch 4, gradient accumulation 4, lr 1e-4, AdamW,
  weight decay 1e-4, cosine with 5 warm-up epochs, early stopping patience 8, EMA, 640 px, flips and
  colour jitter.
- Qing: the CNN frozen but its last 2 dense blocks, lr 5e-6, patience 5, ReduceLROnPlateau.
- OASIS ResNet-18 / ViT (TemporalGradCam): the authors' recipe, `recipe: "authors"`: everything frozen
  but the head, Adam 1e-3, 25 epochs, early stopping patience 5, ReduceLROnPlateau (patience 3, factor
  0.1), no augmentation, no class weighting, the whole model in train mode (BatchNorm statistics of
  the frozen layers update, as theirs did). Loupe's augmentation and class weighting stay available:
  `augment="flip+rotate+jitter"`, `class_weighting=True` (docs/decisions/0094).

`train_mode`: "trainable" (Loupe: frozen submodules stay in eval mode) or "all" (`model.train()`).
`scheduler`: None or "plateau" (`plateau_patience`, `plateau_factor`; default patience // 2, 0.1).
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

# TemporalGradCam's training script, as MODELS.md section 3 reads it
OASIS_AUTHORS = {
    **CLASSIFIER_DEFAULT, "recipe": "authors", "epochs": 25, "lr": 1e-3, "optimizer": "adam", "weight_decay": 0.0,
    "patience": 5, "scheduler": "plateau", "plateau_patience": 3, "plateau_factor": 0.1,
    "freeze": "all_but_head", "augment": "none", "class_weighting": False, "train_mode": "all",
}

CLASSIFIER = {
    "qing": {**CLASSIFIER_DEFAULT, "lr": 5e-6, "patience": 5, "scheduler": "plateau",
             "freeze": "cnn_but_last_2_blocks"},
    "oasis-resnet18": dict(OASIS_AUTHORS),
    "oasis-vit": dict(OASIS_AUTHORS),
    "chexnet": {**CLASSIFIER_DEFAULT, "lr": 1e-4, "freeze": "all_but_head"},
}


def detector_defaults() -> dict:
    return dict(DETECTOR)


def classifier_defaults(architecture: str) -> dict:
    return dict(CLASSIFIER.get(architecture, CLASSIFIER_DEFAULT))


def defaults_for(task: str, architecture: str) -> dict:
    return detector_defaults() if task == "detection" else classifier_defaults(architecture)
