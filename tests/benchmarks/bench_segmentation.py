"""Embedding time and prompt latency (click -> box) of each segment-anything preset, beside the plain
transformers calls for the same thing, measured in the same run.

Two sizes of seeded random weights, so it runs without the real folders: tiny configs (small layer
widths, the published input size 1024) and, with --published, each preset at its published size
(SAM ViT-B, MedSAM = ViT-B, SlimSAM-77, SAM 2.1 Hiera-Tiny; a few hundred MB written to a
temporary folder). Pass --folder PRESET=PATH to time a real folder. CPU unless --device says.

Columns (median ms):
  embed         Loupe's `embed` (the processor + the image encoder), once per image
  click->box    Loupe's `prompt` for one click: decoder + the exact full-resolution box (fastbox)
  refine        Loupe's `prompt` for a box prompt (F)
  segment+box   Loupe's `segment` (the full-resolution mask) + box_from_mask, for the click
  plain prompt  transformers as its docs show it, with the embedding reused: processor(images,
                input_points) + model(image_embeddings=...) + post_process_masks + the box
  plain call    processor + the whole model (encoder too) + post_process_masks, per prompt
  floor         one (4096 x 256) @ (256 x 256) float32 matmul, measured in the same run before the
                click timing / after the row: the size of one projection of SAM's image tokens, the
                machine's own unit of work at that moment
  load average  the machine's 1, 5 and 15 minute load averages after the row (os.getloadavg)
Subnormal floats are flushed to zero as the app does (decision 0155); --keep-subnormals times the
baseline without it (on x86 the embedding of a non-square, zero-padded image is ~10x slower).
With --gui, the click -> box through the window's engine (worker thread, queued signal) and the
longest the Qt event loop waited while embeddings and prompts ran; then the realistic case: clicks on
the image on screen while the next image's embedding is computed ahead, under each thread policy
(--assist-threads: "new", decision 0127's per-task counts; "old", torch's default in both workers, as
before it; "both", alternating old / new, --rounds times each; "all", also "spare0": the embedding
ahead on every core, a prompt meanwhile on one): the click -> box while the ahead
embedding runs, the same clicks once it is done, how long the ahead embedding took meanwhile, and the
longest event-loop wait.

    python tests/benchmarks/bench_segmentation.py [--published] [--gui] [--repeats 5] [--folder medsam=PATH]
        [--assist-threads both] [--rounds 2] [--gui-only]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

PRESETS = {"sam-vit-base": ("sam", "sam"), "medsam": ("sam", "medsam"), "slimsam": ("sam", "sam"),
           "sam2.1-tiny": ("sam2", "sam")}


def _ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _floor_ms() -> float:
    """The machine's own floor at this moment: one (4096 x 256) @ (256 x 256) float32 matmul, the size
    of one projection of SAM's 64 x 64 image tokens (median of 20)."""
    import torch

    a, b = torch.randn(4096, 256), torch.randn(256, 256)
    return _ms(lambda: a @ b, 20)


def _load() -> str:
    try:
        return "load " + " ".join(f"{v:.1f}" for v in __import__("os").getloadavg())
    except OSError:
        return ""


def _image(large: bool) -> np.ndarray:
    """A real radiograph (NIH, 1024 x 1024) when ../shared/data has it, else noise; `large`: the same
    resized to 2048 x 2500 (a full-size CR/DX image), where the full-resolution mask costs most."""
    from PIL import Image

    path = ROOT.parent / "shared" / "data" / "nih" / "images" / "00000032_037.png"
    img = Image.open(path).convert("RGB") if path.is_file() else Image.fromarray(
        np.random.default_rng(0).integers(0, 256, (1024, 1024, 3), dtype=np.uint8))
    if large:
        img = img.resize((2048, 2500), Image.BILINEAR)
    return np.asarray(img)


def plain_prompt(m, rgb, emb, point, device):
    """The transformers way of prompting with a precomputed embedding, and the mask's box."""
    import torch

    from models.segmentation import box_from_mask

    enc = m.processor(images=rgb, input_points=[[[list(point)]]], return_tensors="pt").to(device)
    with torch.inference_mode():
        out = m.torch_module(image_embeddings=emb.features, input_points=enc["input_points"], multimask_output=True)
    sizes = [enc["original_sizes"].cpu()] + ([enc["reshaped_input_sizes"].cpu()] if "reshaped_input_sizes" in enc else [])
    masks = m.processor.post_process_masks(out.pred_masks.cpu(), *sizes)[0]
    return box_from_mask(masks[0, int(out.iou_scores[0, 0].argmax())].numpy())


def plain_call(m, rgb, point, device):
    import torch

    enc = m.processor(images=rgb, input_points=[[[list(point)]]], return_tensors="pt").to(device)
    with torch.inference_mode():
        out = m.torch_module(**enc, multimask_output=True)
    sizes = [enc["original_sizes"].cpu()] + ([enc["reshaped_input_sizes"].cpu()] if "reshaped_input_sizes" in enc else [])
    m.processor.post_process_masks(out.pred_masks.cpu(), *sizes)


def bench_model(name, m, rgb, args, note):
    from models.segmentation import box_from_mask

    point, box = (rgb.shape[1] * 0.4, rgb.shape[0] * 0.45), (rgb.shape[1] * 0.3, rgb.shape[0] * 0.35,
                                                               rgb.shape[1] * 0.7, rgb.shape[0] * 0.8)
    t = time.perf_counter()
    emb = m.embed(rgb)
    first_embed_ms = (time.perf_counter() - t) * 1000
    reps_embed = 1 if note == "published" else args.repeats
    embed_ms = first_embed_ms if args.quick else _ms(lambda: m.embed(rgb), reps_embed)
    click = [(point[0], point[1], 1)]
    fast = m.prompt(emb, points=click)
    assert fast.box == box_from_mask(m.segment(emb, points=click)[0]), "fastbox differs from the full mask's box"
    floor_before = _floor_ms()
    click_ms = _ms(lambda: m.prompt(emb, points=click), args.repeats)
    refine_ms = _ms(lambda: m.prompt(emb, box=box), args.repeats)
    segment_ms = _ms(lambda: box_from_mask(m.segment(emb, points=click)[0]), args.repeats)
    plain_ms = _ms(lambda: plain_prompt(m, rgb, emb, point, args.device), args.repeats)
    call_ms = float("nan") if args.quick else _ms(lambda: plain_call(m, rgb, point, args.device), reps_embed)
    print(f"{name:13} {note:10} {rgb.shape[1]}x{rgb.shape[0]:<5} {embed_ms:9.0f} {click_ms:10.1f} {refine_ms:8.1f} "
          f"{segment_ms:11.1f} {plain_ms:12.1f} {call_ms:10.0f} {floor_before:5.1f}/{_floor_ms():<5.1f} {_load()}", flush=True)
    return emb


def bench_gui(m, name, paths, rgbs):
    """Click -> box through AssistEngine (the window's path), and the longest event-loop wait."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtGui import QGuiApplication

    from desktop.ui.editor.assist.engine import AssistEngine

    app = QGuiApplication.instance() or QGuiApplication([])
    engine = AssistEngine(read=lambda p: rgbs[p])
    engine.model, engine.model_key, engine.model_name = m, f"bench:{name}", name
    stall = {"max": 0.0}
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick():
        now = clock.elapsed()
        stall["max"] = max(stall["max"], now - last[0] - 10)
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)

    def wait(cond, ms=600000):
        t = time.perf_counter()
        while not cond() and (time.perf_counter() - t) * 1000 < ms:
            app.processEvents()
            time.sleep(0.001)

    engine.show(paths[0], paths[1])
    wait(lambda: engine.embedding(paths[0]) is not None and engine.embedding(paths[1]) is not None)
    latencies = []
    got = []
    engine.prompted.connect(lambda r: got.append(time.perf_counter()))
    for k in range(10):
        t = time.perf_counter()
        n = len(got)
        engine.prompt(paths[0], [(300 + 20 * k, 400, 1)])
        wait(lambda n=n: len(got) > n)
        latencies.append((got[-1] - t) * 1000)
    burst_t = time.perf_counter()  # 20 clicks at once: they coalesce
    n = len(got)
    for k in range(20):
        engine.prompt(paths[0], [(300, 300 + 10 * k, 1)])
    wait(lambda: len(got) > n and not engine._running and engine._waiting is None)
    burst_ms = (got[-1] - burst_t) * 1000
    timer.stop()
    print(f"  window path ({name}): click -> box median {statistics.median(latencies):.1f} ms, "
          f"max {max(latencies):.1f} ms; 20 clicks at once coalesced into {len(got) - n} prompt(s), "
          f"last box after {burst_ms:.0f} ms; longest event-loop wait {stall['max']:.0f} ms "
          f"(while embedding 2 images and prompting)")


class _Stalls:
    """The longest wait of the Qt event loop beyond a 10 ms timer's period, while it runs."""

    def __init__(self):
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.max = 0.0
        self.clock = QElapsedTimer()
        self.clock.start()
        self.last = self.clock.elapsed()
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)
        self.timer.start(10)

    def _tick(self):
        now = self.clock.elapsed()
        self.max = max(self.max, now - self.last - 10)
        self.last = now

    def stop(self):
        self.timer.stop()


def bench_ahead(m, name, rgb, args):
    """Clicks on the image on screen while the next image's embedding runs ahead, old and new thread
    policy (decision 0127) alternating in the same run; every ahead image is a new one (rolled pixels)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    from desktop.core.refine import EmbeddingCache
    from desktop.core.refine_threads import ThreadPolicy
    from desktop.ui.editor.assist.engine import AssistEngine

    app = QGuiApplication.instance() or QGuiApplication([])
    order = {"new": ["new"], "old": ["old"], "both": ["old", "new"],
             "all": ["old", "new", "spare0"]}[args.assist_threads] * args.rounds
    rgbs = {"shown.png": rgb}
    rgbs.update({f"next{k}.png": np.roll(rgb, 37 * (k + 1), axis=1).copy() for k in range(len(order))})
    cache = EmbeddingCache(len(rgbs) + 1)

    def wait(cond, ms=1800000):
        t = time.perf_counter()
        while not cond() and (time.perf_counter() - t) * 1000 < ms:
            app.processEvents()
            time.sleep(0.001)

    h, w = rgb.shape[:2]
    points = [(w * (0.3 + 0.04 * (k % 10)), h * (0.35 + 0.03 * (k % 7)), 1) for k in range(args.clicks)]
    for k, which in enumerate(order):
        policy = ThreadPolicy(enabled=which != "old", ahead_spare=0 if which == "spare0" else 1)
        engine = AssistEngine(read=rgbs.__getitem__, threads=policy)
        engine.cache = cache
        engine.model, engine.model_key, engine.model_name = m, f"bench:{name}", name
        engine.show("shown.png", None)
        wait(lambda engine=engine: engine.embedding("shown.png") is not None)  # computed once, then the cache's
        got = []
        engine.prompted.connect(lambda r, got=got: got.append(time.perf_counter()))

        def click(point, engine=engine, got=got):
            n, t = len(got), time.perf_counter()
            engine.prompt("shown.png", [point])
            wait(lambda: len(got) > n)
            return (got[-1] - t) * 1000

        nxt = f"next{k}.png"
        floor = _floor_ms()
        stalls = _Stalls()
        t0 = time.perf_counter()
        done = []
        engine.embedded.connect(lambda p, hit, done=done, nxt=nxt: done.append(time.perf_counter()) if p == nxt else None)
        engine.show("shown.png", nxt)  # the next image's embedding starts ahead
        during = []
        for point in points:
            if done:
                break
            ms = click(point)
            if not done:
                during.append(ms)
        wait(lambda done=done: bool(done))
        ahead_s = done[0] - t0
        stalls.stop()
        quiet = [click(p) for p in points[:10]]
        engine.wait(60000)
        print(f"  {which} threads ({name}, cores {policy.cores if policy.enabled else 'torch default'}): "
              f"click -> box while the next image's embedding runs: median "
              f"{statistics.median(during) if during else float('nan'):.1f} ms, max "
              f"{max(during) if during else float('nan'):.1f} ms ({len(during)} clicks); "
              f"that embedding {ahead_s:.1f} s; once it is done {statistics.median(quiet):.1f} ms; "
              f"longest event-loop wait {stalls.max:.0f} ms; floor {floor:.1f} ms; {_load()}", flush=True)
        engine.deleteLater()


def main() -> None:
    import torch

    from models import load_model
    from models.registry import clear_cache
    from models.segmentation.tiny import write_published_size_folder, write_tiny_folder

    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1024, help="the tiny models' input size")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--published", action="store_true", help="also each preset at its published size")
    ap.add_argument("--gui", action="store_true", help="also the window's path (AssistEngine) and its stalls")
    ap.add_argument("--quick", action="store_true",
                    help="skip the timed repeat of the embedding and the plain call (the first embedding is shown)")
    ap.add_argument("--only", action="append", default=[], help="presets to time (default: all)")
    ap.add_argument("--assist-threads", choices=("new", "old", "both", "all"), default="both",
                    help="with --gui: the thread policy of the clicks during an ahead embedding (decision 0127); "
                         "all: also spare0, the embedding ahead on every core and a prompt meanwhile on one")
    ap.add_argument("--rounds", type=int, default=2, help="with --gui: ahead embeddings per policy")
    ap.add_argument("--clicks", type=int, default=15, help="with --gui: most clicks during one ahead embedding")
    ap.add_argument("--gui-only", action="store_true", help="with --gui: skip the engine-level rows")
    ap.add_argument("--folder", action="append", default=[], help="PRESET=PATH of a real weights folder")
    ap.add_argument("--keep-subnormals", action="store_true",
                    help="the baseline of decision 0155: subnormal floats not flushed (x86: ~10x slower "
                         "embeddings of non-square images)")
    args = ap.parse_args()
    if args.keep_subnormals:
        import models.denormals

        models.denormals.flush_denormals = lambda: bool(torch.set_flush_denormal(False))
    else:
        from models.denormals import flush_denormals

        flush_denormals()  # before this thread's first parallel op
    if args.threads:
        torch.set_num_threads(args.threads)
    real = dict(f.split("=", 1) for f in args.folder)
    images = {"1024": _image(False), "large": _image(True)}
    print(f"device {args.device}, torch threads {torch.get_num_threads()}, median of {args.repeats}, subnormals "
          f"{'kept' if args.keep_subnormals else 'flushed'} "
          f"(embedding of a published-size model: 1 run); tiny models' input {args.size}")
    print(f"{'preset':13} {'weights':10} {'image':10} {'embed ms':>9} {'click->box':>10} {'refine':>8} "
          f"{'segment+box':>11} {'plain prompt':>12} {'plain call':>10} {'floor ms':>11} load average")
    presets = args.only or list(PRESETS)
    with tempfile.TemporaryDirectory() as tmp:
        for name in presets:
            family, kind = PRESETS[name]
            kinds = [("real", Path(real[name]))] if name in real else [
                ("tiny", write_tiny_folder(Path(tmp) / name, family, kind, image_size=args.size))]
            if args.published and name not in real:
                kinds.append(("published", None))
            for note, folder in kinds:
                if folder is None:
                    folder = write_published_size_folder(Path(tmp) / f"{name}-published", name)
                m = load_model(name, weights=folder, device=args.device)
                if not (args.gui and args.gui_only):
                    for rgb in images.values():
                        bench_model(name, m, rgb, args, note)
                if args.gui:
                    bench_gui(m, f"{name} {note}", ["a.png", "b.png"],
                              {"a.png": images["1024"], "b.png": images["1024"][::-1].copy()})
                    bench_ahead(m, f"{name} {note}", images["1024"], args)
                clear_cache()
                del m


if __name__ == "__main__":
    main()
