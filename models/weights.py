"""Reading weights files safely: safetensors first, PyTorch checkpoints only through
`torch.load(weights_only=True)`; nothing in a user's file is ever executed.

- `.safetensors`: read with safetensors (tensors only, no code at all).
- `.pth/.pt/.bin/.tar`: `torch.load(weights_only=True)` with `argparse.Namespace` allow-listed (old
  rfdetr checkpoints keep their `args` as one). The 2017 legacy (non-zip) serialisation, e.g.
  CheXNet's `model.pth.tar`, goes through the same restricted unpickler, which knows the old
  `_rebuild_tensor` and typed storages.
- `.ckpt` (PyTorch Lightning): the pickle's globals are listed statically first; every global torch
  does not know (the `hyper_parameters`' config objects, ...) is mapped to an inert `Placeholder`
  that only records its arguments, so `state_dict` comes out without running any of the file's code.
  Globals that only make sense in an attack (`os.system`, `builtins.eval`, `subprocess.*`, ...) are
  refused outright in every format.

Every failure is a `WeightsError` naming the file and the reason.
"""

from __future__ import annotations

import argparse
import pickle
import struct
from pathlib import Path
from typing import Any

from models.errors import WeightsError

TORCH_SUFFIXES = (".pth", ".pt", ".bin", ".tar", ".ckpt")
WEIGHTS_SUFFIXES = (".safetensors",) + TORCH_SUFFIXES

# Module roots whose globals only appear in a pickle that means harm (or at least means to run code).
DANGEROUS_MODULES = frozenset({
    "os", "posix", "nt", "subprocess", "sys", "builtins", "__builtin__", "shutil", "socket", "importlib",
    "runpy", "pty", "code", "ctypes", "pickle", "_pickle", "marshal", "types", "webbrowser", "operator",
    "functools", "eval", "exec", "commands", "multiprocessing",
    "codecs", "pip", "setuptools", "urllib", "requests", "http",
})


class Placeholder:
    """Stands in for a class or function of a Lightning checkpoint that Loupe does not import.

    Calling, building or setting state only records the arguments; nothing else ever runs.
    """

    qualname = "?"

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def __setstate__(self, state):
        self.state = state

    def __repr__(self) -> str:
        return f"<not loaded: {self.qualname}>"


def _placeholder_for(qualname: str) -> type:
    return type("Placeholder", (Placeholder,), {"qualname": qualname})


def _check_file(path: Path) -> None:
    if not path.exists():
        raise WeightsError(f"weights file not found: {path}")
    if path.is_dir():
        raise WeightsError(f"{path} is a folder, not a weights file")
    if path.stat().st_size == 0:
        raise WeightsError(f"weights file {path} is empty (0 bytes); download it again")


def _head(path: Path, n: int = 16) -> bytes:
    with open(path, "rb") as f:
        return f.read(n)


def _looks_like_safetensors(head: bytes) -> bool:
    if len(head) < 9:
        return False
    (header_len,) = struct.unpack("<Q", head[:8])
    return 2 <= header_len < 100_000_000 and head[8:9] == b"{"


def _dangerous(globals_: list[str]) -> list[str]:
    return [g for g in globals_ if g.split(".")[0] in DANGEROUS_MODULES or g in ("eval", "exec")]


def _refuse_unsafe(path: Path, names: list[str]) -> WeightsError:
    return WeightsError(
        f"refused to load {path}: it contains Python code that would run when opened "
        f"({', '.join(names[:3])}). Loupe only reads tensors; this file is not a plain checkpoint "
        "and may be malicious. Nothing from it was executed."
    )


def read_safetensors(path: Path) -> dict:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"cannot read {path}: the safetensors file is truncated or corrupt ({exc}); "
                           "download it again") from exc


def _torch_error(path: Path, exc: BaseException, head: bytes) -> WeightsError:
    msg = str(exc)
    if "Unsupported global" in msg or "unsupported GLOBAL" in msg or "Weights only load failed" in msg:
        import re

        found = re.findall(r"GLOBAL ([\w.]+)", msg)
        if found and _dangerous(found):
            return _refuse_unsafe(path, found)
        if found:
            return WeightsError(
                f"refused to load {path}: it holds Python objects ({', '.join(found[:3])}) besides tensors, "
                "and Loupe never unpickles arbitrary objects. Save the model's state_dict (or safetensors)."
            )
    if head.startswith(b"PK"):
        return WeightsError(f"cannot read {path}: the checkpoint is truncated or corrupt ({msg.split('.')[0]}); "
                            "download it again")
    if isinstance(exc, EOFError) or "truncated" in msg.lower() or "unexpected end" in msg.lower():
        return WeightsError(f"cannot read {path}: the file ends early (truncated); download it again")
    if head[:1] == b"\x80":  # a pickle, but broken
        return WeightsError(f"cannot read {path}: the checkpoint is truncated or corrupt ({msg[:120]})")
    return WeightsError(f"{path} is not a weights file (expected .safetensors or a PyTorch checkpoint)")


def _torch_load_restricted(path: Path, extra_safe: list | None = None) -> Any:
    import torch

    safe = [argparse.Namespace] + list(extra_safe or [])
    with torch.serialization.safe_globals(safe):
        return torch.load(str(path), map_location="cpu", weights_only=True)


def read_lightning(path: Path) -> Any:
    """A Lightning checkpoint with every unknown global replaced by an inert placeholder."""
    import torch

    try:
        unknown = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception:  # not a zip checkpoint: the plain restricted loader decides
        unknown = []
    bad = _dangerous(unknown)
    if bad:
        raise _refuse_unsafe(path, bad)
    stand_ins = [(_placeholder_for(name), name) for name in unknown if name != "argparse.Namespace"]
    return _torch_load_restricted(path, stand_ins)


def read_weights(path) -> Any:
    """Read a weights file into plain Python: a dict of tensors, or a checkpoint dict holding one.

    Raises WeightsError (naming the file) when it is missing, empty, truncated, unsafe or not weights.
    """
    path = Path(path).expanduser()
    _check_file(path)
    head = _head(path)
    if path.suffix.lower() == ".safetensors" or _looks_like_safetensors(head):
        return read_safetensors(path)
    if path.suffix.lower() not in TORCH_SUFFIXES and not (head.startswith(b"PK") or head[:1] == b"\x80"):
        raise WeightsError(f"{path} is not a weights file (expected one of {', '.join(WEIGHTS_SUFFIXES)})")
    try:
        if path.suffix.lower() == ".ckpt":
            return read_lightning(path)
        return _torch_load_restricted(path)
    except WeightsError:
        raise
    except (pickle.UnpicklingError, RuntimeError, EOFError, KeyError, ValueError, OSError, AttributeError,
            TypeError, IndexError, struct.error, UnicodeDecodeError) as exc:
        raise _torch_error(path, exc, head) from exc


def is_state_dict(obj: Any) -> bool:
    import torch

    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def find_state_dict(obj: Any, path, keys=("state_dict", "model_state_dict", "model", "ema_model")) -> dict:
    """The state dict inside a checkpoint: the object itself, or the first of `keys` holding one."""
    if is_state_dict(obj):
        return obj
    if isinstance(obj, dict):
        for key in keys:
            if key in obj and is_state_dict(obj[key]):
                return obj[key]
    top = ", ".join(map(str, list(obj)[:8])) if isinstance(obj, dict) else type(obj).__name__
    raise WeightsError(f"{path} holds no state dict of tensors (top-level entries: {top})")


def strip_prefix(sd: dict, prefix: str) -> dict:
    """Remove `prefix` from the keys that have it (e.g. DataParallel's `module.`)."""
    if not any(k.startswith(prefix) for k in sd):
        return sd
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in sd.items()}


def load_into(module, sd: dict, path, preset: str, expects: str = "", original: dict | None = None) -> None:
    """`module.load_state_dict(sd, strict=True)`, with a message that says what the file looks like
    and lists the first missing and unexpected keys and shape mismatches."""
    own = module.state_dict()
    # BatchNorm's num_batches_tracked arrived in torch 0.4.1: 2017 files (CheXNet) lack it
    sd = {**{k: v for k, v in own.items() if k.endswith("num_batches_tracked") and k not in sd}, **sd}
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    shapes = [f"{k}: file {tuple(sd[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in sd and tuple(sd[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        raise architecture_mismatch(path, original if original is not None else sd, preset, expects,
                                    missing, unexpected, shapes)
    module.load_state_dict(sd, strict=True)


def architecture_mismatch(path, sd, preset, expects, missing, unexpected, shapes) -> WeightsError:
    from models.registry import describe_state_dict

    looks = describe_state_dict(sd)
    parts = [f"{path} does not fit the {preset} preset."]
    if looks:
        parts[0] = f"{path}: this looks like {looks}; the {preset} preset expects {expects or preset}."
    if missing:
        parts.append(f"{len(missing)} missing keys, first: {', '.join(missing[:5])}.")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys, first: {', '.join(unexpected[:5])}.")
    if shapes:
        parts.append(f"{len(shapes)} shape mismatches, first: {'; '.join(shapes[:3])}.")
    return WeightsError(" ".join(parts))
