"""Where each preset's weights file comes from (no Qt, no torch): the `download` entry of its card
in resources/presets/*.json, and for RF-DETR's COCO checkpoints the list the installed `rfdetr`
package ships (file name, URL and MD5), read from its source without importing it (importing
rfdetr loads torch: 15 s for `loupe weights list`). Nothing here touches the network.

A card's `download` entry is one of
    {"page": URL, "url": URL, "host": "Hugging Face", "sha256": HEX|null, "size": BYTES|null}
    {"page": URL, "rfdetr_asset": "rf-detr-nano.pth"}
    {"published": false, "note": "what to do instead"}
    {"page": URL, "hf_repo": "owner/name", "files": [...]}  (a folder preset: several files)

A preset whose card says `extra.weights_folder` (the segment-anything models) has a *folder* of
weights in the Hugging Face layout, not one file: its source lists the folder's files, each with its
address on the Hugging Face repository (`https://huggingface.co/<repo>/resolve/main/<file>`), and it
is present when the folder holds what the loader needs (models/segmentation/folder.py).
"""

from __future__ import annotations

import ast
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from models.errors import ModelSpecError
from models.resources import presets_dir, user_models_dir

# what a Hugging Face segment-anything folder holds (the loader's check: models/segmentation/folder.py)
FOLDER_FILES = ("config.json", "preprocessor_config.json", "model.safetensors")


@dataclass
class WeightsSource:
    preset: str
    file: str  # the file name the preset looks for in the models folder
    page: str | None = None  # the page a person can read (model card, repository)
    url: str | None = None  # the file itself; None when nothing is published
    host: str = ""
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None
    note: str = ""  # why there is nothing to download, or what else is needed
    repo: str | None = None  # a folder preset: its Hugging Face repository (owner/name)
    files: tuple[str, ...] = ()  # a folder preset: the files of the folder `file` names

    @property
    def is_folder(self) -> bool:
        return bool(self.files)

    @property
    def downloadable(self) -> bool:
        return bool(self.url) or bool(self.repo and self.files)

    def file_urls(self) -> list[tuple[str, str]]:
        """A folder preset's (file name, address) pairs; [] for a one-file preset."""
        if not (self.repo and self.files):
            return []
        return [(f, f"https://huggingface.co/{self.repo}/resolve/main/{f}") for f in self.files]

    def missing_files(self, models_dir: Path | None = None) -> list[str]:
        """What the models folder still lacks: [] when the preset is present."""
        target = Path(models_dir or user_models_dir()) / self.file
        if not self.is_folder:
            return [] if target.is_file() else [self.file]
        if not target.is_dir():
            return list(self.files)
        missing = [f for f in self.files if f != "model.safetensors" and not (target / f).is_file()]
        if not ((target / "model.safetensors").is_file() or (target / "model.safetensors.index.json").is_file()):
            missing.append("model.safetensors")
        return missing

    def checksum_text(self) -> str:
        if self.sha256:
            return f"SHA-256 {self.sha256}"
        if self.md5:
            return f"MD5 {self.md5}"
        return "not published (checked by loading the file)"

    def size_text(self) -> str:
        return f"{self.size / 1e6:,.1f} MB" if self.size else "not published"

    def present(self, models_dir: Path | None = None) -> bool:
        """The file (or, for a folder preset, the folder with every file the loader needs) is there."""
        return not self.missing_files(models_dir)


def rfdetr_assets() -> dict[str, tuple[str, str | None]]:
    """file name -> (url, md5) of the checkpoints the installed rfdetr package lists
    (`rfdetr.assets.model_weights.ModelWeights`); {} when rfdetr is not installed."""
    try:
        spec = importlib.util.find_spec("rfdetr")
    except (ImportError, ValueError):
        return {}
    if spec is None or not spec.submodule_search_locations:
        return {}
    source = Path(next(iter(spec.submodule_search_locations))) / "assets" / "model_weights.py"
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return _rfdetr_assets_imported()
    found: dict[str, tuple[str, str | None]] = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ModelWeightAsset"
                and len(node.args) >= 2 and all(isinstance(a, ast.Constant) for a in node.args)):
            name, url, *rest = (a.value for a in node.args)
            found[str(name)] = (str(url), str(rest[0]) if rest and rest[0] else None)
    return found or _rfdetr_assets_imported()


def _rfdetr_assets_imported() -> dict[str, tuple[str, str | None]]:
    try:
        from rfdetr.assets.model_weights import ModelWeights
    except Exception:
        return {}
    return {m.filename: (m.url, m.md5_hash) for m in ModelWeights}


def _preset_files() -> list[Path]:
    return sorted(presets_dir().glob("*.json"))


def _read(path: Path) -> dict:
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelSpecError(f"{path}: not a readable model card: {exc}") from exc
    if not isinstance(card, dict) or "name" not in card:
        raise ModelSpecError(f"{path}: not a model card")
    return card


def source_from_card(card: dict, assets: dict | None = None) -> WeightsSource:
    name = str(card["name"])
    file = Path(str(card.get("weights") or f"{name}.safetensors")).name
    entry = card.get("download") or (card.get("extra") or {}).get("download") or {}
    src = WeightsSource(preset=name, file=file, page=entry.get("page"), host=str(entry.get("host", "")),
                        note=str(entry.get("note", "")))
    if (card.get("extra") or {}).get("weights_folder"):
        src.repo = entry.get("hf_repo") or None
        src.files = tuple(entry.get("files") or FOLDER_FILES)
        src.host = src.host or (f"Hugging Face ({src.repo})" if src.repo else "")
    elif entry.get("rfdetr_asset"):
        assets = rfdetr_assets() if assets is None else assets
        found = assets.get(str(entry["rfdetr_asset"]))
        if found:
            src.url, src.md5 = found
            src.host = src.host or "Roboflow (as the installed rfdetr package lists it)"
        else:
            src.note = src.note or (f"the installed rfdetr package does not list {entry['rfdetr_asset']}; "
                                    "use Choose file")
    elif entry.get("url"):
        src.url = str(entry["url"])
        src.sha256 = entry.get("sha256") or None
        src.md5 = entry.get("md5") or None
        src.size = int(entry["size"]) if entry.get("size") else None
    elif not src.note:
        src.note = "Its authors publish no weights file. Train one (the Training dock), or bring your own checkpoint into the models folder."
    return src


def weights_sources() -> list[WeightsSource]:
    """Every preset's source, by preset name."""
    assets = rfdetr_assets()
    return [source_from_card(_read(p), assets) for p in _preset_files()]


def weights_source(preset: str) -> WeightsSource:
    path = presets_dir() / f"{preset}.json"
    if not path.is_file():
        names = ", ".join(p.stem for p in _preset_files())
        raise ModelSpecError(f"unknown preset {preset!r}; the presets are {names}")
    return source_from_card(_read(path))
