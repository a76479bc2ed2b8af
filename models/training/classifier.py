"""Loupe's own classifier fine-tuning loop: freezing schedule, class weighting, the seeds'
augmentations, early stopping, and best-checkpoint tracking (the weights of the best validation
epoch are what is saved, not the last epoch's)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from models.training.classifier_data import load_splits
from models.training.freezing import apply_freezing, set_train_mode
from models.training.outputs import CARD_NAME, TrainingInputError, dataset_hash, save_weights
from models.training.progress import EtaClock, Progress, StopFlag


def _augment(kind: str | None):
    import torchvision.transforms as T

    if not kind or kind == "none":
        return None
    return T.Compose([T.RandomHorizontalFlip(), T.RandomRotation(10),
                      T.ColorJitter(brightness=0.1, contrast=0.1)])


class _Dataset:
    def __init__(self, items, class_index, transform, augment):
        self.items, self.class_index, self.transform, self.augment = items, class_index, transform, augment

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        from PIL import Image

        path, label = self.items[i]
        try:
            with Image.open(path) as im:
                im = im.convert("RGB")
        except OSError as exc:
            raise TrainingInputError(f"{path}: cannot read the image ({exc})") from None
        if self.augment is not None:
            im = self.augment(im)
        return self.transform(im), self.class_index[label]


def _loss_fn(n_out: int, counts: np.ndarray, weighting: bool, device):
    import torch

    if n_out == 1:  # one logit: probability of class 1
        pos_weight = torch.tensor([counts[0] / max(counts[1], 1)], device=device) if weighting else None
        bce = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
        return lambda logits, y: bce(logits[:, 0], y.float())
    w = None
    if weighting:
        w = torch.tensor(counts.sum() / (len(counts) * np.maximum(counts, 1)), dtype=torch.float32,
                         device=device)
    return torch.nn.CrossEntropyLoss(weight=w)


def _probs(logits):
    import torch

    if logits.shape[1] == 1:
        p1 = torch.sigmoid(logits[:, 0])
        return torch.stack([1 - p1, p1], dim=1)
    return torch.softmax(logits, dim=1)


def _evaluate(module, loader, loss_fn, device):
    import torch

    module.eval()
    losses, ys, ps = [], [], []
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = module(x)
            losses.append(float(loss_fn(logits, y)) * len(y))
            ys.append(y.cpu().numpy())
            ps.append(_probs(logits).cpu().numpy())
    n = sum(len(y) for y in ys)
    return sum(losses) / max(n, 1), np.concatenate(ys), np.concatenate(ps)


def train_classifier(model, data_dir, out: Path, hp: dict, progress: Progress, stop: StopFlag,
                     parent: str = "", num_workers: int = 0) -> Path:
    """Fine-tune `model` (a loaded classification LoupeModel) on `data_dir`; returns the card path."""
    import torch

    from models.metrics.classification import evaluate_classification
    from models.metrics.report import write_report
    from models.registry import write_card

    torch.manual_seed(int(hp.get("seed", 0)))
    names = model.class_names
    splits = load_splits(data_dir, seed=int(hp.get("seed", 0)))
    found = sorted({lab for items in splits.values() for _, lab in items})
    unknown = [c for c in found if c not in names]
    if unknown:
        raise TrainingInputError(f"{data_dir}: classes {unknown} are not the model's classes {names}")
    index = {n: i for i, n in enumerate(names)}
    device = model.device
    module = model.torch_module
    trainable = apply_freezing(module, hp.get("freeze", "all_but_head"))
    counts = np.bincount([index[lab] for _, lab in splits["train"]], minlength=len(names)).astype(float)

    def loader(items, train):
        ds = _Dataset(items, index, model.transform, _augment(hp.get("augment")) if train else None)
        g = torch.Generator().manual_seed(int(hp.get("seed", 0)))
        return torch.utils.data.DataLoader(ds, batch_size=int(hp["batch_size"]), shuffle=train, generator=g,
                                           num_workers=num_workers,
                                           multiprocessing_context="spawn" if num_workers else None)

    train_loader, val_loader = loader(splits["train"], True), loader(splits["val"], False)
    with torch.no_grad():
        n_out = module(next(iter(val_loader))[0][:1].to(device)).shape[1]
    loss_fn = _loss_fn(n_out, counts, bool(hp.get("class_weighting", True)), device)
    opt_cls = torch.optim.AdamW if hp.get("optimizer") == "adamw" else torch.optim.Adam
    opt = opt_cls(trainable, lr=float(hp["lr"]), weight_decay=float(hp.get("weight_decay", 0.0)))
    sched = (torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, factor=float(hp.get("plateau_factor", 0.1)),
        patience=int(hp.get("plateau_patience", max(1, int(hp["patience"]) // 2))))
        if hp.get("scheduler") == "plateau" else None)
    epochs, steps = int(hp["epochs"]), len(train_loader)
    progress.emit("start", task="classification", epochs=epochs, steps_per_epoch=steps, device=str(device),
                  out=str(out), train_images=len(splits["train"]), val_images=len(splits["val"]),
                  trainable_params=sum(p.numel() for p in trainable))
    eta = EtaClock(epochs * steps)
    best = {"loss": float("inf"), "epoch": 0, "state": None}
    bad_epochs, last_emit = 0, 0.0
    for epoch in range(1, epochs + 1):
        if hp.get("train_mode") == "all":  # the authors: model.train(), frozen BatchNorms update too
            module.train()
        else:
            set_train_mode(module)
        total, seen = 0.0, 0
        for step, (x, y) in enumerate(train_loader, 1):
            t0 = time.perf_counter()
            x, y = x.to(device), y.to(device)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(module(x), y)
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
            seen += len(y)
            left = eta.tick()
            if time.monotonic() - last_emit > 0.5 or step == steps:
                last_emit = time.monotonic()
                progress.emit("step", epoch=epoch, step=step, steps=steps, loss=loss.item(),
                              lr=opt.param_groups[0]["lr"], eta_s=left,
                              images_per_s=len(y) / max(time.perf_counter() - t0, 1e-9))
            stop.check()
        val_loss, ys, ps = _evaluate(module, val_loader, loss_fn, device)
        m = evaluate_classification(ys, ps, names)
        if sched is not None:
            sched.step(val_loss)
        improved = val_loss < best["loss"] - 1e-6
        if improved:
            best = {"loss": val_loss, "epoch": epoch,
                    "state": {k: v.detach().clone() for k, v in module.state_dict().items()}}
            bad_epochs = 0
        else:
            bad_epochs += 1
        progress.emit("epoch", epoch=epoch, epochs=epochs, train_loss=total / max(seen, 1), val_loss=val_loss,
                      metrics={"accuracy": m["accuracy"], "auc": m["auc"], "f1": m["f1"]},
                      best_epoch=best["epoch"], eta_s=eta.tick(0))
        if bad_epochs >= int(hp["patience"]):
            progress.emit("log", message=f"early stopping: no better validation loss for {bad_epochs} epochs")
            break
    module.load_state_dict(best["state"])
    eval_items = splits["test"] or splits["val"]
    _, ys, ps = _evaluate(module, loader(eval_items, False), loss_fn, device)
    metrics = evaluate_classification(ys, ps, names)
    save_weights(module.state_dict(), out)
    card = dataclasses.replace(
        model.card, name=out.name, weights="weights.safetensors",
        description=f"{model.card.name} fine-tuned on {Path(data_dir).name}",
        extra={"parent_model": parent or model.card.name, "dataset": str(data_dir),
               "dataset_hash": dataset_hash(data_dir),
               "split": {k: len(v) for k, v in splits.items()}, "evaluated_on": "test" if splits["test"] else "val",
               "hyperparameters": hp, "best_epoch": best["epoch"],
               "metrics": {k: metrics[k] for k in ("accuracy", "precision", "recall", "f1", "auc",
                                                   "sensitivity", "specificity") if k in metrics}})
    card_path = write_card(card, out / CARD_NAME)
    write_report(out / "report.html", metrics, title=f"Fine-tuned {card.name}", history=progress.history,
                 notes={"parent model": card.extra["parent_model"], "dataset hash": card.extra["dataset_hash"],
                        "best epoch": best["epoch"]})
    progress.emit("done", out=str(out), card=str(card_path), metrics=card.extra["metrics"])
    return card_path
