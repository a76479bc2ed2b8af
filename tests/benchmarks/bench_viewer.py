"""Viewer figures: how the viewer scales with the folder (issue 13 part 5), and the figures of
issue 2 with --issue2, each beside its goal and a baseline measured in the same run.

    .venv/bin/python tests/benchmarks/bench_viewer.py [--sizes 10,1000,10000,100000] [--watch 30]
    .venv/bin/python tests/benchmarks/bench_viewer.py --issue2 [--n-small 10000] [--n-large 8]

Scale table, one column per folder size (10, 1,000, 10,000 and 100,000 PNGs of 1024x1024 8-bit,
hard links to 8 distinct files, made once under $TMPDIR/loupe-bench-viewer), the real window with
its panels unless --viewer-only:
- longest stall of the event loop in the first --watch seconds after opening the folder (a 5 ms
  timer's largest lateness; goal < 100 ms), the first image and the whole listing; beside it the
  machine's floor: the same timer in an idle event loop for --floor seconds just before the column
  (on a shared machine the floor alone can pass 100 ms), and the load average after the column;
- the process's one-time start-up (its first window opening a 1-image folder: first imports) is
  measured before the columns and printed apart (--no-warm-up: the first column pays for it);
- --stacks: for the longest stalls, the Python stacks of every thread seen during them
  (faulthandler's watchdog thread, which needs no GIL: a GUI thread waiting for the GIL shows in
  Qt's event loop while another thread's stack says who held it);
- D pressed with the next image prefetched, key to pixmap painted (median; goal < 50 ms and within
  1.5x of the 10-image folder), and with nothing prefetched (decode in the worker);
- a held D: 50 presses at 30 per second (9 in the 10-image folder); time from the last press to the 50th image shown, how many
  images were decoded for it, and whether the list was ever empty;
- the name filter: keys typed 60 ms apart, passes over the list (goal 1, after the pause), and the
  time of one pass plus the relayout (goal < 50 ms); baseline: a bare list comprehension.

Issue 2 figures (--issue2):
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


def issue2(args) -> int:
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
        pump(app, lambda: all(q.idle() for q in queues), timeout=120)
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


# ----- scale table (issue 13 part 5) ---------------------------------------------------------------
SIDE, DISTINCT = 1024, 8
CACHE = Path(tempfile.gettempdir(), "loupe-bench-viewer")


def scale_folder(n: int) -> Path:
    """n PNGs, hard links to DISTINCT real 1024x1024 8-bit images: real decodes, cheap disk."""
    import shutil

    folder = CACHE / f"n{n}"
    if folder.is_dir() and sum(1 for e in os.scandir(folder) if e.name.endswith(".png")) == n:
        shutil.rmtree(folder / ".loupe", ignore_errors=True)  # each run opens a new store
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    from desktop.core.samples import chest_projection

    base = chest_projection(SIDE)
    sources = []
    for k in range(DISTINCT):
        arr = np.rint(np.roll(base, 40 * k, axis=1) * 255).astype(np.uint8)
        src = CACHE / f"src{k}.png"
        Image.fromarray(arr).save(src)
        sources.append(src)
    for i in range(n):
        os.link(sources[i % DISTINCT], folder / f"img{i:06d}.png")
    return folder


class StallMonitor:
    """A 5 ms precise timer; its largest lateness is the longest the event loop was busy."""

    def __init__(self):
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.longest, self.at, self._last, self._t0 = 0.0, 0.0, None, 0.0
        self.running = False
        self.on_tick = None

    def start(self):
        self.longest, self._t0 = 0.0, time.perf_counter()
        self._last = self._t0
        self.stalls: list[tuple[float, float]] = []
        self.running = True
        if self.on_tick is not None:
            self.on_tick(0.0, self._last)  # arms the sampler's watchdog
        self.timer.start()

    def stop(self):
        self.timer.stop()
        self._tick()
        self.running = False

    def _tick(self):
        now = time.perf_counter()
        gap = now - self._last - 0.005
        if gap > self.longest:
            self.longest, self.at = gap, now - self._t0
        if gap > 0.02:
            self.stalls.append((self._last - self._t0, gap))  # (when it began, how long)
        if self.on_tick is not None:
            self.on_tick(gap, self._last)
        self._last = now


class StackSampler:
    """What the process did during the longest stalls: faulthandler's watchdog (a C thread that
    needs no GIL) dumps every thread's Python stack each `threshold` seconds while the monitor's
    5 ms timer has not fired, so a GUI thread busy in C++ or waiting for the GIL is caught too.
    `report()` names the longest stalls with the stacks seen in them (innermost frame first)."""

    def __init__(self, monitor: StallMonitor, threshold: float = 0.04, depth: int = 8):
        import threading

        self.monitor, self.threshold, self.depth = monitor, threshold, depth
        self.gui = f"Thread 0x{threading.main_thread().ident:016x}"
        self.dump = tempfile.TemporaryFile("w+")
        self.episodes: list[tuple[float, float, int, int]] = []  # (start, length, from, to) in the dump
        self._offset = 0
        monitor.on_tick = self._tick

    def _tick(self, gap: float, last: float) -> None:
        import faulthandler

        if gap > self.threshold:
            end = os.fstat(self.dump.fileno()).st_size
            self.episodes.append((last, gap, self._offset, end))
            self._offset = end
        faulthandler.dump_traceback_later(self.threshold, repeat=True, file=self.dump)

    def stop(self) -> None:
        import faulthandler

        faulthandler.cancel_dump_traceback_later()
        self.monitor.on_tick = None

    def _threads(self, text: str) -> list[dict[str, str]]:
        """faulthandler's dumps -> one {thread: "file:line func < ..."} per dump."""
        import re

        dumps: list[dict[str, str]] = []
        current: list[str] | None = None
        for line in text.splitlines():
            if line.startswith("Timeout ("):
                dumps.append({})
                current = None
            elif line.startswith(("Thread 0x", "Current thread 0x")) and dumps:
                current = []
                dumps[-1][line.split(" (")[0].replace("Current thread", "Thread")] = current
            elif current is not None and (m := re.match(r'\s+File "(.*)", line (\d+) in (.*)', line)):
                if len(current) < self.depth:
                    current.append(f"{Path(m.group(1)).name}:{m.group(2)} {m.group(3)}")
        return [{k: " < ".join(v) for k, v in d.items()} for d in dumps]

    def dumped(self) -> list[tuple[float, float, int]]:
        """(start, length, dumps) of each stall: no dump in a stall of several thresholds means the
        watchdog thread itself got no CPU, so the whole process was off the CPU (the machine)."""
        self.dump.flush()
        out = []
        for start, gap, a, b in self.episodes:
            self.dump.seek(a)
            out.append((start, gap, self.dump.read(b - a).count("Timeout (")))
        self.dump.seek(0, os.SEEK_END)
        return out

    def report(self, t0: float, n: int = 4) -> list[str]:
        from collections import Counter

        self.dump.flush()
        lines = []
        for start, gap, a, b in sorted(self.episodes, key=lambda e: -e[1])[:n]:
            self.dump.seek(a)
            dumps = self._threads(self.dump.read(b - a))
            lines.append(f"  stall of {gap * 1000:.0f} ms at {start - t0:.2f} s ({len(dumps)} dumps)")
            for stack, k in Counter(d.get(self.gui, "?") for d in dumps).most_common(2):
                lines.append(f"    GUI x{k}: {stack}")
            busy = Counter(st for d in dumps for t, st in d.items() if t != self.gui and not
                           st.startswith(("threading.py", "thread.py", "queue.py")) and " wait" not in st[:60])
            for stack, k in busy.most_common(3):
                lines.append(f"    other x{k}: {stack}")
        return lines


def run_loop(app, seconds: float, until=None):
    """The real event loop (QEventLoop.exec) for `seconds`, or until `until()` is true."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    if until is not None:
        poll = QTimer()
        poll.timeout.connect(lambda: until() and loop.quit())
        poll.start(2)
    loop.exec()


def idle_floor(app, seconds: float) -> float:
    """The machine's own floor: the longest lateness of the same 5 ms timer in an event loop with
    nothing else to do (no window), over `seconds`, measured just before each column."""
    if seconds <= 0:
        return float("nan")
    monitor = StallMonitor()
    monitor.start()
    run_loop(app, seconds)
    monitor.stop()
    return monitor.longest


def warm_up(app, args) -> dict:
    """The process's one-time start-up: its first window opening its first folder (one image)
    imports the viewer, the store and the panels' modules. Measured apart, so that the columns
    compare folders, not the first import of each module."""
    from desktop.ui.main_window import MainWindow

    folder = scale_folder(1)
    monitor = StallMonitor()
    monitor.start()
    t0 = time.perf_counter()
    win = MainWindow()
    win.resize(1280, 800)
    win.show()
    win.open_folder(folder)
    run_loop(app, 30, until=lambda: win.current_image() is not None)
    first = time.perf_counter() - t0
    run_loop(app, 3)
    monitor.stop()
    win.close()
    win.deleteLater()
    run_loop(app, 0.5)
    return {"stall": monitor.longest, "first": first}


def measure_size(app, n: int, args) -> dict:
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest

    import desktop.ui.extensions as extensions
    from desktop.ui.main_window import MainWindow

    if args.viewer_only:
        extensions.EXTENSIONS = []
    folder = scale_folder(n)
    out: dict = {"floor": idle_floor(app, args.floor)}
    win = MainWindow()
    win.resize(1280, 800)
    win.show()
    run_loop(app, 0.5)
    monitor = StallMonitor()
    sampler = StackSampler(monitor) if args.stacks else None
    monitor.start()
    t0 = time.perf_counter()
    win.open_folder(folder)
    run_loop(app, 30, until=lambda: win.current_image() is not None)
    out["first"] = time.perf_counter() - t0
    run_loop(app, 120, until=lambda: len(win.image_paths()) == n)
    out["listed"] = time.perf_counter() - t0
    run_loop(app, max(args.watch - (time.perf_counter() - t0), 0.0))
    monitor.stop()
    out["stall"], out["stall_at"] = monitor.longest, monitor.at
    out["stall_open"] = max([g for at, g in monitor.stalls if at < 0.001], default=0.0)
    out["stall_later"] = max([g for at, g in monitor.stalls if at >= 0.001], default=0.0)
    if sampler is not None:
        sampler.stop()
        out["stall_cpu"] = max([g for start, g, k in sampler.dumped() if start - monitor._t0 >= 0.001 and
                                (k > 0 or g < 2 * sampler.threshold)], default=0.0)
        print(f"\n{n:,} images: the longest stalls of the first {args.watch:g} s, with the stacks seen during them")
        print("\n".join(sampler.report(t0)) or "  none over the sampler's threshold")
        sys.stdout.flush()

    canvas, panel = win.canvas, win.image_list
    canvas.setFocus()
    start = n // 2 if n >= 200 else 0  # the middle of a large folder: nothing special about row 0
    win.show_image(win.image_paths()[start])

    def painted_after_key():
        t = time.perf_counter()
        QTest.keyClick(canvas, Qt.Key_D)
        run_loop(app, 10, until=lambda: win._wanted is None)
        canvas.viewport().repaint()
        return time.perf_counter() - t

    warm = []
    for _ in range(min(15, n - 1 - start)):
        nxt = panel.neighbour(win.current_path(), +1)
        run_loop(app, 10, until=lambda p=nxt: win.cache.get(p) is not None and win.cache.pool.idle())
        warm.append(painted_after_key())
    out["step"] = statistics.median(warm)
    cold = []
    win.show_image(win.image_paths()[start])
    for _ in range(min(5, n - 1 - start)):
        run_loop(app, 10, until=win.cache.pool.idle)
        win.cache.clear()
        cold.append(painted_after_key())
    out["cold"] = statistics.median(cold)

    # a held key: 50 presses at 30 per second from the middle, nothing prefetched
    held = min(50, n - 1)
    win.show_image(win.image_paths()[start if start + held < n else 0])
    run_loop(app, 10, until=win.cache.pool.idle)
    win.cache.clear()
    begin = panel.model.row_of[win.current_path()]
    target = win.image_paths()[begin + held]
    decoded, empty = [], []
    win.cache.decoded.connect(decoded.append)
    watch = QTimer()
    watch.timeout.connect(lambda: panel.proxy.rowCount() == 0 and empty.append(1))
    watch.start(5)
    presses = [0]

    def press():
        QTest.keyClick(canvas, Qt.Key_D)
        presses[0] += 1
        if presses[0] == held:
            ticker.stop()

    ticker = QTimer()
    ticker.timeout.connect(press)
    ticker.start(33)
    sampler = StackSampler(monitor) if args.stacks else None
    monitor.start()
    t0 = time.perf_counter()
    run_loop(app, 30, until=lambda: presses[0] == held)
    last_press = time.perf_counter()
    run_loop(app, 30, until=lambda: win.current_path() == target)
    out["held"] = time.perf_counter() - last_press
    out["held_ok"] = win.current_path() == target
    run_loop(app, 10, until=win.cache.pool.idle)
    monitor.stop()
    out["held_stall"] = monitor.longest
    if sampler is not None:
        sampler.stop()
        print(f"\n{n:,} images, held D: the longest stalls, with the stacks seen during them")
        print("\n".join(sampler.report(t0)) or "  none over the sampler's threshold")
    out["held_decodes"] = len(set(decoded))
    out["empty"] = bool(empty)
    watch.stop()
    win.cache.decoded.disconnect(decoded.append)

    # the name filter: "img00" typed 60 ms apart, then the pause
    passes0 = panel.proxy.passes
    panel.filter.setFocus()
    monitor.start()
    for ch in "img00":
        QTest.keyClick(panel.filter, ch)
        run_loop(app, 0.06)
    typed_passes = panel.proxy.passes - passes0
    run_loop(app, 2, until=lambda: panel.proxy.passes > passes0)
    run_loop(app, 0.3)
    monitor.stop()
    out["filter_passes_typing"], out["filter_passes"] = typed_passes, panel.proxy.passes - passes0
    out["filter_stall"] = monitor.longest
    times = []
    for needle in ("img0001", "img00", "1", "img000123", "IMG0"):
        panel.filter.setText(needle)
        t = time.perf_counter()
        panel.apply_filter()
        app.processEvents()  # the view's relayout and repaint
        times.append(time.perf_counter() - t)
        panel.filter.setText("")
        app.processEvents()
    out["filter"] = statistics.median(times)
    names = list(panel.model.folded_names)
    base = []
    for needle in ("img0001", "img00", "1", "img000123", "img0"):
        t = time.perf_counter()
        [i for i, name in enumerate(names) if needle in name]  # noqa: B018
        base.append(time.perf_counter() - t)
    out["filter_base"] = statistics.median(base)
    win.close()
    win.deleteLater()
    run_loop(app, 0.5)
    return out


def workers_nice() -> int:
    import desktop.ui.viewer.workers as workers

    return workers.WORKER_NICENESS


def scale(args) -> int:
    from desktop.ui.app import make_app

    app = make_app()
    sizes = [int(s) for s in args.sizes.split(",")]
    t = time.perf_counter()
    for n in sizes:
        scale_folder(n)
    made = time.perf_counter() - t
    im = CACHE / "src0.png"
    base = []
    for _ in range(5):
        t = time.perf_counter()
        np.asarray(Image.open(im))
        base.append(time.perf_counter() - t)
    start = warm_up(app, args) if args.warm_up else None
    results = {}
    for n in sizes:
        results[n] = measure_size(app, n, args)
        results[n]["load"] = os.getloadavg()[0]
    small = results[sizes[0]]

    def row(label, key, fmt=ms, goal=""):
        cells = "".join(f"{fmt(results[n][key]):>14}" for n in sizes)
        print(f"{label:<40}{cells}   {goal}")

    print(f"\n{'images in the folder':<40}" + "".join(f"{n:>14,}" for n in sizes) + "   goal")
    row(f"longest stall, first {args.watch:g} s", "stall", goal="< 100 ms")
    row("  ... of it, open_folder() itself", "stall_open", goal="(the call: store, threads)")
    row("  ... of it, after open_folder() returned", "stall_later", goal="< 100 ms")
    if args.stacks:
        row("  ... of that, the process on the CPU", "stall_cpu", goal="< 100 ms (stalls the watchdog saw)")
    row(f"  floor: idle loop, {args.floor:g} s before", "floor", goal="(the machine, nothing running)")
    row("  ... seconds after opening", "stall_at", lambda v: f"{v:7.1f} s")
    row("first image shown", "first")
    row("all images listed", "listed", lambda v: f"{v:7.2f} s")
    row("D, next prefetched: key to painted", "step", goal="< 50 ms median")
    ratio_label = f"  ... ratio to the {sizes[0]}-image folder"
    print(f"{ratio_label:<40}"
          + "".join(f"{results[n]['step'] / small['step']:>13.2f}x" for n in sizes) + "   <= 1.5x")
    row("D, nothing prefetched (worker decode)", "cold", goal=f"plain PIL decode {ms(statistics.median(base)).strip()}")
    row("held D, 50 presses: last press to shown", "held")
    row("  ... images decoded", "held_decodes", lambda v: f"{v:>8d}", goal="a few, not 50")
    row("  ... list ever empty", "empty", lambda v: "yes" if v else "no", goal="no")
    row("  ... longest stall", "held_stall", goal="< 100 ms")
    row("filter typed: passes while typing", "filter_passes_typing", lambda v: f"{v:>8d}", goal="0 (waits)")
    row("  ... passes after the pause", "filter_passes", lambda v: f"{v:>8d}", goal="1")
    row("  ... longest stall", "filter_stall", goal="< 100 ms")
    row("one filter pass + relayout (median)", "filter", goal="< 50 ms")
    row("  baseline: bare list comprehension", "filter_base")
    row("load average (1 min) after the column", "load", lambda v: f"{v:8.1f}")
    if start is not None:
        print(f"one-time process start-up, apart from the columns: the first window opening a 1-image folder "
              f"stalled the loop {ms(start['stall']).strip()} (first image after {ms(start['first']).strip()}; "
              "the first import of the viewer, store and panel modules"
              + ("; PYTHONDONTWRITEBYTECODE is set, so modules without a current .pyc compile at each start"
                 if os.environ.get("PYTHONDONTWRITEBYTECODE") else "") + ")")
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"{'viewer only' if args.viewer_only else 'with the panels'}; GIL switch interval "
          f"{sys.getswitchinterval() * 1000:g} ms; workers' niceness {workers_nice()}; folders ready in {made:.1f} s")
    if start is None:
        print("(the first column also pays for the process's first window and first folder: the first import "
              "of the viewer, store and panel modules)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10,1000,10000,100000")
    ap.add_argument("--watch", type=float, default=30.0, help="seconds of stall watching after opening")
    ap.add_argument("--viewer-only", action="store_true", help="without the box editor and model panels")
    ap.add_argument("--issue2", action="store_true", help="the figures of issue 2 instead")
    ap.add_argument("--worker-nice", type=int, default=None,
                    help="override the viewer workers' niceness (desktop/ui/viewer/workers.py WORKER_NICENESS)")
    ap.add_argument("--floor", type=float, default=None,
                    help="seconds of an idle event loop measured before each column (default: --watch; 0: none)")
    ap.add_argument("--no-warm-up", dest="warm_up", action="store_false",
                    help="let the first column pay for the process's first window and folder")
    ap.add_argument("--stacks", action="store_true",
                    help="print the Python stacks (GUI thread and others) seen during the longest stalls")
    ap.add_argument("--gil-switch", type=float, default=None,
                    help="seconds; override the workers' GIL switch interval (0.005 = Python's default)")
    ap.add_argument("--n-small", type=int, default=10_000)
    ap.add_argument("--n-large", type=int, default=8)
    args = ap.parse_args()
    if args.floor is None:
        args.floor = args.watch
    import faulthandler

    faulthandler.enable()  # a crash prints every thread's stack (the sampler's watchdog reads them too)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    if args.worker_nice is not None:
        import desktop.ui.viewer.workers as workers

        workers.WORKER_NICENESS = args.worker_nice
    if args.gil_switch is not None:
        import desktop.ui.viewer.workers as workers

        workers.GIL_SWITCH_S = args.gil_switch
        sys.setswitchinterval(args.gil_switch)
    return issue2(args) if args.issue2 else scale(args)


if __name__ == "__main__":
    sys.exit(main())
