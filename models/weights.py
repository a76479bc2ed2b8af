"""Reading weights files safely: safetensors first, PyTorch checkpoints only through
`torch.load(weights_only=True)`; nothing in a user's file is ever executed.

- `.safetensors`: read with safetensors (tensors only, no code at all).
- `.pth/.pt/.bin/.tar`: `torch.load(weights_only=True)` with `argparse.Namespace` allow-listed (old
  rfdetr checkpoints keep their `args` as one). The 2017 legacy (non-zip) serialisation, e.g.
  CheXNet's `model.pth.tar`, goes through the same restricted unpickler, which knows the old
  `_rebuild_tensor` and typed storages.
- `.ckpt` (PyTorch Lightning): `torch.load` with `RestrictedUnpickler` as its pickle module. Its
  `find_class` gives back for real only what torch's weights-only loader allows (tensor and storage
  rebuilders, dtypes, OrderedDict, ...); every other global (`builtins.dict`, `typing.Any`,
  `_operator.getitem`, omegaconf's classes, the training bench) becomes an inert `Placeholder` that
  only records its arguments, so `state_dict` comes out and none of the file's code runs.
  Globals that can execute (`eval`, `exec`, `getattr`, `__import__`, `builtins.open`, `os.*`,
  `subprocess.*`, ...) are refused outright in every format, raw pickles included
  (docs/decisions/0086).

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

# Module roots whose globals can run code, touch files or the network, or load more code: a pickle
# that names one of them means harm (or at least means to run code), and is refused in every format.
DANGEROUS_MODULES = frozenset({
    "os", "posix", "nt", "subprocess", "_posixsubprocess", "sys", "shutil", "socket", "importlib", "runpy",
    "pty", "code", "codeop", "ctypes", "_ctypes", "pickle", "_pickle", "marshal", "webbrowser",
    "multiprocessing", "_thread", "threading", "signal", "asyncio", "pdb", "bdb", "timeit", "trace",
    "cProfile", "profile", "commands", "codecs", "pip", "setuptools", "urllib", "requests", "http",
    "ftplib", "smtplib", "telnetlib", "tempfile", "glob", "io", "_io", "pathlib", "zipimport", "eval",
    "exec",
})
# Single names that execute or reach arbitrary attributes; the rest of their modules is harmless.
DANGEROUS_NAMES = frozenset({
    f"{mod}.{name}" for mod in ("builtins", "__builtin__") for name in (
        "eval", "exec", "compile", "getattr", "setattr", "delattr", "__import__", "open", "input",
        "breakpoint", "globals", "locals", "vars", "exit", "quit", "help", "__loader__", "__build_class__")
} | {f"{mod}.{name}" for mod in ("operator", "_operator") for name in ("attrgetter", "methodcaller", "call")}
  | {"functools.reduce", "torch.load", "torch.hub.load", "torch.jit.load", "torch.ops.load_library",
     "torch.utils.cpp_extension.load", "torch.utils.cpp_extension.load_inline"})


class Placeholder:
    """Stands in for a class or function of a Lightning checkpoint that Loupe does not import.

    Calling, building, setting state or items only records the arguments; nothing else ever runs.
    """

    qualname = "?"

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        self.items: dict = {}
        self.listed: list = []

    def __setstate__(self, state):
        self.state = state

    # NEWOBJ builds with __new__ alone (no __init__): the record lists are made on first use
    def _items(self) -> dict:
        return self.__dict__.setdefault("items", {})

    def _listed(self) -> list:
        return self.__dict__.setdefault("listed", [])

    def __setitem__(self, key, value):  # SETITEM(S) on a dict subclass (Lightning's AttributeDict, ...)
        self._items()[key] = value

    def __getitem__(self, key):
        return self._items()[key]

    def __contains__(self, key) -> bool:
        return key in self._items()

    def append(self, value):  # APPEND(S) on a list subclass (omegaconf's ListConfig, ...)
        self._listed().append(value)

    def extend(self, values):
        self._listed().extend(values)

    def __repr__(self) -> str:
        return f"<not loaded: {self.qualname}>"


def _placeholder_for(qualname: str) -> type:
    return type("Placeholder", (Placeholder,), {"qualname": qualname})


def is_dangerous(qualname: str) -> bool:
    """True for a pickle global that would execute code if it were the real thing."""
    return qualname.split(".")[0] in DANGEROUS_MODULES or qualname in DANGEROUS_NAMES or qualname in (
        "eval", "exec")


class CodeRefused(pickle.UnpicklingError):
    """The pickle names a global that can execute code."""

    def __init__(self, qualname: str):
        super().__init__(f"refused GLOBAL {qualname}")
        self.qualname = qualname


def _real_globals() -> dict:
    """The globals torch's own weights-only loader builds for real (tensor and storage rebuilders,
    dtypes, OrderedDict, Size, device, ...) plus argparse.Namespace; everything else is a placeholder."""
    from torch import _weights_only_unpickler as wou

    real = dict(wou._get_allowed_globals())
    real["argparse.Namespace"] = argparse.Namespace
    return real


class RestrictedUnpickler(pickle.Unpickler):
    """A pickle reader whose `find_class` returns only torch's weights-only globals for real, refuses
    globals that can execute (`is_dangerous`), and hands back an inert `Placeholder` class for every
    other global, so no function or `__reduce__` of the file's own classes ever runs."""

    _real: dict | None = None

    def find_class(self, module: str, name: str):
        import _compat_pickle  # protocol 0-2 pickles name Python 2 modules (__builtin__, copy_reg)

        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        qualname = f"{module}.{name}"
        if is_dangerous(qualname):
            raise CodeRefused(qualname)
        if RestrictedUnpickler._real is None:
            RestrictedUnpickler._real = _real_globals()
        real = RestrictedUnpickler._real.get(qualname)
        return real if real is not None else _placeholder_for(qualname)


class _RestrictedPickleModule:
    """What `torch.load(pickle_module=...)` needs: `Unpickler` and `load`, both restricted."""

    __name__ = "loupe_restricted_pickle"
    Unpickler = RestrictedUnpickler

    @staticmethod
    def load(file, **kwargs):
        return RestrictedUnpickler(file, **kwargs).load()


def load_with_placeholders(path) -> Any:
    """`torch.load` (zip or legacy serialisation, or a raw pickle) through `RestrictedUnpickler`.

    Raises CodeRefused when the file names a global that can execute code."""
    import torch

    return torch.load(str(path), map_location="cpu", weights_only=False, pickle_module=_RestrictedPickleModule)


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
    return [g for g in globals_ if is_dangerous(g)]


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
    """A Lightning checkpoint with every unknown global replaced by an inert placeholder
    (its `hyper_parameters`' config objects, the training bench, ...); code-running globals refused."""
    try:
        return load_with_placeholders(path)
    except CodeRefused as exc:
        raise _refuse_unsafe(path, [exc.qualname]) from None


def _holds_code(path: Path) -> str | None:
    """The first code-running global a file names (read through the restricted unpickler), or None."""
    try:
        load_with_placeholders(path)
    except CodeRefused as exc:
        return exc.qualname
    except Exception:  # broken in some other way: the caller's message stands
        return None
    return None


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
        error = _torch_error(path, exc, head)
        if "refused" not in str(error):  # e.g. a raw pickle torch's reader cannot parse: does it hold code?
            code = _holds_code(path)
            if code:
                raise _refuse_unsafe(path, [code]) from None
        raise error from exc


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
