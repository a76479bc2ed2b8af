"""Resolving a model spec (preset name, card JSON, bare weights file) to a loaded `LoupeModel`.

    load_model("chexnet", weights="model.pth.tar", device="auto")
    load_model("my_card.json")                   # weights path relative to the card
    load_model("checkpoint.pt")                  # architecture and class count from the tensors

Each architecture registers a loader in ARCHITECTURES ("module:function"); the loader has the
signature `load(card, weights: Path | None, device: torch.device, **options) -> LoupeModel`.
Loaded models are cached per (card, weights file and its mtime, device, options): loading the
same model twice returns the same object.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import threading
from pathlib import Path

import models.devices  # noqa: F401  (sets PYTORCH_ENABLE_MPS_FALLBACK before torch loads)
from models.base import TASKS, ModelCard
from models.errors import ModelSpecError, WeightsError
from models.resources import presets_dir, user_models_dir

ARCHITECTURES: dict[str, str] = {
    "rfdetr-nano": "models.detection.rfdetr:load",
    "rfdetr-small": "models.detection.rfdetr:load",
    "rfdetr-medium": "models.detection.rfdetr:load",
    "rfdetr-large": "models.detection.rfdetr:load",
    "effdet-lite3": "models.detection.efficientdet:load",
    "chexnet": "models.classification.chexnet:load",
    "qing": "models.classification.qing:load",
    "oasis-resnet18": "models.classification.oasis:load_resnet18",
    "oasis-vit": "models.classification.oasis:load_vit",
    "oasis-temporal": "models.classification.temporal:load",
    "roco-captioner": "models.captioning:load",
    "sam": "models.segmentation.sam:load",  # SamModel folders: SAM ViT-B, MedSAM, SlimSAM
    "sam2": "models.segmentation.sam:load",  # Sam2Model folders: SAM 2.1
}

RFDETR_GRID = {24: "rfdetr-nano", 32: "rfdetr-small", 36: "rfdetr-medium", 44: "rfdetr-large"}

_cache: dict[tuple, object] = {}
_cache_lock = threading.Lock()


# -- cards ----------------------------------------------------------------------------------------
def load_card(path) -> ModelCard:
    """Read a model card JSON; a relative `weights` path stays relative (resolved at load time)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelSpecError(f"model card not found: {path}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelSpecError(f"model card {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelSpecError(f"model card {path} must hold a JSON object")
    known = {f.name for f in dataclasses.fields(ModelCard)}
    missing = [k for k in ("name", "architecture", "task") if k not in data]
    if missing:
        raise ModelSpecError(f"model card {path} lacks {', '.join(missing)}")
    if data["task"] not in TASKS:
        raise ModelSpecError(f"model card {path}: task {data['task']!r} is not one of {', '.join(TASKS)}")
    extra = dict(data.get("extra") or {})
    extra.update({k: v for k, v in data.items() if k not in known})
    card = ModelCard(**{k: v for k, v in data.items() if k in known and k != "extra"}, extra=extra)
    card.extra.setdefault("card_dir", str(path.resolve().parent))
    return card


def write_card(card: ModelCard, path) -> Path:
    """Write `card` as JSON (the inverse of load_card)."""
    path = Path(path)
    data = dataclasses.asdict(card)
    data["extra"] = {k: v for k, v in data["extra"].items() if k != "card_dir"}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def list_presets() -> list[ModelCard]:
    """Every preset card in resources/presets, sorted by name."""
    return sorted((load_card(p) for p in presets_dir().glob("*.json")), key=lambda c: c.name)


def preset_card(name: str) -> ModelCard:
    path = presets_dir() / f"{name}.json"
    if not path.is_file():
        names = ", ".join(c.name for c in list_presets())
        raise ModelSpecError(f"unknown model {name!r}: not a preset ({names}), a card or a weights file")
    return load_card(path)


def preset_for_architecture(arch: str) -> ModelCard:
    cards = list_presets()
    for card in cards:
        if card.name == arch:
            return card
    for card in cards:
        if card.architecture == arch and not card.extra.get("fine_tuned_preset"):
            return card
    raise ModelSpecError(f"no preset for architecture {arch!r}")


# -- recognising a bare weights file -----------------------------------------------------------------
def _inner_state_dict(obj) -> tuple[dict, dict]:
    """(state dict, checkpoint extras) of any checkpoint layout Loupe knows."""
    from models.weights import is_state_dict

    if is_state_dict(obj):
        return obj, {}
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "ema_model", "model_state_dict"):
            if key in obj and is_state_dict(obj[key]):
                return obj[key], obj
    return {}, obj if isinstance(obj, dict) else {}


def _is_bare_chexnet(sd: dict) -> bool:
    """CheXNet's weights re-saved from torchvision's densenet121 itself (no `densenet121.`): a
    DenseNet-121 (24 layers in block 3, 16 in block 4) with a 14-output head."""
    keys = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
    w = keys.get("classifier.weight", keys.get("classifier.0.weight"))
    layers = {k.split(".")[1] + "." + k.split(".")[2] for k in keys if k.startswith("features.denseblock")}
    return (w is not None and tuple(w.shape) == (14, 1024) and "denseblock3.denselayer24" in layers
            and "denseblock3.denselayer25" not in layers and "denseblock4.denselayer16" in layers
            and "denseblock4.denselayer17" not in layers)


def recognise(sd: dict) -> tuple[str, int] | None:
    """(architecture, number of outputs) of a state dict, from its tensor names and shapes."""
    keys = list(sd)

    def has(prefix):
        return any(k.startswith(prefix) for k in keys)

    if has("module.densenet121.") or has("densenet121.features."):
        w = next((v for k, v in sd.items() if k.endswith("densenet121.classifier.0.weight")), None)
        return "chexnet", int(w.shape[0]) if w is not None else 14
    if _is_bare_chexnet(sd):
        return "chexnet", 14
    if has("cnn_features.") and has("transformer_encoder."):
        return "qing", int(sd["classifier.3.weight"].shape[0]) if "classifier.3.weight" in sd else 1
    if "heads.head.weight" in sd and has("encoder.layers."):
        return "oasis-vit", int(sd["heads.head.weight"].shape[0])
    if "fc.weight" in sd and has("layer4.") and tuple(sd["fc.weight"].shape[1:]) == (512,):
        return "oasis-resnet18", int(sd["fc.weight"].shape[0])
    if "input.weight" in sd and "projection.weight" in sd and "bn.running_mean" in sd:
        return "oasis-temporal", int(sd["projection.weight"].shape[0])
    if any("class_net" in k for k in keys) and any("box_net" in k for k in keys):
        w = next((v for k, v in sd.items() if k.endswith("class_net.predict.conv_pw.weight")), None)
        n = int(w.shape[0]) // 9 if w is not None else 7
        return "effdet-lite3", n
    if has("vis_proj.") and has("encoder."):
        return "roco-captioner", int(sd["fc_out.weight"].shape[0]) if "fc_out.weight" in sd else 30522
    sd2 = {k[6:] if k.startswith("model.") else k: v for k, v in sd.items()}
    if "class_embed.weight" in sd2 and any(k.startswith("transformer.") for k in sd2):
        pos = next((v for k, v in sd2.items() if k.endswith("position_embeddings")), None)
        grid = int(round(math.sqrt(pos.shape[1] - 1))) if pos is not None else 24
        return RFDETR_GRID.get(grid, "rfdetr-nano"), int(sd2["class_embed.weight"].shape[0]) - 1
    return None


_DESCRIPTIONS = {
    "chexnet": "a CheXNet DenseNet-121 checkpoint",
    "qing": "a Qing CNN-Transformer (DenseNet-121 + Transformer) checkpoint",
    "oasis-vit": "a torchvision ViT-B/16 checkpoint",
    "oasis-resnet18": "a torchvision ResNet-18 checkpoint",
    "oasis-temporal": "a temporal head checkpoint (OASIS TemporalGradCam)",
    "effdet-lite3": "an EfficientDet checkpoint",
    "roco-captioner": "a ResNet-50 graph captioner checkpoint",
}


def describe_state_dict(sd: dict) -> str:
    """Words for what a state dict looks like ("a CheXNet DenseNet-121 checkpoint"), or ""."""
    found = recognise(sd) if sd else None
    if not found:
        return ""
    arch, n = found
    if arch.startswith("rfdetr"):
        return f"an RF-DETR {arch.split('-')[1].title()} checkpoint with {n} classes"
    return f"{_DESCRIPTIONS[arch]} with {n} outputs"


def card_for_weights(path: Path) -> ModelCard:
    """A card for a bare weights file: the preset of its architecture, its class count adjusted."""
    from models.weights import read_weights

    obj = read_weights(path)
    sd, extras = _inner_state_dict(obj)
    found = recognise(sd) if sd else None
    if not found:
        first = ", ".join(list(sd)[:5]) if sd else "no tensors"
        raise ModelSpecError(f"cannot tell which model {path} is for (first keys: {first}); "
                             "pass --model PRESET together with --weights")
    arch, n = found
    card = preset_for_architecture(arch)
    card = dataclasses.replace(card, extra=dict(card.extra), weights=str(path))
    from models.detection.rfdetr import checkpoint_class_names

    names = checkpoint_class_names(extras)
    if names and len(names) in (n, n + 1) and arch.startswith("rfdetr"):
        card.class_names = list(names)
    elif arch in ("qing",) or (arch.startswith("oasis") and n == len(card.class_names)):
        pass
    elif n != len(card.class_names) and arch != "roco-captioner":
        card.class_names = [f"class_{i}" for i in range(n)]
    card.name = path.stem
    return card


# -- loading ------------------------------------------------------------------------------------
def _resolve_weights(card: ModelCard, weights) -> Path | None:
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.exists():
            raise WeightsError(f"weights file not found: {path}")
        return path
    if not card.weights:
        return None
    path = Path(card.weights).expanduser()
    candidates = [path] if path.is_absolute() else []
    if not path.is_absolute():
        if card.extra.get("card_dir"):
            candidates.append(Path(card.extra["card_dir"]) / path)
        candidates.append(user_models_dir() / path)
    for c in candidates:
        if c.exists() and not (c.parent == presets_dir() and c.suffix == ".json"):
            return c
    if card.extra.get("weights_optional"):
        return None
    where = user_models_dir()
    if card.extra.get("weights_folder"):
        raise WeightsError(
            f"the {card.name} model needs its weights folder {path.name} (config.json, model.safetensors, "
            f"preprocessor_config.json), which is not in {where}. Put it there or pass it with --weights. "
            f"Where to get it: {card.source or 'see the model card'}")
    raise WeightsError(
        f"the {card.name} model needs its weights file {path.name}, which is not in {where}. "
        f"Put it there or pass it with --weights. Where to get it: {card.source or 'see the model card'}"
    )


def _loader(arch: str):
    entry = ARCHITECTURES.get(arch)
    if entry is None:
        raise ModelSpecError(f"unknown architecture {arch!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    module_name, func = entry.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ModelSpecError(f"the {arch} architecture is not available: {exc.name} is not installed "
                             f"(needed by {module_name})") from exc
    return getattr(module, func)


def resolve_spec(spec, weights=None) -> tuple[ModelCard, Path | None]:
    """(card, weights path) for a preset name, a card (object or JSON path) or a weights file."""
    if isinstance(spec, ModelCard):
        return spec, _resolve_weights(spec, weights)
    text = str(spec)
    path = Path(text).expanduser()
    if path.suffix.lower() == ".json":
        card = load_card(path)
        return card, _resolve_weights(card, weights)
    from models.weights import WEIGHTS_SUFFIXES

    is_preset = "/" not in text and (presets_dir() / f"{text}.json").is_file()
    if path.suffix.lower() in WEIGHTS_SUFFIXES or (path.is_file() and not is_preset):
        if weights is not None:
            raise ModelSpecError(f"{spec} is already a weights file; pass either it or --weights, not both")
        if not path.exists():
            raise WeightsError(f"weights file not found: {path}")
        return card_for_weights(path), path
    card = preset_card(text)
    return card, _resolve_weights(card, weights)


def load_model(spec, weights=None, device="auto", **options):
    """Load a model; see the module docstring. Returns a cached model for the same inputs."""
    from models.denormals import flush_denormals
    from models.devices import resolve_device

    flush_denormals()  # before this thread's first parallel op: its OpenMP team inherits it
    card, wpath = resolve_spec(spec, weights)
    dev = resolve_device(device)
    stamp = None
    if wpath is not None:
        st = wpath.stat()
        stamp = (str(wpath.resolve()), st.st_mtime_ns, st.st_size)
        if wpath.is_dir():  # a Hugging Face folder: a file replaced inside it is a new model
            stamp += tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(wpath.iterdir())
                           if p.is_file())
    key = (json.dumps(dataclasses.asdict(card), sort_keys=True, default=str), stamp, str(dev),
           tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    model = _loader(card.architecture)(card, wpath, dev, **options)
    with _cache_lock:
        _cache[key] = model
    return model


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
