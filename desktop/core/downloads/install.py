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


def install_folder(preset: str, chosen: str | Path, models_dir: Path | None = None,
                   validate: Callable[[str, Path], None] | None = None) -> Path:
    """Copy a weights *folder* (a segment-anything preset's Hugging Face folder) into the models
    folder under the name the preset looks for, after loading it once. Returns the installed path."""
    src = weights_source(preset)
    chosen, folder = Path(chosen), Path(models_dir or user_models_dir())
    if not src.is_folder:
        raise WeightsError(f"{preset}'s weights are one file ({src.file}), not a folder: use Choose file…")
    if not chosen.is_dir():
        raise WeightsError(f"{chosen}: not a folder; {preset}'s weights are a folder holding "
                           f"{', '.join(src.files)}")
    (validate or (lambda p, f: validate_weights(p, f, folder)))(preset, chosen)
    target = folder / src.file
    if chosen.resolve() == target.resolve():
        return target
    tmp = folder / f".{src.file}.copying"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(chosen, tmp)
        _replace_folder(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise WeightsError(f"cannot copy {chosen.name} into {folder}: {exc.strerror or exc}") from exc
    return target


def _replace_folder(new: Path, target: Path) -> None:
    """Put the folder `new` at `target`; an older folder there is moved aside first, then removed."""
    old = target.with_name(f".{target.name}.old")
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(new, target)
    shutil.rmtree(old, ignore_errors=True)


def download_folder(src: WeightsSource, folder: Path, *, base: str | None = None, progress=None, cancelled=None,
                    timeout: float = 30.0, validate: Callable[[str, Path], None] | None = None) -> Fetched:
    """Download a folder preset's files one by one (each resumable, as `fetch` does) into a staging
    folder beside the target, load the folder once, then move it into place: the preset's folder is
    either absent or complete. `base` replaces the repository's address (a mirror, a local server):
    each file is then `<base>/<file>`."""
    from desktop.core.downloads.downloader import PARTIAL_DIR

    staging = folder / PARTIAL_DIR / src.file
    staging.mkdir(parents=True, exist_ok=True)
    urls = [(f, f"{base.rstrip('/')}/{f}") for f in src.files] if base else src.file_urls()
    size = resumed = 0
    for name, url in urls:
        if (staging / name).is_file():  # fetched completely by an earlier try
            size += (staging / name).stat().st_size
            continue
        got = fetch(url, staging / name, progress=progress, cancelled=cancelled, timeout=timeout)
        size += got.size
        resumed += got.resumed_from
    (validate or (lambda p, f: validate_weights(p, f, folder)))(src.preset, staging)
    target = folder / src.file
    _replace_folder(staging, target)
    return Fetched(target, size, "", "", resumed)


def download_preset(preset: str | WeightsSource, models_dir: Path | None = None, *, url: str | None = None,
                    sha256: str | None = None, progress=None, cancelled=None, timeout: float = 30.0,
                    validate: Callable[[str, Path], None] | None = None) -> Fetched:
    """Download a preset's weights into the models folder (`url`/`sha256` override the card: a
    mirror, or a local server), check them and load them once."""
    src = preset if isinstance(preset, WeightsSource) else weights_source(preset)
    folder = Path(models_dir or user_models_dir())
    url = url or src.url
    if not url and not src.is_folder:
        raise ModelSpecError(f"{src.preset}: nothing to download. {src.note}".strip())
    md5 = None if (url != src.url or sha256) else src.md5
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LoupeError(f"cannot create the models folder {folder}: {exc.strerror or exc}") from exc
    check = validate or (lambda p, f: validate_weights(p, f, folder))
    if src.is_folder:  # several files (a segment-anything folder); `url` is then a base address
        return download_folder(src, folder, base=url, progress=progress, cancelled=cancelled, timeout=timeout,
                               validate=check)
    return fetch(url, folder / src.file, sha256=sha256 or (src.sha256 if url == src.url else None), md5=md5,
                 size=src.size if url == src.url else None, progress=progress, cancelled=cancelled,
                 timeout=timeout, validate=lambda path: check(src.preset, path))
