"""Caption speed: the model card's loop (whole model per token) vs Loupe's greedy (encode once,
cached keys/values) vs Loupe's beam search (k=3), on the same image, tokens compared.

    .venv/bin/python tests/benchmarks/bench_caption.py [--max-len 80] [--repeat 2]

Weights: the card's architecture with seeded random weights (scaled so tokens vary), saved as
roco_best_model.bin and loaded through load_model with the real bert-base-uncased vocabulary.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
SHARED = Path(os.environ.get("LOUPE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def best_of(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> int:
    import numpy as np
    import torch
    from caption_helpers import build_card_model, card_greedy, card_image_tensor, save_card_weights
    from PIL import Image

    from models import load_model

    ap = argparse.ArgumentParser()
    ap.add_argument("--max-len", type=int, default=80)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    image = SHARED / "nih/images/00000032_037.png"
    vocab = SHARED / "vocab/bert-base-uncased-vocab.txt"
    card = build_card_model(seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        model = load_model("roco-captioner", weights=save_card_weights(card, Path(tmp)), device="cpu", vocab=vocab)
    rgb = np.asarray(Image.open(image).convert("RGB"))
    x = card_image_tensor(image)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, image {image.name}, max_len {args.max_len}")
    t_card, ref = best_of(lambda: card_greedy(card, x, args.max_len), 1)
    t_greedy, greedy = best_of(lambda: model.generate(rgb, max_len=args.max_len), args.repeat)
    t_beam, beam = best_of(lambda: model.generate(rgb, max_len=args.max_len, beam_size=3), args.repeat)
    print(f"{'decoder':<28}{'seconds':>10}{'tokens':>8}{'vs card':>10}  same tokens as card")
    print(f"{'card loop (whole model/token)':<28}{t_card:>10.2f}{len(ref) - 1:>8}{1.0:>9.1f}x  -")
    print(f"{'Loupe greedy (cached)':<28}{t_greedy:>10.3f}{len(greedy) - 1:>8}{t_card / t_greedy:>9.1f}x  {greedy == ref}")
    print(f"{'Loupe beam 3':<28}{t_beam:>10.3f}{len(beam) - 1:>8}{t_card / t_beam:>9.1f}x  "
          f"(beam/greedy cost {t_beam / t_greedy:.2f}x)")
    return 0 if greedy == ref else 1


if __name__ == "__main__":
    sys.exit(main())
