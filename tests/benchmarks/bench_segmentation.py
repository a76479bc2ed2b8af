"""Embedding time and prompt latency of each segment-anything preset, beside the plain transformers
call for the same thing (processor + the whole model for each prompt), measured in the same run.

Seeded random weights at the published input size (1024) with small layer widths, so it runs without
the real folders; pass --folder PRESET=PATH to time a real one. CPU unless --device says otherwise.

    python tests/benchmarks/bench_segmentation.py [--size 1024] [--repeats 5] [--folder medsam=~/models/medsam-vit-base]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PRESETS = {"sam-vit-base": ("sam", "sam"), "medsam": ("sam", "medsam"), "slimsam": ("sam", "sam"),
           "sam2.1-tiny": ("sam2", "sam")}


def _ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    import torch

    from models import load_model
    from models.segmentation.tiny import write_tiny_folder

    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--folder", action="append", default=[], help="PRESET=PATH of a real weights folder")
    args = ap.parse_args()
    real = dict(f.split("=", 1) for f in args.folder)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (1024, 1024, 3), dtype=np.uint8)  # NIH radiographs are 1024 x 1024
    box = (300, 350, 700, 800)
    print(f"image 1024x1024, model input {args.size}, device {args.device}, median of {args.repeats}")
    print(f"{'preset':14} {'embed ms':>9} {'prompt ms':>10} {'plain call ms (per prompt)':>27}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (family, kind) in PRESETS.items():
            folder = real.get(name) or write_tiny_folder(Path(tmp) / name, family, kind, image_size=args.size)
            m = load_model(name, weights=folder, device=args.device)
            emb = m.embed(rgb)
            embed_ms = _ms(lambda m=m: m.embed(rgb), args.repeats)
            prompt_ms = _ms(lambda m=m, emb=emb: m.segment(emb, box=box), args.repeats)

            def plain(m=m):
                enc = m.processor(images=rgb, input_boxes=[[list(box)]], return_tensors="pt").to(args.device)
                with torch.inference_mode():
                    out = m.torch_module(**enc, multimask_output=False)
                sizes = [enc["original_sizes"].cpu()] + (
                    [enc["reshaped_input_sizes"].cpu()] if "reshaped_input_sizes" in enc else [])
                m.processor.post_process_masks(out.pred_masks.cpu(), *sizes)

            plain_ms = _ms(plain, args.repeats)
            print(f"{name:14} {embed_ms:9.1f} {prompt_ms:10.1f} {plain_ms:27.1f}"
                  f"{'' if name in real else '   (tiny random weights)'}")


if __name__ == "__main__":
    main()
