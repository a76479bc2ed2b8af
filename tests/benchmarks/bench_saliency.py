"""Saliency speed per method per classifier preset (CPU), and Grad-CAM on ResNet-18 against
pytorch-grad-cam's GradCAM on the same model and image (time and max abs difference of the maps).

    .venv/bin/python tests/benchmarks/bench_saliency.py [--presets oasis-resnet18,chexnet,qing,oasis-vit]

Presets are built with seeded random weights in their published layouts and loaded by load_model;
defaults of each method are Loupe's own (IG 32 steps, Gradient SHAP 16 samples, occlusion window 1/8).
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


def timed(fn, repeat=1):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def gradcam_vs_pytorch_grad_cam(rgb, repeat=3):
    import numpy as np
    import torch
    import torchvision
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    from saliency_helpers import preset_model

    from models.saliency import explain

    with tempfile.TemporaryDirectory() as tmp:
        model = preset_model("oasis-resnet18", Path(tmp))
    net = model.torch_module
    assert isinstance(net, torchvision.models.ResNet)
    x = model.preprocess(rgb)
    t_ours, ours = timed(lambda: explain(model, rgb, "gradcam", target=1), repeat)

    def theirs_fn():
        with GradCAM(model=net, target_layers=[net.layer4]) as cam:
            m = cam(input_tensor=x, targets=[ClassifierOutputTarget(1)])[0]
        import cv2  # to the image's size, as Loupe's map is

        return cv2.resize(m, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)

    t_theirs, theirs = timed(theirs_fn, repeat)
    torch.set_grad_enabled(True)
    diff = float(np.abs(ours - theirs).max())
    corr = float(np.corrcoef(ours.ravel(), theirs.ravel())[0, 1])
    print("\nGrad-CAM on ResNet-18 (oasis-resnet18 preset, layer4, 256x256 input)")
    print(f"{'implementation':<22}{'seconds':>10}")
    print(f"{'Loupe (Captum)':<22}{t_ours:>10.3f}")
    print(f"{'pytorch-grad-cam':<22}{t_theirs:>10.3f}")
    print(f"max |Loupe - pytorch-grad-cam| = {diff:.4f} (maps in [0, 1]), correlation {corr:.4f}")


def main() -> int:
    import numpy as np
    import torch
    from saliency_helpers import preset_model

    from models.saliency import METHODS, explain

    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", default="oasis-resnet18,chexnet,qing,oasis-vit")
    ap.add_argument("--size", type=int, default=512, help="image side in pixels")
    args = ap.parse_args()
    rgb = (np.random.default_rng(0).random((args.size, args.size, 3)) * 255).astype(np.uint8)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU, image {args.size}x{args.size}")
    presets = args.presets.split(",")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in presets:
            model = preset_model(name, Path(tmp))
            explain(model, rgb, "gradcam", target=1)  # warm-up: first-call allocations out of the figures
            rows[name] = {m: timed(lambda m=m, mo=model: explain(mo, rgb, m, target=1))[0] for m in METHODS}
            rows[name]["smoothgrad-gradcam"] = timed(lambda mo=model: explain(mo, rgb, "smoothgrad-gradcam", target=1))[0]
            print(f"  {name} done", file=sys.stderr)
    methods = list(METHODS) + ["smoothgrad-gradcam"]
    print(f"{'seconds per map':<24}" + "".join(f"{p:>16}" for p in presets))
    for m in methods:
        print(f"{m:<24}" + "".join(f"{rows[p][m]:>16.2f}" for p in presets))
    gradcam_vs_pytorch_grad_cam(rgb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
