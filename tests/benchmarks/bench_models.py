"""Model engine figures on this machine, side by side with their baselines (CPU; CUDA too when present).

    .venv/bin/python tests/benchmarks/bench_models.py [--repeats 5] [--device cpu]

1. Loupe `detect` vs `RFDETRNano.predict` on the same weights and images (goal: ratio <= 1.0).
2. Folder throughput: `models.batch.run_batch` (decode ahead in threads, batched forwards) vs a plain
   sequential read-transform-forward loop over the torchvision module (goal: >= 1.3x); a loop of
   Loupe's per-image `classify` is printed too, and the probabilities are compared.
3. Classification per image for each preset vs the plain torchvision forward pass (+ the same
   preprocessing) on the same weights.
Weights are seeded random (nothing is downloaded); images come from ../shared/data.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("LOUPE_SHARED_DATA", ROOT.parent / "shared" / "data"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from PIL import Image  # noqa: E402
from torch import nn  # noqa: E402


def paired(fa, fb, repeats):
    """Medians of fa and fb timed alternately (a shared, busy machine slows both alike)."""
    fa()
    fb()
    ta, tb = [], []
    for _ in range(repeats):
        for f, acc in ((fa, ta), (fb, tb)):
            t = time.perf_counter()
            f()
            acc.append(time.perf_counter() - t)
    return statistics.median(ta), statistics.median(tb)


def rgb(path, size=None):
    im = Image.open(path).convert("RGB")
    return np.asarray(im.resize((size, size)) if size else im)


def bench_detect(tmp, device, repeats):
    import rfdetr
    from safetensors.torch import save_file

    from models import load_model

    torch.manual_seed(0)
    rf = rfdetr.RFDETRNano(num_classes=8, pretrain_weights=None, device=device)
    with torch.no_grad():
        rf.model.model.class_embed.bias.normal_(0, 1.5)
    save_file(rf.model.model.state_dict(), tmp / "heartformer.safetensors")
    m = load_model("heartformer", weights=tmp / "heartformer.safetensors", device=device)
    imgs = [rgb(p) for p in sorted((DATA / "coco_rbc/test").glob("*.jpg"))[:3]]
    print("\n1. detection per image (RF-DETR Nano 384, heartformer weights layout)")
    print(f"   {'image':<12}{'Loupe detect':>14}{'RFDETRNano.predict':>20}{'ratio':>8}")
    ratios = []
    for i, im in enumerate(imgs):
        a, b = paired(lambda im=im: m.detect(im, 0.3), lambda im=im: rf.predict(im, threshold=0.3), repeats)
        ratios.append(a / b)
        print(f"   {i:<12}{a * 1000:>12.1f}ms{b * 1000:>18.1f}ms{a / b:>8.2f}")
    print(f"   median ratio {statistics.median(ratios):.2f} (goal <= 1.0)")


def bench_folder(tmp, device, repeats):
    from torchvision import transforms as T

    from desktop.core.imaging import read_image
    from models import load_model
    from models.batch import run_batch

    torch.manual_seed(1)
    net = torchvision.models.resnet18(weights=None)
    net.fc = nn.Linear(512, 2)
    torch.save(net.state_dict(), tmp / "r18.pt")
    net = net.eval().to(device)
    m = load_model("oasis-resnet18", weights=tmp / "r18.pt", device=device)
    files = sorted((DATA / "nih/images").glob("*.png")) + sorted((DATA / "dicom").glob("*.dcm"))
    files = files * 2
    authors = T.Compose([T.Grayscale(3), T.Resize((256, 256)), T.ToTensor()])  # the OASIS code's transform

    def read(p):
        return read_image(p).display()

    def plain_loop():  # what one writes without Loupe: read, transform, forward, one image at a time
        out = {}
        for p in files:
            try:
                with torch.no_grad():
                    x = authors(Image.fromarray(read(p))).unsqueeze(0).to(device)
                    out[p] = torch.softmax(net(x), 1)[0].cpu().numpy()
            except Exception:
                pass
        return out

    def classify_loop():  # Loupe's own per-image classify in the same loop (the pipeline's share alone)
        for p in files:
            try:
                m.classify(read(p))
            except Exception:
                pass

    def prefetching():
        return {r.path: np.array(list(r.value.values())) for r in run_batch(m, files, read) if r.ok}

    a, b = paired(prefetching, plain_loop, max(1, repeats // 2))
    c = paired(classify_loop, plain_loop, 1)[0]
    got, ref = prefetching(), plain_loop()
    diff = max(float(np.abs(got[p] - ref[p]).max()) for p in ref)
    n = len(files)
    print(f"\n2. folder throughput ({n} files: NIH PNGs and DICOMs, oasis-resnet18; batches of 8, 2 decode threads)")
    print(f"   {'run_batch':<34}{n / a:>8.2f} images/s")
    print(f"   {'plain sequential loop (torchvision)':<34}{n / b:>8.2f} images/s   speed-up {b / a:.2f}x (goal >= 1.3x)")
    print(f"   {'loop of Loupe classify per image':<34}{n / c:>8.2f} images/s   run_batch is {c / a:.2f}x that")
    print(f"   same probabilities as the plain loop: max difference {diff:.1e} over {len(ref)} images")


def bench_classify(tmp, device, repeats):
    from torchvision import transforms as T

    from models import load_model
    from models.classification.qing import CNNTransformerModel

    image = rgb(DATA / "nih/images/00000150_002.png")
    pil = Image.fromarray(image)
    imnet = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    rows = []

    def add(name, loupe_model, plain_model, plain_tf):
        plain_model = plain_model.eval().to(device)

        def plain():
            with torch.no_grad():
                x = plain_tf(pil)
                x = (x if x.dim() == 4 else x.unsqueeze(0)).to(device)
                return plain_model(x)

        rows.append((name, *paired(lambda: loupe_model.classify(image), plain, repeats)))

    torch.manual_seed(2)
    dn = torchvision.models.densenet121(weights=None, num_classes=14)
    torch.save({"state_dict": {f"module.densenet121.{k.replace('classifier.', 'classifier.0.')}": v
                               for k, v in dn.state_dict().items()}}, tmp / "chexnet.pth.tar")
    ten = T.Compose([T.Resize(256), T.TenCrop(224), T.Lambda(lambda cs: torch.stack([imnet(T.ToTensor()(c)) for c in cs]))])
    add("chexnet (ten-crop)", load_model("chexnet", weights=tmp / "chexnet.pth.tar", device=device), dn, ten)
    q = CNNTransformerModel()
    torch.save(q.state_dict(), tmp / "qing.pth")
    add("qing", load_model("qing", weights=tmp / "qing.pth", device=device), q,
        T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize([0.485] * 3, [0.229] * 3)]))
    r18 = torchvision.models.resnet18(weights=None)
    r18.fc = nn.Linear(512, 2)
    torch.save(r18.state_dict(), tmp / "r18.pt")
    add("oasis-resnet18", load_model("oasis-resnet18", weights=tmp / "r18.pt", device=device), r18,
        T.Compose([T.Grayscale(3), T.Resize((256, 256)), T.ToTensor()]))
    vit = torchvision.models.vit_b_16(weights=None)
    vit.heads.head = nn.Linear(768, 2)
    torch.save(vit.state_dict(), tmp / "vit.pt")
    add("oasis-vit", load_model("oasis-vit", weights=tmp / "vit.pt", device=device), vit,
        T.Compose([T.ToTensor(), T.Resize(224)]))
    print("\n3. classification per image (Loupe classify vs plain torchvision forward + same preprocessing)")
    print(f"   {'preset':<22}{'Loupe':>10}{'plain':>10}{'ratio':>8}")
    for name, a, b in rows:
        print(f"   {name:<22}{a * 1000:>8.1f}ms{b * 1000:>8.1f}ms{a / b:>8.2f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--device", default=None, help="cpu (default) and cuda when present")
    p.add_argument("--only", choices=["detect", "folder", "classify"])
    args = p.parse_args(argv)
    if not DATA.is_dir():
        sys.exit(f"real test data not found at {DATA}")
    devices = [args.device] if args.device else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    for device in devices:
        print(f"\n===== device {device} =====")
        with tempfile.TemporaryDirectory() as t:
            tmp = Path(t)
            if args.only in (None, "detect"):
                bench_detect(tmp, device, args.repeats)
            if args.only in (None, "folder"):
                bench_folder(tmp, device, args.repeats)
            if args.only in (None, "classify"):
                bench_classify(tmp, device, args.repeats)


if __name__ == "__main__":
    main()
