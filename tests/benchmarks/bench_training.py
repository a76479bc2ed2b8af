"""Detector training benchmark (issue 7), printed side by side in one run:

1. throughput (training images/s) of Loupe's `train_detector` against rfdetr's own `RFDETR.train()`
   on the same data and settings (`rfdetr_train_kwargs`, the very arguments Loupe passes); goal:
   ratio >= 0.95. Both runs get the same neutral timing callback; images/s counts the steps after the
   first (warm-up) step, from the end of step 1 to the end of the last step.
2. the GUI event loop's longest stall (10 ms QTimer) while the training panel's supervisor runs a
   real `loupe train detector` child and draws its curves; goal: < 100 ms.

Usage: .venv/bin/python tests/benchmarks/bench_training.py [--train 8] [--resolution 32] [--batch 2]
       [--epochs 1] [--repeats 1] [--data ../shared/data/coco_rbc] [--device cpu]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/ (training_helpers)


def timing_callback():
    from pytorch_lightning import Callback

    class Timer(Callback):
        def __init__(self):
            self.ends: list[tuple[float, int]] = []

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            n = len(batch[1]) if isinstance(batch, (list, tuple)) and len(batch) > 1 else 1
            self.ends.append((time.perf_counter(), n))

        def images_per_s(self) -> float:
            if len(self.ends) < 2:
                return float("nan")
            images = sum(n for _, n in self.ends[1:])
            return images / (self.ends[-1][0] - self.ends[0][0])

    return Timer()


@contextlib.contextmanager
def with_timer(timer):
    """The same way Loupe adds its own callback: to the Trainer rfdetr's build_trainer returns."""
    import rfdetr.training as rt

    original = rt.build_trainer

    def build_trainer(*a, **k):
        trainer = original(*a, **k)
        trainer.callbacks.append(timer)
        return trainer

    rt.build_trainer = build_trainer
    try:
        yield
    finally:
        rt.build_trainer = original


def hparams(args) -> dict:
    from models.training.hparams import detector_defaults

    hp = detector_defaults()
    hp.update(epochs=args.epochs, batch_size=args.batch, grad_accum_steps=1, resolution=args.resolution,
              warmup_epochs=0, early_stopping_patience=0, augment="flips+colour")
    return hp


def run_rfdetr(data: Path, work: Path, hp: dict, device: str) -> float:
    import rfdetr

    from models.training.detector import check_roboflow_layout, rfdetr_train_kwargs

    names = check_roboflow_layout(data)
    work.mkdir(parents=True)
    timer = timing_callback()
    model = rfdetr.RFDETRNano(pretrain_weights=None, num_classes=len(names))
    with with_timer(timer):
        model.train(**rfdetr_train_kwargs(data, work, hp, device))
    return timer.images_per_s()


def run_loupe(data: Path, out: Path, hp: dict, device: str) -> float:
    from models.training.detector import train_detector
    from models.training.outputs import fresh_out_dir
    from models.training.progress import Progress, StopFlag

    out = fresh_out_dir(out)
    timer = timing_callback()
    progress = Progress("jsonl", open(os.devnull, "w"))  # noqa: SIM115 - the child's protocol, discarded
    with with_timer(timer):
        train_detector(data, out, hp, progress, StopFlag(), architecture="rfdetr-nano", device=device)
    return timer.images_per_s()


def event_loop_stall(data: Path, out: Path, args) -> tuple[float, int, str]:
    """Longest gap between 10 ms timer ticks while the panel supervises a real training child."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.jobs.training import training_command
    from desktop.ui.training_panel.panel import TrainingPanel

    app = QApplication.instance() or QApplication([])
    panel = TrainingPanel(None)
    panel.show()
    state = {"end": None, "steps": 0}
    s = panel.supervisor
    s.progress.connect(lambda ev: state.__setitem__("steps", state["steps"] + 1))
    s.finished.connect(lambda ev: state.__setitem__("end", "finished"))
    s.failed.connect(lambda m, t: state.__setitem__("end", "failed: " + m + "\n" + t[-2000:]))
    s.cancelled.connect(lambda o: state.__setitem__("end", "cancelled"))
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    cmd = training_command("detector", str(data), "rfdetr-nano", str(out),
                           {"epochs": args.epochs, "batch_size": args.batch, "grad_accum": 1,
                            "resolution": args.resolution, "device": args.device, "warmup_epochs": 0},
                           stop_file=str(s.stop_file))
    timer.start()
    s.start(cmd)
    while state["end"] is None:
        app.processEvents()
        time.sleep(0.002)
    timer.stop()
    s.wait()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    return (max(gaps) if gaps else float("nan")), state["steps"], state["end"]


def idle_stall(seconds: float = 20.0) -> float:
    """The same timer with no training running: what the machine's scheduler alone costs."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.002)
    timer.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    return max(gaps) if gaps else float("nan")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(HERE.parents[2] / "shared" / "data"))
    p.add_argument("--train", type=int, default=8)
    p.add_argument("--valid", type=int, default=4)
    p.add_argument("--resolution", type=int, default=32)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--skip-stall", action="store_true")
    args = p.parse_args(argv)
    from training_helpers import rbc_subset

    root = Path(tempfile.mkdtemp(prefix="bench-training-"))
    data = rbc_subset(root / "rbc", args.train, Path(args.data), args.valid)
    hp = hparams(args)
    ours, theirs = [], []
    for r in range(args.repeats):  # alternate the order: the machine's load drifts
        runs = [("rfdetr", run_rfdetr), ("loupe", run_loupe)]
        for name, fn in runs if r % 2 == 0 else runs[::-1]:
            ips = fn(data, root / f"{name}-{r}", hp, args.device)
            (ours if name == "loupe" else theirs).append(ips)
            print(f"  run {r + 1} {name:6s}: {ips:.3f} images/s", flush=True)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"\nsettings: RF-DETR Nano, random init, {args.train} train / {args.valid} valid images of coco_rbc, "
          f"{args.resolution} px, batch {args.batch}, {args.epochs} epoch(s), {args.device}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'throughput (images/s)':32s} {'Loupe train_detector':>22s} {'rfdetr train()':>16s} {'ratio':>7s} "
          f"{'goal':>8s}")
    print(f"{'':32s} {a:22.3f} {b:16.3f} {a / b:7.3f} {'>= 0.95':>8s}")
    if not args.skip_stall:
        stall, steps, end = event_loop_stall(data, root / "stall", args)
        print(f"{'event loop longest stall (ms)':32s} {stall * 1000:22.1f} {'':16s} {'':7s} {'< 100':>8s}"
              f"   ({steps} step events, child {end.splitlines()[0]})")
        if end.startswith("failed"):
            print(end)
        idle = idle_stall()
        print(f"{'  same timer, no training (ms)':32s} {idle * 1000:22.1f} {'':16s} {'':7s} {'':>8s}"
              "   (the machine's own scheduling delay)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
