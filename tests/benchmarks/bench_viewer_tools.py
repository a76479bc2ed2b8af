"""Viewer tools figures (issue 15 part 1), each beside a baseline measured in the same run.

    .venv/bin/python tests/benchmarks/bench_viewer_tools.py

- pixel probe: one reading (desktop.core.measure.probe) on a 3000 x 3000 16-bit CT-like image with
  rescale; baseline: the modality transform of the whole frame (what a naive probe would do);
- region statistics: an ellipse over a quarter of that image (roi_stats); baseline: numpy on a
  full-frame mask;
- cine: the real window playing a 60-frame 512 x 512 16-bit file for 3 s at its own 30 fps (clock
  paced): frames shown, frames skipped, and the longest stall of the event loop meanwhile (a 5 ms
  timer's largest lateness; goal < 100 ms).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _median_ms(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return float(np.median(times))


def main() -> None:
    from measure_helpers import geometry_dicom

    from desktop.core.imaging import read_image
    from desktop.core.measure import probe, roi_stats

    tmp = Path(tempfile.mkdtemp(prefix="loupe-bench-tools-"))
    rng = np.random.default_rng(0)
    big = geometry_dicom(tmp / "big.dcm", rows=3000, cols=3000, pixels=rng.integers(0, 3000, (3000, 3000)),
                         RescaleSlope=1, RescaleIntercept=-1024, PixelSpacing=[0.2, 0.2])
    img = read_image(big)
    print(f"probe, one reading, 3000x3000 CT-like: {_median_ms(lambda: probe(img, 0, 1500.5, 1200.5), 200):.3f} ms"
          f"  (baseline, modality of the whole frame: {_median_ms(lambda: img.modality_values(img.raw(0)), 5):.1f} ms)")
    rect = (750, 750, 1500, 1500)
    yy, xx = np.mgrid[0:3000, 0:3000]

    def naive():
        hu = img.modality_values(img.raw(0)).astype(np.float64)
        mask = ((xx + 0.5 - 1500) / 750) ** 2 + ((yy + 0.5 - 1500) / 750) ** 2 <= 1
        v = hu[mask]
        return v.mean(), v.std()

    print(f"ellipse region over 1500x1500 px: {_median_ms(lambda: roi_stats(img, 0, 'ellipse', rect), 5):.1f} ms"
          f"  (baseline, full-frame numpy mask: {_median_ms(naive, 3):.1f} ms)")
    cine(tmp)


def cine(tmp: Path) -> None:
    from measure_helpers import geometry_dicom
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    folder = tmp / "cine"
    folder.mkdir()
    frames = np.stack([np.random.default_rng(k).integers(0, 4000, (512, 512)) for k in range(60)])
    geometry_dicom(folder / "loop.dcm", rows=512, cols=512, frames=60, modality="XA",
                   sop_class="1.2.840.10008.5.1.4.1.1.12.1", pixels=frames, CineRate=30)
    app = QApplication.instance() or QApplication([])
    from desktop.ui.main_window import MainWindow

    win = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.IniFormat))
    win.resize(1280, 720)
    win.show()
    win.open_folder(folder)
    clock = QElapsedTimer()
    clock.start()
    while win.current_image() is None and clock.elapsed() < 20000:
        app.processEvents()
    settle = time.perf_counter()
    while time.perf_counter() - settle < 2.0:  # thumbnails and panels settle first
        app.processEvents()
    step_ms = _median_ms(lambda: c_step(win), 30)
    worst = [0.0]
    last = [time.perf_counter()]

    def beat():
        now = time.perf_counter()
        worst[0] = max(worst[0], (now - last[0]) * 1000 - 5)
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(beat)
    timer.start(5)
    win.cine.play()
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 3.0:
        app.processEvents()
    win.cine.pause()
    timer.stop()
    c = win.cine
    print(f"one frame step (slider to frame on screen, overlays, probe), median: {step_ms:.1f} ms")
    print(f"cine 512x512x60 16-bit at the file's {c.fps():g} fps for 3 s: {c.shown} frames shown, {c.skipped} "
          f"skipped (due: {c.fps() * 3:.0f}); longest event-loop stall {worst[0]:.0f} ms (goal < 100)")
    win.close()


def c_step(win) -> None:
    win.cine.step(1)
    win.canvas.viewport().repaint()


if __name__ == "__main__":
    main()
