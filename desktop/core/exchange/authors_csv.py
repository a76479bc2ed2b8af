"""The chest X-ray EfficientDet authors' annotation CSV, and label mapping on import.

Their `dataset/train_df.csv` / `val_df.csv` (MODELS.md section 2): header
`,Image Index,Finding Label,x,y,w,h,label` (a leading pandas index column), one box per row, pixel
x, y, w, h on the 1024x1024 images, NIH's Mass and Nodule already merged into "Nodule/Mass", and
`label` the class index their model was trained on (0 Atelectasis .. 6 Pneumothorax). A row whose
`label` disagrees with its finding name is reported, not guessed at.

Label mapping: `parse_label_map(["Mass=Nodule/Mass", ...])` or `read_label_map(file)` give a
{label in the file: label to store} dict, and `map_labels(parsed, mapping)` renames the parsed boxes
before anything is written. The CLI (`loupe import --map`, `--map-file`) and the app's import dialog
call the same functions, e.g. to evaluate this model against NIH's box list, where Mass and Nodule
are separate findings (`NIH_TO_AUTHORS`).
"""

from __future__ import annotations

import json
from pathlib import Path

from desktop.core.exchange.csv_rows import box_rows, read_rows
from desktop.core.exchange.errors import ExchangeError
from desktop.core.exchange.importer import Parsed, ParsedBox, Problem

HEADER = ["", "Image Index", "Finding Label", "x", "y", "w", "h", "label"]
AUTHORS_LABELS = ("Atelectasis", "Cardiomegaly", "Effusion", "Infiltrate", "Nodule/Mass", "Pneumonia",
                  "Pneumothorax")
NIH_TO_AUTHORS = {"Mass": "Nodule/Mass", "Nodule": "Nodule/Mass"}


def parse_authors_csv(path: Path) -> Parsed:
    src = str(path)
    out = Parsed(skip_unknown_images=True)  # like NIH's list, it covers a whole dataset
    rows = read_rows(path, out, lambda head: [c.strip() for c in head[:8]] == HEADER,
                     "not the EfficientDet authors' CSV: the header must be ',Image Index,Finding Label,x,y,w,h,label'")
    for where, row, (x, y, w, h) in box_rows(path, rows, out, columns=8, box_at=3):
        name, label = row[2].strip(), row[7].strip()
        try:
            index = int(float(label))
        except (ValueError, OverflowError):  # "inf" overflows int()
            index = -1
        if not 0 <= index < len(AUTHORS_LABELS) or float(label) != index:
            out.problems.append(Problem(src, where, f"label {label!r} is not one of the authors' class "
                                                    f"numbers 0-{len(AUTHORS_LABELS) - 1}"))
            continue
        if name and name != AUTHORS_LABELS[index]:
            out.problems.append(Problem(src, where, f"label {index} is {AUTHORS_LABELS[index]} in the authors' "
                                                    f"classes, but the row's finding is {name!r}"))
            continue
        out.boxes.append(ParsedBox(row[1].strip(), name or AUTHORS_LABELS[index], x, y, w, h, where=where))
    return out


def parse_label_map(specs) -> dict[str, str]:
    """["Mass=Nodule/Mass", "Nodule=Nodule/Mass"] -> {"Mass": "Nodule/Mass", "Nodule": "Nodule/Mass"}."""
    mapping: dict[str, str] = {}
    for spec in specs or ():
        old, sep, new = str(spec).partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise ExchangeError(f"label mapping {spec!r}: write it as OLD=NEW, e.g. Mass=Nodule/Mass")
        if mapping.get(old, new) != new:
            raise ExchangeError(f"label mapping: {old!r} is mapped twice ({mapping[old]!r} and {new!r})")
        mapping[old] = new
    return mapping


def read_label_map(path) -> dict[str, str]:
    """A mapping file: a JSON object {"Mass": "Nodule/Mass", ...}, or one OLD=NEW per line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExchangeError(f"{path}: cannot read the label mapping ({exc})") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExchangeError(f"{path}: the label mapping is not valid JSON ({exc})") from None
        if not all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in data.items()):
            raise ExchangeError(f"{path}: the label mapping must map label names to label names")
        return {k.strip(): v.strip() for k, v in data.items()}
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    try:
        return parse_label_map(lines)
    except ExchangeError as exc:
        raise ExchangeError(f"{path}: {exc}") from None


def map_labels(parsed: Parsed, mapping: dict[str, str] | None) -> Parsed:
    """Rename the parsed boxes' labels by `mapping` (labels it does not name stay as they are)."""
    if not mapping:
        return parsed
    used = {b[1] for b in parsed.boxes}
    parsed.boxes = [ParsedBox(*b[:1], mapping.get(b[1], b[1]), *b[2:]) for b in parsed.boxes]
    renamed = sorted(k for k in mapping if k in used)
    if renamed:
        parsed.notes.append("labels mapped: " + ", ".join(f"{k} -> {mapping[k]}" for k in renamed))
    return parsed
