"""`loupe caption`: caption images with a radiology captioner and write the captions as JSON.

    loupe caption IMAGES... --model roco-captioner --weights roco_best_model.bin --vocab vocab.txt
                  [--beam 3] [--max-len 80] [--out captions.json]

Output: {"model", "options", "captions": {path: caption}, "errors": {path: message}}. An image
that cannot be read is reported in "errors" (and on stderr); the others are still captioned.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_arguments(parser) -> None:
    parser.add_argument("images", nargs="+", help="image files (PNG, JPEG, DICOM, ...)")
    add_model_arguments(parser)
    parser.add_argument("--out", help="write the JSON here (default: print it)")


def add_model_arguments(parser) -> None:
    """The captioner options, shared with `loupe eval --captions`."""
    parser.add_argument("--model", help="preset name (roco-captioner), model card JSON or weights file")
    parser.add_argument("--weights", help="the captioner's weights (roco_best_model.bin)")
    parser.add_argument("--vocab", help="bert-base-uncased vocab.txt or a tokenizer folder")
    parser.add_argument("--beam", type=int, default=1, help="beam size (1: greedy, the card's decoding)")
    parser.add_argument("--max-len", type=int, default=80, help="most new tokens per caption")
    parser.add_argument("--no-repeat-ngram", type=int, default=0, help="ban repeating n-grams of this size")
    parser.add_argument("--repetition-penalty", type=float, default=1.0)
    parser.add_argument("--length-penalty", type=float, default=1.0)
    parser.add_argument("--min-len", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")


def read_rgb(path):
    """RGB uint8 a model gets for any image Loupe reads: the file as the authors' reader reads it
    (8-bit PNG/JPEG through PIL), 16-bit and DICOM with the file's default display (decision 0093)."""
    from desktop.core.imaging.model_input import model_input

    return model_input(path)


def load_captioner(args):
    from models import load_model
    from models.errors import ModelSpecError

    if not args.model:
        raise ModelSpecError("--model is required (e.g. roco-captioner with --weights and --vocab)")
    options = {"vocab": args.vocab} if args.vocab else {}
    model = load_model(args.model, weights=args.weights, device=args.device, **options)
    if model.task != "captioning":
        raise ModelSpecError(f"{args.model} is a {model.task} model; loupe caption needs a captioner")
    return model


def decode_options(args) -> dict:
    return {"max_len": args.max_len, "beam_size": args.beam, "no_repeat_ngram_size": args.no_repeat_ngram,
            "repetition_penalty": args.repetition_penalty, "length_penalty": args.length_penalty,
            "min_length": args.min_len}


# Images per decode: one pass over the decoder's weights serves the whole batch (decision 0082);
# the captions are those of one image at a time.
BATCH_SIZE = 16


def caption_files(model, paths, options, batch_size: int = BATCH_SIZE) -> tuple[dict[str, str], dict[str, str]]:
    from models.batch import run_batch

    captions, errors = {}, {}
    for result in run_batch(model, paths, read_rgb, batch_size=batch_size, **options):
        if result.ok:
            captions[str(result.path)] = result.value
        else:
            errors[str(result.path)] = result.error
            print(f"loupe caption: skipped {result.path}: {result.error}", file=sys.stderr)
    return captions, errors


def run(args) -> int:
    model = load_captioner(args)
    options = decode_options(args)
    captions, errors = caption_files(model, [Path(p) for p in args.images], options)
    text = json.dumps({"model": model.name, "options": options, "captions": captions, "errors": errors},
                      indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0 if captions or not errors else 1
