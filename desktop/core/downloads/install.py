"""Getting a preset's weights into the models folder (no Qt): from a file the user chose, or by
downloading it. Both check the file by loading it once with `models.load_model` before it takes
its place, and both write atomically (a temporary file beside the target, then os.replace)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from desktop.core.downloads.downloader import Fetched, fetch
from desktop.core.downloads.sources import WeightsSource, weights_source
from models.errors import LoupeError, ModelSpecError, WeightsError
from models.resources import user_models_dir


def _suffixes(name: str) -> str:
    return "".join(Path(name).suffixes[-2:]).lower() if name.lower().endswith(".pth.tar") else Path(name).suffix.lower()


def validate_weights(preset: str, path: Path, models_dir: Path | None = None) -> None:
    """Load `path` as `preset`'s weights once (CPU), or raise a LoupeError saying why it does not fit.

    The captioner also needs its vocabulary: when that is not in the models folder yet, the
    weights are checked by their tensors (`models.registry.card_for_weights`) instead."""
    from models.registry import card_for_weights, clear_cache, load_model, preset_card

    card = preset_card(preset)
    options = {}
    if card.architecture == "roco-captioner":
        vocab = Path(models_dir or user_models_dir()) / str(card.extra.get("vocab", ""))
        if not vocab.is_file():
            found = card_for_weights(path)
            if found.architecture != card.architecture:
                raise WeightsError(f"{path.name} is not a {preset} checkpoint (it looks like {found.architecture})")
            return
        options["vocab"] = str(vocab)
    try:
        load_model(preset, weights=path, device="cpu", **options)
    finally:
        clear_cache()  # validation only: do not keep the model in memory


def install_file(preset: str, chosen: str | Path, models_dir: Path | None = None,
                 validate: Callable[[str, Path], None] | None = None) -> Path:
    """Copy a weights file the user chose into the models folder under the name the preset looks
    for, after loading it once. Returns the installed path."""
    src = weights_source(preset)
    chosen = Path(chosen)
    folder = Path(models_dir or user_models_dir())
    if not chosen.is_file():
        raise WeightsError(f"{chosen}: file not found")
    if _suffixes(chosen.name) != _suffixes(src.file):
        raise WeightsError(f"{chosen.name}: {preset} looks for {src.file}, a {_suffixes(src.file)} file; "
                           f"this is a {_suffixes(chosen.name) or 'file without a type'}. To use it as its "
                           "own model, drop it onto the window.")
    (validate or (lambda p, f: validate_weights(p, f, folder)))(preset, chosen)
    target = folder / src.file
    if chosen.resolve() == target.resolve():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.copying")
    try:
        shutil.copyfile(chosen, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise WeightsError(f"cannot copy {chosen.name} into {folder}: {exc.strerror or exc}") from exc
    return target


def download_preset(preset: str | WeightsSource, models_dir: Path | None = None, *, url: str | None = None,
                    sha256: str | None = None, progress=None, cancelled=None, timeout: float = 30.0,
                    validate: Callable[[str, Path], None] | None = None) -> Fetched:
    """Download a preset's weights into the models folder (`url`/`sha256` override the card: a
    mirror, or a local server), check them and load them once."""
    src = preset if isinstance(preset, WeightsSource) else weights_source(preset)
    folder = Path(models_dir or user_models_dir())
    url = url or src.url
    if not url:
        raise ModelSpecError(f"{src.preset}: nothing to download. {src.note}".strip())
    md5 = None if (url != src.url or sha256) else src.md5
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LoupeError(f"cannot create the models folder {folder}: {exc.strerror or exc}") from exc
    check = validate or (lambda p, f: validate_weights(p, f, folder))
    return fetch(url, folder / src.file, sha256=sha256 or (src.sha256 if url == src.url else None), md5=md5,
                 size=src.size if url == src.url else None, progress=progress, cancelled=cancelled,
                 timeout=timeout, validate=lambda path: check(src.preset, path))
