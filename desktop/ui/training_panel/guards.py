"""What the training panel checks before a run, in the app's words (no Qt here): are the base
model's weights there, can the run start from random weights instead, do the reviewed images fill
the train/valid/test split, and is the time-left estimate worth showing yet
(docs/decisions/0102-training-guardrails.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SPLIT = (0.8, 0.1, 0.1)
# below this many reviewed images a run "works" but its validation and test figures mean little
ENOUGH_REVIEWED = 20
# the child's own estimate is shown once this many steps and seconds have gone by
ETA_MIN_STEPS = 5
ETA_MIN_SECONDS = 20.0


@dataclass
class BaseWeights:
    """`state`: "found" (path), "random" (a bare RF-DETR size: training may start from random
    weights) or "missing" (the model cannot be trained without its file)."""

    state: str
    path: Path | None
    file_name: str


def base_weights(card, models_folder: Path) -> BaseWeights:
    from models.errors import WeightsError
    from models.registry import resolve_spec

    name = Path(card.weights or "").name
    if name and (Path(models_folder) / name).is_file():
        return BaseWeights("found", Path(models_folder) / name, name)
    try:
        _, path = resolve_spec(card)
    except WeightsError:
        path = None
    if path is not None:
        return BaseWeights("found", Path(path), name)
    random_ok = card.task == "detection" and card.name == card.architecture and card.architecture.startswith("rfdetr")
    if not name and not random_ok:
        return BaseWeights("found", None, name)  # nothing to load: the architecture starts as it is
    return BaseWeights("random" if random_ok else "missing", None, name)


def split_counts(n_images: int, split=SPLIT) -> dict[str, int]:
    """How many of `n_images` (one group each) land in train/valid/test, as
    desktop.core.exchange.roboflow.split_images assigns them."""
    from desktop.core.exchange.roboflow import SPLITS

    total = sum(split)
    bounds = (n_images * split[0] / total, n_images * (split[0] + split[1]) / total)
    counts = dict.fromkeys(SPLITS, 0)
    for done in range(n_images):
        counts["train" if done < bounds[0] else "valid" if done < bounds[1] else "test"] += 1
    for name, frac in zip(SPLITS, split):
        if frac > 0 and not counts[name]:
            donor = max(SPLITS, key=lambda s: counts[s])
            if counts[donor] > 1:
                counts[donor] -= 1
                counts[name] += 1
    return counts


def few_images_warning(n_reviewed: int) -> str:
    """'' when the reviewed images fill the split; else what will happen if the run goes ahead."""
    if n_reviewed >= ENOUGH_REVIEWED:
        return ""
    c = split_counts(n_reviewed)
    lines = [f"Only {n_reviewed} image{'s are' if n_reviewed != 1 else ' is'} marked reviewed. "
             f"The split would be {c['train']} for training, {c['valid']} for validation and "
             f"{c['test']} for the test report (at least {ENOUGH_REVIEWED} reviewed images are needed "
             "for figures that mean something)."]
    if not c["valid"] or not c["test"]:
        lines.append("With an empty validation or test part, the report has no metrics for it and "
                     "the curves show the training loss only.")
    lines.append("Train anyway? (Mark more images reviewed in the Images list to get a better split.)")
    return "\n\n".join(lines)


def random_weights_warning(card, weights: BaseWeights) -> str:
    return (f"The weights of {card.name} ({weights.file_name}) are not in the models folder, so training "
            "would start from random weights. A model trained from scratch needs thousands of reviewed "
            "images and many hours (days on a CPU) before its boxes mean anything.\n\n"
            "Get the weights first (Get weights…), or train from random weights anyway?")


def missing_weights_message(card, weights: BaseWeights, models_folder: Path) -> str:
    source = f" Where to get it: {card.source}." if getattr(card, "source", "") else ""
    return (f"{card.name} cannot be trained without its weights file {weights.file_name}, which is not in "
            f"the models folder ({models_folder}).{source} Use Get weights… to download or choose it.")


def eta_text(eta_s, steps_seen: int, elapsed_s: float) -> str:
    """The time-left part of the status line: an estimate only once it means something."""
    if eta_s is None:
        return ""
    if steps_seen < ETA_MIN_STEPS or elapsed_s < ETA_MIN_SECONDS:
        return " · estimating time left…"
    minutes = eta_s / 60
    if minutes >= 90:
        return f" · about {minutes / 60:.1f} h left"
    return f" · about {max(minutes, 1):.0f} min left" if minutes >= 1 else " · under a minute left"


# what the command line's flags are called in the training panel
_FLAG_WORDS = {
    "weights": "the base model's weights (Get weights…)",
    "data": "the reviewed images",
    "out": "the output folder",
    "model": "the base model",
    "epochs": "Epochs",
    "batch-size": "Batch size",
    "lr": "Learning rate",
    "resolution": "Resolution",
    "device": "the device",
    "stop-file": "Cancel",
}
_SENTENCES = (
    (re.compile(r"Put it there or pass it with --weights\.?"),
     "Put it in the models folder, or use Get weights…."),
    (re.compile(r"pass --model PRESET together with --weights"), "pick the base model it belongs to"),
    (re.compile(r"pass either it or --weights, not both"), "choose either the file or a base model"),
)
_FLAG = re.compile(r"`?--([a-z][a-z0-9-]*)`?")
_COMMAND = re.compile(r"`loupe train (detector|classifier)`")


def app_terms(message: str) -> str:
    """A child's message with command-line words replaced by what the panel calls them."""
    for pattern, words in _SENTENCES:
        message = pattern.sub(words, message)
    message = _COMMAND.sub(lambda m: f"training a {m.group(1)}", message)
    return _FLAG.sub(lambda m: _FLAG_WORDS.get(m.group(1), m.group(1).replace("-", " ")), message)
