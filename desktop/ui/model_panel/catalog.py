"""Which models the panel offers (no Qt): the presets shipped in `resources/presets/` and the cards
in the user's models folder, each with what it is, its classes, its weights file, and, when the
weights are missing, which file to get and where to put it.

A card is the JSON of `models.base.ModelCard`; its `weights` is relative to the card's folder, or,
for presets, looked up in the user's models folder.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from models.errors import ModelSpecError

log = logging.getLogger(__name__)


@dataclass
class ModelEntry:
    name: str
    spec: str  # what models.load_model takes: a preset name or a card's path
    card: dict
    origin: str  # "preset" | "user"
    card_path: Path | None = None
    weights: Path | None = None  # where the weights are (or are expected)
    problems: list[str] = field(default_factory=list)

    @property
    def task(self) -> str:
        return str(self.card.get("task", ""))

    @property
    def class_names(self) -> list[str]:
        return [str(c) for c in self.card.get("class_names", [])]

    @property
    def controls(self) -> list[str]:
        return [str(c) for c in self.card.get("controls", [])]

    @property
    def weights_present(self) -> bool:
        return self.weights is not None and self.weights.is_file()

    @property
    def key(self) -> str:
        """Identifies this model's runs (resume bookkeeping): its name and weights file."""
        return f"{self.name}|{self.weights or ''}"

    def missing_text(self, models_dir: Path) -> str:
        """What the user must do when the weights file is not there."""
        wanted = self.card.get("weights") or (self.weights.name if self.weights else "the weights file")
        wanted = Path(str(wanted)).name
        source = self.card.get("source") or "its authors' published release"
        text = (f"Weights file missing: get {wanted} from {source} and put it in {models_dir} "
                f"(or drop it onto the window).")
        if self.origin == "preset":
            text += " Get weights… below shows where it comes from, and downloads or copies it for you."
        return text

    def describe(self) -> str:
        """A few lines on what the model is: task, description, classes, file."""
        lines = [f"{self.name} ({self.task or 'unknown task'}, {self.card.get('architecture', '?')})"]
        if self.card.get("description"):
            lines.append(str(self.card["description"]))
        if self.class_names:
            shown = ", ".join(self.class_names[:20])
            more = f" and {len(self.class_names) - 20} more" if len(self.class_names) > 20 else ""
            lines.append(f"Classes: {shown}{more}")
        lines.append(f"File: {self.weights}" if self.weights else "File: none given")
        from desktop.core.imaging.model_input import INPUT_NOTE

        lines.append(INPUT_NOTE)
        return "\n".join(lines)


def read_card(path: Path) -> dict:
    try:
        card = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelSpecError(f"{path}: not a readable model card: {exc}") from exc
    if not isinstance(card, dict) or "name" not in card or "architecture" not in card:
        raise ModelSpecError(f"{path}: not a model card (needs at least 'name' and 'architecture')")
    return card


def _resolve_weights(card: dict, card_dir: Path | None, models_dir: Path) -> Path | None:
    w = card.get("weights")
    if not w:
        return None
    p = Path(str(w)).expanduser()
    if p.is_absolute():
        return p
    candidates = ([card_dir / p] if card_dir else []) + [models_dir / p, models_dir / p.name]
    for c in candidates:
        if c.is_file():
            return c
    return candidates[-1] if card_dir is None else candidates[0]


def _preset_cards() -> list[tuple[dict, Path | None]]:
    """(card, its file) of each preset, through models.registry when it is there."""
    out: list[tuple[dict, Path | None]] = []
    try:
        from models import registry

        presets = registry.list_presets()
    except Exception as exc:  # a broken registry must not take the panel down
        log.info("no presets: %s", exc)
        from models.resources import presets_dir

        presets = sorted(presets_dir().glob("*.json")) if presets_dir().is_dir() else []
    for item in presets:
        try:
            out.append(_as_card(item))
        except Exception as exc:
            log.warning("skipping preset %r: %s", item, exc)
    return out


def _as_card(item) -> tuple[dict, Path | None]:
    from models.resources import presets_dir

    if isinstance(item, dict):
        return dict(item), None
    if dataclasses.is_dataclass(item):
        return dataclasses.asdict(item), None
    p = Path(str(item))
    if p.suffix == ".json" and p.is_file():
        return read_card(p), p
    guess = presets_dir() / f"{item}.json"
    if guess.is_file():
        return read_card(guess), guess
    raise ModelSpecError(f"preset {item!r}: no card found")


def list_models(models_dir: Path) -> list[ModelEntry]:
    """Presets first (their name is the spec), then the user's cards (their path is the spec)."""
    models_dir = Path(models_dir)
    entries: list[ModelEntry] = []
    for card, path in _preset_cards():
        entries.append(ModelEntry(name=str(card["name"]), spec=str(card["name"]), card=card, origin="preset",
                                  card_path=path, weights=_resolve_weights(card, None, models_dir)))
    if models_dir.is_dir():
        for path in sorted(models_dir.glob("*.json")):
            try:
                card = read_card(path)
            except ModelSpecError as exc:
                log.warning("%s", exc)
                continue
            entries.append(ModelEntry(name=str(card["name"]), spec=str(path), card=card, origin="user",
                                      card_path=path, weights=_resolve_weights(card, path.parent, models_dir)))
    return entries


def entry_for_card(card_path: Path, models_dir: Path) -> ModelEntry:
    card_path = Path(card_path)
    card = read_card(card_path)
    return ModelEntry(name=str(card["name"]), spec=str(card_path), card=card, origin="user",
                      card_path=card_path, weights=_resolve_weights(card, card_path.parent, models_dir))


def write_card_for_weights(card: dict, weights: Path, models_dir: Path) -> Path:
    """Write `<models_dir>/<weights stem>.json` pointing at `weights` (absolute); returns its path.

    `card` is what the loader recognised from the file's tensors. An existing card of the same
    name is never overwritten: a number is added.
    """
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    card = dict(card)
    card["extra"] = {k: v for k, v in (card.get("extra") or {}).items() if k != "card_dir"}
    card["weights"] = str(Path(weights).resolve())
    card.setdefault("name", Path(weights).stem)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(weights).stem) or "model"
    target = models_dir / f"{stem}.json"
    n = 2
    while target.exists():
        target = models_dir / f"{stem}-{n}.json"
        n += 1
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(card, indent=2, default=str), encoding="utf-8")
    tmp.replace(target)
    return target
