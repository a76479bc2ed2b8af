"""`loupe saliency`: where a model looked, as an overlay PNG (and optionally the raw map as .npy).

    loupe saliency IMAGE --model M [--weights W] --method gradcam [--target CLASS] [--box N]
                   --out heat.png [--npy heat.npy] [--smooth]

The map is (H, W) float32 in [0, 1], aligned with the image as displayed. Detectors: --box N
explains the N-th detection (by score); without --box, a class-agnostic EigenCAM map.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

METHOD_CHOICES = ("gradcam", "guided-gradcam", "guided-backprop", "gradient-shap", "integrated-gradients",
                  "occlusion", "input-x-gradient", "saliency", "attention", "eigencam")


def add_arguments(parser) -> None:
    parser.add_argument("image", help="image file (PNG, JPEG, DICOM, ...)")
    parser.add_argument("--model", required=True, help="preset name, model card JSON or weights file")
    parser.add_argument("--weights", help="weights file for a preset")
    parser.add_argument("--method", default="gradcam", choices=METHOD_CHOICES)
    parser.add_argument("--smooth", action="store_true", help="wrap the method in SmoothGrad (NoiseTunnel)")
    parser.add_argument("--target", help="class name or index to explain (default: the top class)")
    parser.add_argument("--box", type=int, help="detectors: index of the detection to explain (by score)")
    parser.add_argument("--threshold", type=float, help="detectors: score threshold for the boxes")
    parser.add_argument("--out", required=True, help="overlay PNG to write")
    parser.add_argument("--npy", help="also write the raw (H, W) float32 map here")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")


def run(args) -> int:
    import numpy as np
    from PIL import Image

    from desktop.commands.caption import read_rgb
    from models import load_model
    from models.saliency import explain
    from models.saliency.overlay import overlay

    rgb = read_rgb(args.image)
    model = load_model(args.model, weights=args.weights, device=args.device)
    target = args.target
    if target is not None and target.isdigit():
        target = int(target)
    opts = {"smooth": args.smooth}
    if args.threshold is not None:
        opts["threshold"] = args.threshold
    heat = explain(model, rgb, args.method, target=target, box=args.box, **opts)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(overlay(rgb, heat)).save(out)
    if args.npy:
        np.save(args.npy, heat.astype(np.float32))
    from desktop.core.phi import burned_in_warning_for

    burned = burned_in_warning_for(args.image)  # the overlay holds the film's pixels
    if burned:
        print(f"warning: {out} may show the patient's name or ID in its pixels: {burned}", file=sys.stderr)
    print(json.dumps({"image": str(args.image), "model": model.name, "method": args.method,
                      "target": target, "box": args.box, "out": str(out), "npy": args.npy,
                      "burned_in_text": burned}))
    return 0
