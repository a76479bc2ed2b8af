"""Viewer figures of issue 2, side by side with a plain PIL/pydicom decode loop.

    .venv/bin/python tests/benchmarks/bench_viewer.py [--n-small 10000] [--n-large 8]

1. Folder of 10,000 small PNGs: time from open_folder() to the first image on screen (< 1.0 s).
2. Next image in a prefetched folder of 2048x2048 16-bit PNGs: go_next() to pixmap set (< 50 ms median).
3. Window/level re-render of a 2048x2048 16-bit image: one right-drag move (canvas.window_drag) to
   the new pixmap set (< 10 ms median); also with a synchronous repaint, and a preset change.
Baselines: list+natsort+PIL-decode the first file; PIL / pydicom decode of each image; float numpy
windowing of the same image.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LOUPE_SETTINGS", os.path.join(tempfile.gettempdir(), "loupe-bench-settings.ini"))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def make_small(folder: Path, n: int) -> None:
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (32, 32), dtype=np.uint8))
    img.save(folder / "im0.png")
    data = (folder / "im0.png").read_bytes()
    for i in range(1, n):
        (folder / f"im{i}.png").write_bytes(data)


def make_large(folder: Path, n: int) -> list[Path]:
    from desktop.core.samples import chest_projection

    base = chest_projection(2048)
    paths = []
    for i in range(n):
        arr = np.rint(np.roll(base, 16 * i, axis=1) * 4095).astype(np.uint16)
        p = folder / f"large{i:02d}.png"
        Image.fromarray(arr).save(p, compress_level=1)
        paths.append(p)
    return paths


def pump(app, until, timeout=30.0):
    end = time.perf_counter() + timeout
    while not until() and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.0005)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-small", type=int, default=10_000)
    ap.add_argument("--n-large", type=int, default=8)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from desktop.ui.app import make_app

    app = make_app()
    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow

    extensions.EXTENSIONS = []
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp, "small"), Path(tmp, "large")
        small.mkdir()
        large.mkdir()
        make_small(small, args.n_small)
        large_paths = make_large(large, args.n_large)
        win = MainWindow()
        win.resize(1280, 800)
        win.show()
        app.processEvents()

        # 1. first image of a 10,000-file folder
        t0 = time.perf_counter()
        win.open_folder(small)
        pump(app, lambda: win.current_image() is not None)
        first = time.perf_counter() - t0
        listed_at = time.perf_counter()
        pump(app, lambda: len(win.image_paths()) == args.n_small)
        all_listed = time.perf_counter() - t0
        from natsort import natsorted

        t0 = time.perf_counter()
        names = natsorted(os.listdir(small))
        np.asarray(Image.open(small / names[0]))
        base_first = time.perf_counter() - t0
        rows.append((f"first image, {args.n_small} PNGs", first, base_first, "< 1.0 s"))
        del listed_at

        # 2. next image, prefetched 2048x2048 16-bit
        win.open_folder(large)
        pump(app, lambda: len(win.image_paths()) == args.n_large and win.current_image() is not None)
        times = []
        for _ in range(args.n_large - 1):
            nxt = win.image_paths()[win.image_paths().index(win.current_path()) + 1]
            pump(app, lambda n=nxt: win.cache.get(n) is not None)
            t0 = time.perf_counter()
            win.go_next()
            times.append(time.perf_counter() - t0)
        base = []
        for p in large_paths:
            t0 = time.perf_counter()
            np.asarray(Image.open(p))
            base.append(time.perf_counter() - t0)
        rows.append(("next image 2048^2 16-bit (median)", statistics.median(times), statistics.median(base), "< 50 ms"))

        # pydicom decode of the same pixels as an uncompressed DICOM
        from desktop.core.samples import _dicom

        dcm = Path(tmp, "large.dcm")
        _dicom(dcm, np.asarray(Image.open(large_paths[0])).astype(np.uint16), SOPClassUID="1.2.840.10008.5.1.4.1.1.7",
               PhotometricInterpretation="MONOCHROME2", BitsStored=12, HighBit=11, Modality="OT")
        import pydicom

        dtimes = []
        for _ in range(5):
            t0 = time.perf_counter()
            pydicom.dcmread(dcm).pixel_array  # noqa: B018
            dtimes.append(time.perf_counter() - t0)
        rows.append(("  baseline: pydicom decode 2048^2 16-bit", float("nan"), statistics.median(dtimes), ""))

        # 3. window/level re-render: right-drag moves through the canvas's real signal path, once
        # the workers (prefetch, thumbnails of the 2048^2 images) are idle: the W/L path alone
        queues = (win.cache.pool, win.image_list.model.pool)
        pump(app, lambda: all(job.finished for q in queues for job in q._queued), timeout=120)
        image = win.current_image()
        raw = image.raw(0)
        win.wl.set_window((2000.0, 3000.0))
        wl_times, wl_cpu, painted, settled = [], [], [], []
        win.wl.settled.connect(lambda: settled.append(1))
        for _ in range(41):
            t0, c0 = time.perf_counter(), time.process_time()
            win.canvas.window_drag.emit(3.0, -2.0)
            wl_times.append(time.perf_counter() - t0)
            wl_cpu.append(time.process_time() - c0)
        for _ in range(21):  # the same, until the viewport has repainted (fit to a 1280x800 window)
            t0 = time.perf_counter()
            win.canvas.window_drag.emit(-3.0, 2.0)
            win.canvas.viewport().repaint()
            painted.append(time.perf_counter() - t0)
        win.canvas.window_drag_finished.emit()
        assert len(settled) == 1, "a drag must settle (save settings, update presets) once, at release"
        preset = []
        for k in range(21):
            t0 = time.perf_counter()
            win.wl.set_window((1500.0 + 10 * k, 2000.0 + 20 * k))
            preset.append(time.perf_counter() - t0)
        base = []
        for k in range(21):
            t0 = time.perf_counter()
            lo = 1500.0 + 10 * k - 1000.0 - 10 * k
            np.clip((raw.astype(np.float32) - lo) * (255.0 / (2000 + 20 * k)), 0, 255).astype(np.uint8)
            base.append(time.perf_counter() - t0)
        rows.append(("W/L drag move 2048^2 16-bit (median)", statistics.median(wl_times), statistics.median(base),
                     "< 10 ms"))
        rows.append(("  same, CPU time of the process (not wall)", statistics.median(wl_cpu), float("nan"), ""))
        rows.append(("  same, incl. synchronous repaint", statistics.median(painted), float("nan"), ""))
        rows.append(("  preset/field change (+settings, menu)", statistics.median(preset), float("nan"), ""))
        win.close()

    print(f"\n{'figure':<42}{'Loupe':>12}{'plain loop':>14}   target")
    for name, ours, base, target in rows:
        ours_s = "" if ours != ours else ms(ours)
        base_s = "" if base != base else ms(base)
        print(f"{name:<42}{ours_s:>12}{base_s:>14}   {target}")
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"(all {args.n_small} files listed after {all_listed:.2f} s; plain loop = listdir+natsort+PIL decode "
          "of the first file / PIL or pydicom decode per image / float numpy windowing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
