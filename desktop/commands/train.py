"""`loupe train detector|classifier --data DIR --model M --out DIR [...]`: fine-tune headless.

The app's training panel runs this same command as a child process with `--progress jsonl`.
Detector data: a Roboflow COCO export (train/, valid/, test/). Classifier data: an ImageFolder or a
COCO export with image labels. The output folder is never overwritten: a non-empty one gets a
numbered sibling (`--no-renumber` refuses instead). Multi-GPU (detector): `--devices N` (Lightning
launches the other processes), or `torchrun --nproc_per_node N -m desktop train detector ... --device cuda
--devices N`; see docs/training.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("kind", choices=("detector", "classifier"))
    parser.add_argument("--data", required=True, help="dataset folder (Roboflow COCO export or ImageFolder)")
    parser.add_argument("--model", required=True, help="base model: preset name, model card, or weights file")
    parser.add_argument("--weights", help="weights of the base model (with a preset name)")
    parser.add_argument("--out", required=True, help="output folder (never overwritten)")
    parser.add_argument("--no-renumber", action="store_true", help="refuse a non-empty --out instead of numbering")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--grad-accum", type=int, help="detector: gradient accumulation steps")
    parser.add_argument("--lr", type=float)
    parser.add_argument("--weight-decay", type=float)
    parser.add_argument("--resolution", type=int, help="detector: square input size (a multiple of 32 for Nano)")
    parser.add_argument("--warmup-epochs", type=float)
    parser.add_argument("--patience", type=int, help="early-stopping patience in epochs")
    parser.add_argument("--no-ema", action="store_true")
    parser.add_argument("--freeze", choices=("none", "all_but_head", "cnn_but_last_2_blocks"))
    parser.add_argument("--augment", help="none, or flip+rotate+jitter (Loupe's; the default except for the "
                                          "OASIS presets, which follow their authors: none)")
    parser.add_argument("--class-weighting", action=argparse.BooleanOptionalAction, default=None,
                        help="classifier: weight the loss by class frequency (Loupe's default; off in the "
                             "OASIS authors' recipe)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers (0 is safe everywhere)")
    parser.add_argument("--devices", type=int, help="detector: GPUs on this machine (DDP through Lightning; "
                                                     "or start under torchrun with the same number)")
    parser.add_argument("--strategy", help="detector, several GPUs: Lightning strategy (default ddp)")
    parser.add_argument("--keep-checkpoints", action="store_true", help="detector: keep rfdetr's .pth/.ckpt")
    parser.add_argument("--progress", choices=("text", "jsonl", "none"), default="text")
    parser.add_argument("--stop-file", help="training stops after the current step once this file exists")
    parser.add_argument("--hparams", help="JSON object of hyperparameters (overridden by the flags above)")


def _hparams(args, defaults: dict) -> dict:
    hp = dict(defaults)
    if args.hparams:
        hp.update(json.loads(args.hparams))
    flags = {"epochs": args.epochs, "batch_size": args.batch_size, "grad_accum_steps": args.grad_accum,
             "lr": args.lr, "weight_decay": args.weight_decay, "resolution": args.resolution,
             "warmup_epochs": args.warmup_epochs, "freeze": args.freeze, "augment": args.augment,
             "seed": args.seed, "devices": getattr(args, "devices", None), "strategy": getattr(args, "strategy", None)}
    hp.update({k: v for k, v in flags.items() if v is not None})
    if args.patience is not None:
        hp["early_stopping_patience" if "early_stopping_patience" in hp else "patience"] = args.patience
    if args.no_ema:
        hp["ema"] = False
    if getattr(args, "class_weighting", None) is not None:
        hp["class_weighting"] = args.class_weighting
    return hp


def _device(name: str) -> str:
    if name != "auto":
        return name
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _launcher_rank() -> int:
    """This process's rank under torchrun / Lightning's DDP launcher (0 when not distributed)."""
    for var in ("RANK", "LOCAL_RANK"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 0


def _classify_error(exc: BaseException) -> str:
    text = str(exc).lower()
    return "oom" if isinstance(exc, MemoryError) or "out of memory" in text else "crash"


def run(args) -> int:
    from models.errors import LoupeError
    from models.training.outputs import fresh_out_dir
    from models.training.progress import Progress, StopFlag, TrainingCancelled

    rank = _launcher_rank()
    progress = Progress.for_child(args.progress if rank == 0 else "none")
    stop = StopFlag(args.stop_file)
    stop.install_signal_handlers()
    if rank > 0:  # a further DDP process (Lightning's launcher or torchrun): rank 0 owns the folder
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
    else:
        several = (args.devices or 1) > 1 or "LOCAL_RANK" in os.environ
        out = fresh_out_dir(args.out, numbered=not (args.no_renumber or several))
        progress.attach_log(out / "metrics.jsonl")
    if str(out) != str(Path(args.out)):
        progress.emit("log", message=f"{args.out} is not empty; writing to {out}")
    try:
        if args.kind == "detector":
            _run_detector(args, out, progress, stop)
        else:
            _run_classifier(args, out, progress, stop)
    except TrainingCancelled:
        progress.emit("cancelled", out=str(out))
        return 3
    except LoupeError as exc:
        progress.emit("error", message=str(exc), kind="input")
        raise
    except Exception as exc:
        progress.emit("error", message=f"{type(exc).__name__}: {exc}", kind=_classify_error(exc))
        raise
    finally:
        progress.close()
    return 0


def _base(args):
    from models.registry import card_for_weights, load_card, preset_card

    spec = Path(args.model)
    if spec.suffix == ".json":
        card = load_card(spec)
        weights = args.weights or card.weights
        if weights and not Path(weights).is_absolute():
            weights = str(spec.resolve().parent / weights)
        return card, weights
    if spec.suffix in (".safetensors", ".pth", ".pt", ".bin", ".ckpt", ".tar"):
        return card_for_weights(spec), str(spec)
    return preset_card(args.model), args.weights


def _run_detector(args, out, progress, stop) -> None:
    from models.training.detector import train_detector
    from models.training.hparams import detector_defaults

    card, weights = _base(args)
    if card.task != "detection":
        from models.errors import ModelSpecError

        raise ModelSpecError(f"{args.model} is a {card.task} model; `loupe train detector` needs a detector")
    weights = _detector_base_weights(card, weights, progress)
    hp = _hparams(args, detector_defaults())
    train_detector(args.data, out, hp, progress, stop, architecture=card.architecture,
                   weights=Path(weights) if weights else None, base_card=card, device=_device(args.device),
                   num_workers=args.workers, keep_checkpoints=args.keep_checkpoints)


def _detector_base_weights(card, weights, progress):
    """The base model's weights: --weights, else the card's file (beside the card or in the models
    folder). A bare RF-DETR size without its file starts from random weights (said in the log); a
    named model (e.g. heartformer) without its file is an error, never a silent random start."""
    from models.errors import WeightsError
    from models.registry import resolve_spec

    try:
        _, path = resolve_spec(card, weights)
    except WeightsError:
        if weights is not None or card.name != card.architecture:
            raise
        progress.emit("log", message=f"no {card.name} weights file found: starting from random weights")
        return None
    return str(path) if path else None


def _run_classifier(args, out, progress, stop) -> None:
    from models import load_model
    from models.training.classifier import train_classifier
    from models.training.hparams import classifier_defaults

    model = load_model(args.model, weights=args.weights, device=_device(args.device))
    if model.task != "classification":
        from models.errors import ModelSpecError

        raise ModelSpecError(f"{args.model} is a {model.task} model; `loupe train classifier` needs a classifier")
    hp = _hparams(args, classifier_defaults(model.card.architecture))
    train_classifier(model, args.data, out, hp, progress, stop, parent=args.model, num_workers=args.workers)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run through `loupe train`")
