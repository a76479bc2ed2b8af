"""RF-DETR fine-tuning through rfdetr's own Lightning training (`RFDETR.train`), with a callback
that reports progress in Loupe's protocol and stops after the current step when asked.

Loupe does not re-implement the loop: it calls `RFDETRNano(...).train(...)` and adds its callback to
the Trainer that rfdetr's `build_trainer` assembles (docs/decisions/0061). DataLoader workers default
to 0 (works on macOS, Windows and in a frozen app); AMP stays off on MPS and CPU. Multi-GPU: run
`torchrun --nproc_per_node N -m desktop train detector ... --device cuda` (rfdetr's DDP strategy).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from models.training.outputs import CARD_NAME, TrainingInputError, dataset_hash, save_weights
from models.training.progress import EtaClock, Progress, StopFlag, TrainingCancelled

VARIANTS = {"rfdetr-nano": "RFDETRNano", "rfdetr-small": "RFDETRSmall", "rfdetr-medium": "RFDETRMedium",
            "rfdetr-large": "RFDETRLarge"}
BIG_FILES = (".pth", ".ckpt")


def _progress_callback(progress: Progress, stop: StopFlag, epochs: int):
    from pytorch_lightning import Callback

    class LoupeProgress(Callback):
        def __init__(self):
            self.last_emit = 0.0
            self.step_t0 = None
            self.eta = None
            self.epoch_seen = 0
            self.zero = True

        def on_train_start(self, trainer, pl_module):
            self.zero = trainer.is_global_zero  # DDP: one progress stream, from rank 0
            steps = int(trainer.num_training_batches) if trainer.num_training_batches != float("inf") else 0
            self.eta = EtaClock(epochs * max(steps, 1))
            if self.zero:
                progress.emit("start", task="detection", epochs=epochs, steps_per_epoch=steps,
                              device=str(pl_module.device), out=str(trainer.default_root_dir))

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            self.step_t0 = time.perf_counter()

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            left = self.eta.tick()
            now = time.monotonic()
            if self.zero and (now - self.last_emit > 1.0 or batch_idx == 0):
                self.last_emit = now
                loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
                n = len(batch[1]) if isinstance(batch, (list, tuple)) and len(batch) > 1 else None
                dt = time.perf_counter() - (self.step_t0 or now)
                progress.emit("step", epoch=trainer.current_epoch + 1, step=batch_idx + 1,
                              steps=int(trainer.num_training_batches),
                              loss=float(loss.detach()) if loss is not None else None,
                              lr=trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else None,
                              eta_s=left, images_per_s=(n / dt) if n and dt > 0 else None)
            if stop.requested:
                raise TrainingCancelled("training stopped on request")

        def on_train_epoch_end(self, trainer, pl_module):
            if not self.zero:
                return
            m = {k: v for k, v in trainer.callback_metrics.items()}

            def g(*keys):
                for k in keys:
                    if k in m:
                        return float(m[k])
                return None

            metrics = {"map50": g("val/ema_mAP_50", "val/mAP_50"), "map50_95": g("val/ema_mAP_50_95",
                                                                                  "val/mAP_50_95")}
            progress.emit("epoch", epoch=trainer.current_epoch + 1, epochs=epochs,
                          train_loss=g("train/loss_epoch", "train/loss"), val_loss=g("val/loss"),
                          metrics=metrics, eta_s=self.eta.tick(0))

    return LoupeProgress()


@contextlib.contextmanager
def _with_callback(callback):
    """Add `callback` to the Trainer that rfdetr's train() builds (rfdetr imports build_trainer from
    rfdetr.training at call time)."""
    import rfdetr.training as rt

    original = rt.build_trainer
    attached = []

    def build_trainer(*args, **kwargs):
        trainer = original(*args, **kwargs)
        trainer.callbacks.append(callback)
        attached.append(trainer)
        return trainer

    rt.build_trainer = build_trainer
    try:
        yield attached
    finally:
        rt.build_trainer = original


def check_roboflow_layout(data: Path) -> list[str]:
    """Class names of a Roboflow COCO export (train/ and valid/ with _annotations.coco.json)."""
    for split in ("train", "valid"):
        f = data / split / "_annotations.coco.json"
        if not f.is_file():
            raise TrainingInputError(f"{data}: not a Roboflow COCO export ({split}/_annotations.coco.json missing)")
    try:
        d = json.loads((data / "train" / "_annotations.coco.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TrainingInputError(f"{data / 'train' / '_annotations.coco.json'}: cannot read it ({exc})") from None
    if not d.get("annotations"):
        raise TrainingInputError(f"{data}: the training split has no boxes")
    # rfdetr's own filter: a Roboflow parent category (no boxes) takes no output slot and no label index
    from rfdetr.datasets.coco import annotated_category_ids, filter_parent_categories

    kept = filter_parent_categories(d.get("categories", []), annotated_category_ids(d))
    return [c["name"] for c in kept]


def _base_checkpoint(weights: Path, out: Path) -> str:
    """rfdetr loads `pretrain_weights` from a .pth {"model": state_dict}: write the base weights so."""
    import torch

    from models.weights import read_weights

    obj = read_weights(weights)
    sd = obj.get("model", obj) if isinstance(obj, dict) else obj
    if isinstance(sd, dict) and "state_dict" in sd and not hasattr(sd["state_dict"], "shape"):
        sd = {k[6:] if k.startswith("model.") else k: v for k, v in sd["state_dict"].items()}
    path = out / "rfdetr" / "base.pth"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": sd}, path)
    return str(path)


def card_augmentation() -> dict:
    """The Heartformer card's training augmentation as rfdetr `aug_config` (its Albumentations hook):
    horizontal flip, brightness/contrast, colour jitter, gaussian noise, and no vertical flip (a heart
    image upside down is not a training example the card used; docs/decisions/0089). The card names
    the transforms, not their strengths: each takes the parameters of the rfdetr preset that has it."""
    from rfdetr.datasets.aug_configs import AUG_AGGRESSIVE, AUG_CONSERVATIVE, AUG_INDUSTRIAL

    return {"HorizontalFlip": dict(AUG_CONSERVATIVE["HorizontalFlip"]),
            "RandomBrightnessContrast": dict(AUG_CONSERVATIVE["RandomBrightnessContrast"]),
            "ColorJitter": dict(AUG_AGGRESSIVE["ColorJitter"]),
            "GaussNoise": dict(AUG_INDUSTRIAL["GaussNoise"])}


def augmentation(hp: dict, progress: Progress | None = None) -> dict | None:
    """rfdetr's `aug_config` for the hyperparameters' `augment`: "none" -> {} (all off); the seeds'
    "flips+colour" -> the card's transforms (`card_augmentation`) through rfdetr[augment]
    (albumentations); without albumentations -> None (rfdetr's built-in horizontal flip), said in the log."""
    import importlib.util

    kind = str(hp.get("augment", "")).lower()
    if kind == "none":
        return {}
    if "colour" not in kind and "color" not in kind:
        return None
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no update check over the network
    if importlib.util.find_spec("albumentations"):
        return card_augmentation()
    if progress is not None:
        progress.emit("log", message="colour jitter and noise need rfdetr[augment] (albumentations); "
                                     "training with rfdetr's built-in flips only")
    return None


def rfdetr_train_kwargs(data_dir, work: Path, hp: dict, device: str = "cpu", num_workers: int = 0,
                        progress: Progress | None = None) -> dict:
    """The keyword arguments Loupe passes to `RFDETR.train` (the benchmark calls rfdetr with the same)."""
    kwargs = dict(
        dataset_dir=str(data_dir), output_dir=str(work), epochs=int(hp["epochs"]), batch_size=int(hp["batch_size"]),
        grad_accum_steps=int(hp["grad_accum_steps"]), lr=float(hp["lr"]), weight_decay=float(hp["weight_decay"]),
        warmup_epochs=float(hp.get("warmup_epochs", 0)), lr_scheduler=hp.get("lr_scheduler", "cosine"),
        early_stopping=int(hp.get("early_stopping_patience", 0)) > 0,
        early_stopping_patience=max(1, int(hp.get("early_stopping_patience", 8))),
        use_ema=bool(hp.get("ema", True)), resolution=int(hp["resolution"]), device=device,
        num_workers=num_workers, tensorboard=False, progress_bar=None, seed=int(hp.get("seed", 0)),
        aug_config=augmentation(hp, progress), multi_scale=bool(hp.get("multi_scale", False)),
        compute_val_loss=True, run_test=False,
    )
    if device.startswith("mps") or device == "cpu":
        kwargs["amp_dtype"] = None  # mixed precision off on MPS (and pointless on CPU)
    devices = int(hp.get("devices", 1) or 1)
    if devices > 1:  # several GPUs: Lightning's DDP (its own launcher, or torchrun's environment)
        kwargs.update(devices=devices, strategy=hp.get("strategy") or "ddp")
        kwargs["device"] = device.split(":")[0]
    return kwargs


def train_detector(data_dir, out: Path, hp: dict, progress: Progress, stop: StopFlag,
                   architecture: str = "rfdetr-nano", weights: Path | None = None, base_card=None,
                   device: str = "cpu", num_workers: int = 0, keep_checkpoints: bool = False) -> Path:
    import dataclasses

    import rfdetr

    from models.base import ModelCard
    from models.metrics.report import write_report
    from models.registry import write_card

    data_dir = Path(data_dir)
    class_names = check_roboflow_layout(data_dir)
    if architecture not in VARIANTS:
        raise TrainingInputError(f"{architecture}: not an RF-DETR detector Loupe can fine-tune "
                                 f"({', '.join(VARIANTS)})")
    work = out / "rfdetr"
    work.mkdir(parents=True, exist_ok=True)
    pretrain = _base_checkpoint(Path(weights), out) if weights else None
    model = getattr(rfdetr, VARIANTS[architecture])(pretrain_weights=pretrain, num_classes=len(class_names))
    kwargs = rfdetr_train_kwargs(data_dir, work, hp, device, num_workers, progress)
    epochs = kwargs["epochs"]
    callback = _progress_callback(progress, stop, epochs)
    try:
        with _with_callback(callback) as attached:
            model.train(**kwargs)
    except BaseException:
        _remove_big_files(work, keep_checkpoints)
        raise
    if not attached:
        raise RuntimeError("rfdetr did not build its trainer through rfdetr.training.build_trainer")
    if not attached[-1].is_global_zero:  # DDP: only rank 0 writes the model, card and report
        _remove_big_files(work, keep_checkpoints)
        return out / CARD_NAME
    class_names = list(getattr(model.model, "class_names", None) or class_names)
    best = next((work / n for n in ("checkpoint_best_total.pth", "checkpoint_best_ema.pth")
                 if (work / n).is_file()), None)
    if best is not None:
        import torch

        state = torch.load(best, map_location="cpu", weights_only=True)["model"]
    else:
        state = model.model.model.state_dict()
    save_weights(state, out)
    metrics = _evaluate(state, architecture, class_names, int(hp["resolution"]), data_dir, out, device)
    base = base_card or ModelCard(name=architecture, architecture=architecture, task="detection")
    card = dataclasses.replace(
        base, name=out.name, architecture=architecture, task="detection", class_names=class_names,
        weights="weights.safetensors", default_threshold=base.default_threshold or 0.3,
        description=f"{base.name} fine-tuned on {data_dir.name}",
        preprocessing={**(base.preprocessing or {}), "resolution": int(hp["resolution"])},
        controls=list(base.controls or ["threshold", "class_filter", "device"]),
        extra={"parent_model": base.name, "parent_weights": str(weights) if weights else None,
               "dataset": str(data_dir), "dataset_hash": dataset_hash(data_dir),
               "split": {s: len(list((data_dir / s).glob("*.jpg")) + list((data_dir / s).glob("*.png")))
                         for s in ("train", "valid", "test") if (data_dir / s).is_dir()},
               "hyperparameters": hp, "metrics": {k: metrics.get(k) for k in ("map50", "map50_95", "map75")}})
    card_path = write_card(card, out / CARD_NAME)
    if metrics:
        write_report(out / "report.html", metrics, title=f"Fine-tuned {card.name}", history=progress.history,
                     notes={"parent model": base.name, "dataset hash": card.extra["dataset_hash"]})
    _remove_big_files(work, keep_checkpoints)
    progress.emit("done", out=str(out), card=str(card_path), metrics=card.extra["metrics"])
    return card_path


def _remove_big_files(work: Path, keep: bool) -> None:
    if not keep:
        for p in work.rglob("*"):
            if p.suffix in BIG_FILES:
                p.unlink()


def _evaluate(state, architecture, class_names, resolution, data_dir, out, device) -> dict:
    """Predict the test split (else valid) with the trained weights and compute Loupe's metrics."""
    import numpy as np
    import rfdetr
    import torch
    from PIL import Image

    from models.metrics.detection import evaluate_detection

    split = "test" if (data_dir / "test" / "_annotations.coco.json").is_file() else "valid"
    gt = json.loads((data_dir / split / "_annotations.coco.json").read_text(encoding="utf-8"))
    cat_ids = {c["name"]: c["id"] for c in gt["categories"]}
    n_classes = int(state["class_embed.weight"].shape[0]) - 1
    model = getattr(rfdetr, VARIANTS[architecture])(pretrain_weights=None, num_classes=n_classes,
                                                   resolution=resolution, device="cpu" if device == "cpu" else device)
    model.model.model.load_state_dict(state, strict=False)
    results = []
    for im in gt["images"]:
        with Image.open(data_dir / split / im["file_name"]) as pil:
            rgb = np.asarray(pil.convert("RGB"))
        with torch.inference_mode():
            det = model.predict(rgb, threshold=0.001)
        for box, score, cid in zip(det.xyxy, det.confidence, det.class_id):
            x1, y1, x2, y2 = (float(v) for v in box)
            name = class_names[int(cid)] if 0 <= int(cid) < len(class_names) else None
            if name not in cat_ids:
                continue
            results.append({"image_id": im["id"], "category_id": cat_ids[name], "bbox": [x1, y1, x2 - x1, y2 - y1],
                            "score": float(score)})
    m = evaluate_detection(gt, results)
    (out / "predictions.json").write_text(json.dumps(results), encoding="utf-8")
    return m
