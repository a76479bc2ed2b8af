"""`loupe eval --captions`: BLEU, ROUGE-L and CIDEr-D of captions against reference reports.

    loupe eval --captions --references refs.csv --pred captions.json
    loupe eval --captions --references refs.csv --images FOLDER --model roco-captioner \
               --weights roco_best_model.bin --vocab vocab.txt [--beam 3]

The CSV has a header with an image column (file, image, filename, image_id or id) and a text column
(caption, reference, report or text); several rows for one image are several references. Images are
matched to rows by file name without extension (ROCOv2's CSV gives IDs without one). Captions come
from `--pred` (what `loupe caption --out` writes) or are made now from `--images` with `--model`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path, PurePath

from models.errors import LoupeError

IMAGE_COLUMNS = ("file", "image", "filename", "file_name", "image_id", "id", "path")
TEXT_COLUMNS = ("caption", "reference", "report", "text", "findings")


class CaptionEvalError(LoupeError):
    """The references or captions cannot be read or matched."""


def add_caption_arguments(parser) -> None:
    from desktop.commands.caption import add_model_arguments

    parser.add_argument("--references", help="CSV of reference captions (image column, text column)")
    parser.add_argument("--images", help="folder of images to caption now (with --model)")
    add_model_arguments(parser)


def _key(name) -> str:
    return PurePath(str(name).replace("\\", "/")).stem.lower()


def read_references(path) -> dict[str, list[str]]:
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        raise CaptionEvalError(f"{path}: reference CSV not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CaptionEvalError(f"{path}: cannot read the reference CSV ({exc})") from None
    if not rows:
        raise CaptionEvalError(f"{path}: the reference CSV has no rows")
    lower = {c.strip().lower(): c for c in rows[0] if c}
    img_col = next((lower[c] for c in IMAGE_COLUMNS if c in lower), None)
    txt_col = next((lower[c] for c in TEXT_COLUMNS if c in lower), None)
    if img_col is None or txt_col is None:
        raise CaptionEvalError(f"{path}: needs an image column ({', '.join(IMAGE_COLUMNS)}) and a text "
                               f"column ({', '.join(TEXT_COLUMNS)}); found {', '.join(lower) or 'none'}")
    refs: dict[str, list[str]] = {}
    for row in rows:
        name, text = (row.get(img_col) or "").strip(), (row.get(txt_col) or "").strip()
        if name and text:
            refs.setdefault(_key(name), []).append(text)
    return refs


def read_captions(path) -> dict[str, str]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CaptionEvalError(f"{path}: captions file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CaptionEvalError(f"{path}: not a captions JSON ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("captions"), dict):
        data = data["captions"]
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise CaptionEvalError(f"{path}: expected {{file: caption}} or loupe caption's output")
    return {_key(k): v for k, v in data.items()}


def _caption_folder(args) -> dict[str, str]:
    from desktop.commands.caption import caption_files, decode_options, load_captioner
    from desktop.core.folder import list_images

    folder = Path(args.images)
    if not folder.is_dir():
        raise CaptionEvalError(f"{folder}: image folder not found")
    model = load_captioner(args)
    captions, _ = caption_files(model, list_images(folder), decode_options(args))
    return {_key(k): v for k, v in captions.items()}


def evaluate(captions: dict[str, str], refs: dict[str, list[str]]) -> dict:
    from models.captioning.metrics import caption_metrics, cider_scores, rouge_l_sentence

    keys = sorted(k for k in captions if k in refs)
    if not keys:
        raise CaptionEvalError(f"no caption matches a reference row ({len(captions)} captions, "
                               f"{len(refs)} referenced images; matched by file name without extension)")
    hyps, rl = [captions[k] for k in keys], [refs[k] for k in keys]
    result = caption_metrics(hyps, rl)
    ciders = cider_scores(hyps, rl)
    result["unmatched_captions"] = sorted(set(captions) - set(refs))
    result["images_without_caption"] = sorted(set(refs) - set(captions))
    result["per_image"] = [{"image": k, "caption": h, "references": r, "rouge_l": rouge_l_sentence(h, r),
                            "cider": c} for k, h, r, c in zip(keys, hyps, rl, ciders)]
    return result


def run_captions(args) -> int:
    if not getattr(args, "references", None):
        raise CaptionEvalError("--references CSV is required with --captions")
    refs = read_references(args.references)
    if getattr(args, "pred", None):
        captions = read_captions(args.pred)
    elif getattr(args, "images", None):
        captions = _caption_folder(args)
    else:
        raise CaptionEvalError("give the captions with --pred captions.json, or --images FOLDER and --model")
    text = json.dumps(evaluate(captions, refs), indent=2)
    if getattr(args, "out", None):
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0
